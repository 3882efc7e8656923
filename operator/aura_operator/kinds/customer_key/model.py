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
from typing import Any, Literal

from pydantic import BaseModel

from aura_operator.runtime.model import (
    CamelModel,
    DeletionPolicy,
    Intent,
    ObjectRef,
    SecretRef,
    StatusModel,
    default_aura_name,
    object_ref,
)

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
    deletion_protection: bool | None = None
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
            ref=object_ref(body),
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
