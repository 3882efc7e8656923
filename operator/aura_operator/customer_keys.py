"""The AuraCustomerManagedKey custom resource, and how an AuraInstance uses one at creation.

A key (docs/aura-api.md §3.4) is created once (intent first, as for instances), is `pending` and
then
`ready`; only a ready key of the instance's tenant, type, cloud and region can encrypt a new
instance. `AuraInstance.spec.customerManagedKeyRef` (a key object in the same namespace) or
`spec.customerManagedKeyId` (an Aura key id) names it, at creation only (CEL, and
`validation.check_fixed_fields` at run time); `key_for_create` holds the create until the key is
ready and refuses, before any POST, a key that cannot encrypt this instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from aura_operator.aura import AuraNotFound
from aura_operator.passes import Pass
from aura_operator.resource import (
    CamelModel,
    DeletionPolicy,
    Intent,
    ObjectRef,
    SecretRef,
    StatusModel,
    default_aura_name,
)
from aura_operator.validation import SpecProblem

PLURAL = "auracustomermanagedkeys"
KIND = "AuraCustomerManagedKey"
KEY_TYPES = ("enterprise-db", "enterprise-ds")


class KeySpec(CamelModel):
    name: str | None = None
    key_id: str = ""
    cloud_provider: str = ""
    region: str = ""
    instance_type: Literal["enterprise-db", "enterprise-ds"] = "enterprise-db"
    tenant_id: str | None = None
    customer_managed_key_id: str | None = None
    deletion_policy: DeletionPolicy | None = None
    credential_ref: SecretRef | None = None
    credentials_secret_ref: SecretRef | None = None


class KeyStatus(StatusModel):
    customer_managed_key_id: str | None = None
    state: str | None = None
    tenant_id: str | None = None
    creation: Intent | None = None


class AuraCustomerManagedKey(BaseModel):
    ref: ObjectRef
    spec: KeySpec
    status: KeyStatus
    deleting: bool = False

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuraCustomerManagedKey:
        meta = body.get("metadata") or {}
        return cls(
            ref=ObjectRef(
                namespace=meta.get("namespace", ""),
                name=meta.get("name", ""),
                uid=meta.get("uid", ""),
                generation=int(meta.get("generation") or 0),
                resource_version=meta.get("resourceVersion"),
            ),
            spec=KeySpec.model_validate(dict(body.get("spec") or {})),
            status=KeyStatus.model_validate(dict(body.get("status") or {})),
            deleting=bool(meta.get("deletionTimestamp")),
        )

    @property
    def aura_name(self) -> str:
        return self.spec.name or default_aura_name(self.ref.namespace, self.ref.name)

    @property
    def aura_id(self) -> str | None:
        """The key in Aura: adopted (spec) or created (status)."""
        return self.spec.customer_managed_key_id or self.status.customer_managed_key_id

    @property
    def ready(self) -> bool:
        c = self.status.condition("Ready")
        return c is not None and c.status == "True" and self.status.state == "ready"


# ------------------------------------------------------------ use by an instance


@dataclass(frozen=True)
class KeyWait:
    """The key is not ready yet: the create waits (Synced says why)."""

    message: str


def _mismatch(
    field: str, what: str, key: tuple[str, str, str], spec: tuple[str, str, str]
) -> SpecProblem | None:
    if all(key) and key != spec:
        return SpecProblem(
            field,
            f"{field}: {what} is for {key[0]} in {key[1]}/{key[2]}, but the instance is "
            f"{spec[0]} in {spec[1]}/{spec[2]}; a key encrypts only instances of its own type, "
            "cloud and region",
        )
    return None


async def key_for_create(p: Pass, tenant_id: str) -> str | KeyWait | SpecProblem | None:
    """The Aura id of the key the new instance is encrypted with (None: no key)."""
    spec = p.obj.spec
    ref, key_id = spec.customer_managed_key_ref, spec.customer_managed_key_id
    if ref is None and not key_id:
        return None
    field = "spec.customerManagedKeyRef" if ref is not None else "spec.customerManagedKeyId"
    if spec.type not in KEY_TYPES:
        return SpecProblem(
            field,
            f"{field}: customer-managed keys are only available for type "
            f"{' and '.join(KEY_TYPES)} (spec.type is {spec.type})",
        )
    wanted = (spec.type or "", spec.cloud_provider or "", spec.region or "")
    if ref is not None:
        body = await p.ctx.kube.get_object(PLURAL, p.obj.ref.namespace, ref.name)
        if body is None:
            return KeyWait(
                f"waiting for AuraCustomerManagedKey {ref.name} ({field}): it does not exist"
            )
        key = AuraCustomerManagedKey.from_body(body)
        what = f"AuraCustomerManagedKey {ref.name}"
        problem = _mismatch(
            field, what, (key.spec.instance_type, key.spec.cloud_provider, key.spec.region), wanted
        )
        if problem is not None:
            return problem
        if not key.ready or not key.aura_id:
            state = key.status.state or "not created yet"
            return KeyWait(f"waiting for {what} to be Ready before creating (it is {state})")
        if key.status.tenant_id and key.status.tenant_id != tenant_id:
            return SpecProblem(
                field,
                f"{field}: {what} belongs to tenant {key.status.tenant_id}, the instance to "
                f"tenant {tenant_id}",
            )
        return key.aura_id
    assert key_id is not None
    try:
        found = await p.aura.get_customer_managed_key(key_id)
    except AuraNotFound:
        return SpecProblem(
            field,
            f"{field}: key {key_id} does not exist in Aura or is not visible to this credential",
        )
    problem = _mismatch(
        field,
        f"key {key_id}",
        (found.instance_type or "", found.cloud_provider or "", found.region or ""),
        wanted,
    )
    if problem is not None:
        return problem
    if found.tenant_id != tenant_id:
        return SpecProblem(
            field, f"{field}: key {key_id} belongs to tenant {found.tenant_id}, not {tenant_id}"
        )
    if not found.is_ready:
        return KeyWait(
            f"waiting for key {key_id} to be ready before creating (it is {found.status})"
        )
    return key_id
