"""Pydantic models of the AuraInstance custom resource (camelCase on the wire).

`crds/` is the source of truth for the schema; `tests/unit/test_resource_schema.py` keeps these
models and the CRD in agreement. The models are what reconcile code reads: one parse of the
body, typed access after that, and defaults that match the CRD's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "aura-operator.dev"
VERSION = "v1alpha1"
PLURAL = "aurainstances"
KIND = "AuraInstance"

ANNOTATION_RECONCILE = f"{GROUP}/reconcile"
ANNOTATION_FORCE_FINALIZE = f"{GROUP}/force-finalize"

DeletionPolicy = Literal["Delete", "Retain"]
ManagementPolicy = Literal["Full", "ObserveOnly"]


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class SecretRef(CamelModel):
    name: str


class SourceSpec(CamelModel):
    """Clone from an instance (its latest data, or one of its snapshots), or from an
    AuraSnapshot in this namespace (`snapshotRef`)."""

    instance_id: str | None = None
    snapshot_id: str | None = None
    snapshot_ref: SecretRef | None = None


class ConnectionSecretSpec(CamelModel):
    name: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class AuraInstanceSpec(CamelModel):
    name: str | None = None
    tenant_id: str | None = None
    type: str | None = None
    cloud_provider: str | None = None
    region: str | None = None
    version: str = "5"
    source: SourceSpec | None = None
    memory: str | None = None
    storage: str | None = None
    vector_optimized: bool | None = None
    graph_analytics_plugin: bool | None = None
    secondaries_count: int | None = None
    cdc_enrichment_mode: str | None = None
    paused: bool = False
    instance_id: str | None = None
    deletion_policy: DeletionPolicy | None = None
    deletion_protection: bool | None = None
    management_policy: ManagementPolicy = "Full"
    credentials_secret_ref: SecretRef | None = None
    credential_ref: SecretRef | None = None
    customer_managed_key_ref: SecretRef | None = None
    customer_managed_key_id: str | None = None
    connection_secret: ConnectionSecretSpec = Field(default_factory=ConnectionSecretSpec)


class Condition(CamelModel):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str = ""
    last_transition_time: str
    observed_generation: int | None = None


class StatusModel(CamelModel):
    """What every kind's status has: the generation last fully applied, when the next attempt
    after an error is due, and the conditions."""

    observed_generation: int | None = None
    next_attempt_at: str | None = None
    conditions: list[Condition] = Field(default_factory=list)

    def condition(self, type_: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == type_), None)


class CreationIntent(CamelModel):
    """Recorded on the object before the create request (see reconcile's create-once)."""

    name: str
    requested_at: datetime
    unanswered_at: datetime | None = None
    discarded_ids: list[str] = Field(default_factory=list)


class UpgradeIntent(CamelModel):
    """Recorded before `POST /instances/{id}/upgrade`, so that it is sent once (upgrade.py)."""

    requested_at: datetime
    unanswered_at: datetime | None = None


class AppliedSettings(CamelModel):
    """PATCH-only settings as last applied: the API does not always echo them back."""

    vector_optimized: bool | None = None
    graph_analytics_plugin: bool | None = None
    secondaries_count: int | None = None
    cdc_enrichment_mode: str | None = None


class AuraInstanceStatus(StatusModel):
    instance_id: str | None = None
    state: str | None = None
    connection_url: str | None = None
    tenant_id: str | None = None
    type: str | None = None
    memory: str | None = None
    storage: str | None = None
    connection_secret_name: str | None = None
    creation: CreationIntent | None = None
    upgrade: UpgradeIntent | None = None
    applied: AppliedSettings | None = None
    drift_interval_seconds: int | None = None


class ObjectRef(BaseModel):
    """Who the object is: enough to patch it, own Secrets and name events."""

    namespace: str
    name: str
    uid: str
    generation: int = 0
    resource_version: str | None = None


class AuraInstance(BaseModel):
    """One parsed AuraInstance body."""

    ref: ObjectRef
    spec: AuraInstanceSpec
    status: AuraInstanceStatus
    annotations: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    deleting: bool = False

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuraInstance:
        meta = body.get("metadata") or {}
        return cls(
            ref=ObjectRef(
                namespace=meta.get("namespace", ""),
                name=meta.get("name", ""),
                uid=meta.get("uid", ""),
                generation=int(meta.get("generation") or 0),
                resource_version=meta.get("resourceVersion"),
            ),
            spec=AuraInstanceSpec.model_validate(dict(body.get("spec") or {})),
            status=AuraInstanceStatus.model_validate(dict(body.get("status") or {})),
            annotations=dict(meta.get("annotations") or {}),
            labels=dict(meta.get("labels") or {}),
            deleting=bool(meta.get("deletionTimestamp")),
        )

    @property
    def aura_name(self) -> str:
        """The Aura display name: spec.name, else derived from namespace and name."""
        return self.spec.name or default_aura_name(self.ref.namespace, self.ref.name)

    @property
    def connection_secret_name(self) -> str:
        return self.spec.connection_secret.name or f"{self.ref.name}-connection"

    @property
    def instance_id(self) -> str | None:
        """The instance this object manages: adopted (spec) or created (status)."""
        return self.spec.instance_id or self.status.instance_id

    @property
    def observe_only(self) -> bool:
        return self.spec.management_policy == "ObserveOnly"

    @property
    def skip(self) -> bool:
        return self.annotations.get(ANNOTATION_RECONCILE, "").strip().lower() == "skip"

    @property
    def force_finalize(self) -> bool:
        return self.annotations.get(ANNOTATION_FORCE_FINALIZE, "").strip().lower() == "true"


_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")


def default_aura_name(namespace: str, name: str) -> str:
    """`<namespace>-<name>`, at most 30 characters (Aura's limit), stable and readable.

    Long pairs are shortened with a hash suffix so that two objects never share a name by
    truncation alone.
    """
    full = _UNSAFE.sub("-", f"{namespace}-{name}").strip("-") or "aura"
    if len(full) <= 30:
        return full
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:6]
    return f"{full[:23].rstrip('-')}-{digest}"
