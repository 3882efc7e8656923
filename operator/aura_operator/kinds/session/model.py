"""The AuraGraphAnalyticsSession custom resource (camelCase on the wire; `crds/` is the schema).

A session is attached (`spec.instanceRef`: an AuraInstance in the same namespace) or standalone
(`tenantId`, `cloudProvider`, `region`); its size is `spec.memory`, or the size Aura recommends
for `spec.sizing` (asked once, kept in `status.sizing`). Aura's get-or-create is keyed by name
and project, so the name (default `<namespace>-<name>`, at most 30 characters) is what a lost
answer is found by.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from aura_operator.aura.sessions import parse_duration
from aura_operator.runtime.model import (
    CamelModel,
    Intent,
    ObjectRef,
    SecretRef,
    StatusModel,
    default_aura_name,
    object_ref,
)

PLURAL = "auragraphanalyticssessions"
KIND = "AuraGraphAnalyticsSession"
#: "If not specified, defaults to 1 hour" (the API's `ttl`); sent explicitly, so that what the
#: operator compares is what Aura holds.
DEFAULT_TTL = timedelta(hours=1)


class Phase:
    """`status.phase`, Aura's session status (`Creating` until Aura names one)."""

    CREATING = "Creating"
    READY = "Ready"
    EXPIRED = "Expired"
    FAILED = "Failed"


class NameRef(CamelModel):
    name: str


class SizingSpec(CamelModel):
    node_count: int
    relationship_count: int
    algorithm_categories: list[str] = Field(default_factory=list)


class SessionSpec(CamelModel):
    name: str | None = None
    memory: str | None = None
    sizing: SizingSpec | None = None
    ttl: str | None = None
    instance_ref: NameRef | None = None
    tenant_id: str | None = None
    cloud_provider: str | None = None
    region: str | None = None
    renew: Literal["OnExpiry", "Never"] = "Never"
    credential_ref: SecretRef | None = None
    credentials_secret_ref: SecretRef | None = None


class SizingStatus(CamelModel):
    """What the sizing endpoint answered, and for which input (asked again only if it changes)."""

    node_count: int
    relationship_count: int
    algorithm_categories: list[str] = Field(default_factory=list)
    estimated_memory: str | None = None
    recommended_size: str

    def answers(self, sizing: SizingSpec) -> bool:
        return (self.node_count, self.relationship_count, sorted(self.algorithm_categories)) == (
            sizing.node_count,
            sizing.relationship_count,
            sorted(sizing.algorithm_categories),
        )


class SessionStatus(StatusModel):
    session_id: str | None = None
    phase: str | None = None
    host: str | None = None
    expiry_date: str | None = None
    memory: str | None = None
    ttl: str | None = None
    tenant_id: str | None = None
    instance_id: str | None = None
    sizing: SizingStatus | None = None
    connection_secret_name: str | None = None
    creation: Intent | None = None
    previous_session_id: str | None = None
    renewals: int | None = None


class AuraGraphAnalyticsSession(BaseModel):
    ref: ObjectRef
    spec: SessionSpec
    status: SessionStatus

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuraGraphAnalyticsSession:
        return cls(
            ref=object_ref(body),
            spec=SessionSpec.model_validate(dict(body.get("spec") or {})),
            status=SessionStatus.model_validate(dict(body.get("status") or {})),
        )

    @property
    def aura_name(self) -> str:
        return self.spec.name or default_aura_name(self.ref.namespace, self.ref.name)

    @property
    def secret_name(self) -> str:
        return f"{self.ref.name}-session"

    @property
    def ttl(self) -> timedelta | None:
        """The inactivity timeout asked for (None: spec.ttl unreadable)."""
        return DEFAULT_TTL if self.spec.ttl is None else parse_duration(self.spec.ttl)
