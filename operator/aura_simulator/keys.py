"""Customer-managed keys (docs/aura-api.md §3.4): the record, its API shapes and the rules of its
body.

A key is created `pending` and becomes `ready` after `durations.key_pending` (scaled); only a
ready key of the same tenant, cloud, region and instance type can encrypt a new instance, and a
key that a live instance uses cannot be deleted (400 `encryption-key-is-active`). The account's
keys live in `SimState.keys`, beside its instances, so reset and `--state FILE` cover them; the
routes are in key_routes.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from aura_simulator.config import TenantConfig
from aura_simulator.errors import ApiError, bad_request
from aura_simulator.model import iso
from aura_simulator.validation import CLOUD_PROVIDERS, check_name

KEY_INSTANCE_TYPES = ("enterprise-db", "enterprise-ds")
KEY_FIELDS = frozenset({"key_id", "name", "instance_type", "region", "tenant_id", "cloud_provider"})


class SimKey(BaseModel):
    id: str
    name: str
    tenant_id: str
    cloud_provider: str
    region: str
    instance_type: str
    key_id: str
    created: float
    #: Set by an admin to pin a status; otherwise `pending` then `ready` by the clock.
    forced_status: str | None = None

    def status(self, now: float, pending: float) -> str:
        if self.forced_status is not None:
            return self.forced_status
        return "pending" if now < self.created + pending else "ready"

    def to_summary(self) -> dict[str, Any]:
        """A list item: id, name and tenant only (SPEC)."""
        return {"id": self.id, "name": self.name, "tenant_id": self.tenant_id}

    def to_api(self, status: str) -> dict[str, Any]:
        # The SPEC's example carries both `type` and `instance_type`, with the same value.
        return {
            "id": self.id,
            "name": self.name,
            "created": iso(self.created),
            "cloud_provider": self.cloud_provider,
            "key_id": self.key_id,
            "region": self.region,
            "type": self.instance_type,
            "instance_type": self.instance_type,
            "tenant_id": self.tenant_id,
            "status": status,
        }


def key_not_found(key_id: str) -> ApiError:
    return ApiError(404, f"Encryption Key not found: {key_id}", "encryption-key-not-found")


def validate_key_body(tenant: TenantConfig, body: Mapping[str, Any]) -> dict[str, str]:
    """The fields of a create body, every one required; 400 naming the field otherwise."""
    for field in body:
        if field not in KEY_FIELDS:
            raise bad_request(f"unknown field {field}", field)
    fields: dict[str, str] = {}
    for field in sorted(KEY_FIELDS):
        value = body.get(field)
        if not isinstance(value, str) or not value:
            raise bad_request(f"{field} is required", field)
        fields[field] = value
    check_name(fields["name"])
    if fields["instance_type"] not in KEY_INSTANCE_TYPES:
        allowed = ", ".join(KEY_INSTANCE_TYPES)
        raise bad_request(f"instance_type must be one of: {allowed}", "instance_type")
    if fields["cloud_provider"] not in CLOUD_PROVIDERS:
        allowed = ", ".join(CLOUD_PROVIDERS)
        raise bad_request(f"cloud_provider must be one of: {allowed}", "cloud_provider")
    regions = sorted(
        {
            c.region
            for c in tenant.instance_configurations
            if c.cloud_provider == fields["cloud_provider"] and c.type == fields["instance_type"]
        }
    )
    if fields["region"] not in regions:
        offered = ", ".join(regions) or "(none for this cloud and type)"
        raise bad_request(f"region must be one of: {offered}", "region")
    return fields


def check_key_for_instance(
    key: SimKey | None,
    key_ref: str,
    *,
    status: str,
    tenant_id: str,
    instance_type: str,
    cloud_provider: str,
    region: str,
) -> None:
    """A create's `customer_managed_key_id` must name a ready key made for that instance."""
    field = "customer_managed_key_id"
    if key is None or key.tenant_id != tenant_id:
        raise bad_request(f"Encryption Key not found: {key_ref}", field)
    if status != "ready":
        # UNCONFIRMED message; the SPEC says to poll until `ready` before using a key.
        raise bad_request(f"Encryption Key {key_ref} is not ready (status {status})", field)
    wanted = (key.instance_type, key.cloud_provider, key.region)
    if (instance_type, cloud_provider, region) != wanted:
        raise bad_request(
            f"Encryption Key {key_ref} is for {wanted[0]} instances in {wanted[1]} {wanted[2]}",
            field,
        )
