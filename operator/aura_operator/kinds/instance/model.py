"""Pydantic models of the AuraInstance custom resource (camelCase on the wire).

`crds/` is the source of truth for the schema; `tests/unit/test_resource_schema.py` keeps these
models and the CRD in agreement. The models are what reconcile code reads: one parse of the
body, typed access after that, and defaults that match the CRD's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from aura_operator.kinds.instance.secret_template import SecretTemplate
from aura_operator.runtime.model import (
    ANNOTATION_FORCE_FINALIZE,
    ANNOTATION_RECONCILE,
    CamelModel,
    DeletionPolicy,
    Intent,
    ObjectRef,
    SecretRef,
    StatusModel,
    default_aura_name,
    object_ref,
)

PLURAL = "aurainstances"
KIND = "AuraInstance"

ManagementPolicy = Literal["Full", "ObserveOnly"]


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
    template: SecretTemplate | None = None


class ScrapeConfigSpec(CamelModel):
    """spec.metrics.scrapeConfig: the Prometheus Operator ScrapeConfig the operator owns."""

    enabled: bool = True
    secret_name: str | None = None
    client_id_key: str = "AURA_CLIENT_ID"
    client_secret_key: str = "AURA_CLIENT_SECRET"  # noqa: S105 - a key name
    scrape_interval: str = "60s"
    labels: dict[str, str] = Field(default_factory=dict)


class MetricsSpec(CamelModel):
    scrape_config: ScrapeConfigSpec | None = None


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
    uptime: str | None = None
    metrics: MetricsSpec | None = None
    instance_id: str | None = None
    deletion_policy: DeletionPolicy | None = None
    deletion_protection: bool | None = None
    management_policy: ManagementPolicy = "Full"
    credentials_secret_ref: SecretRef | None = None
    credential_ref: SecretRef | None = None
    customer_managed_key_ref: SecretRef | None = None
    customer_managed_key_id: str | None = None
    connection_secret: ConnectionSecretSpec = Field(default_factory=ConnectionSecretSpec)


class AppliedSettings(CamelModel):
    """PATCH-only settings as last applied: the API does not always echo them back."""

    vector_optimized: bool | None = None
    graph_analytics_plugin: bool | None = None
    secondaries_count: int | None = None
    cdc_enrichment_mode: str | None = None


class BindingStatus(CamelModel):
    """`status.binding`: the Service Binding Secret (servicebinding.io Provisioned Service)."""

    name: str


class UptimeStatus(CamelModel):
    """status.uptime: the next transition of spec.uptime (uptime.status)."""

    next_transition: str | None = None
    next_action: Literal["Pause", "Resume"] | None = None


class AuraInstanceStatus(StatusModel):
    instance_id: str | None = None
    state: str | None = None
    connection_url: str | None = None
    tenant_id: str | None = None
    type: str | None = None
    memory: str | None = None
    storage: str | None = None
    connection_secret_name: str | None = None
    binding: BindingStatus | None = None
    creation: Intent | None = None
    upgrade: Intent | None = None
    applied: AppliedSettings | None = None
    metrics_integration_url: str | None = None
    uptime: UptimeStatus | None = None
    drift_interval_seconds: int | None = None
    observed_at: str | None = None


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
            ref=object_ref(body),
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


def wanted_name(obj: AuraInstance) -> str | None:
    """The Aura name the operator keeps this object's instance at (None: it keeps none). The
    derived default is for instances the operator creates; an adopted instance keeps its own
    name unless spec.name asks for another (as reconcile's PATCH does)."""
    if obj.observe_only:
        return None
    return obj.spec.name if obj.spec.instance_id else obj.aura_name
