"""Pydantic model of the AuraSnapshot custom resource (camelCase on the wire).

`crds/` is the source of truth for the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from aura_operator.runtime.model import (
    CamelModel,
    Intent,
    ObjectRef,
    SecretRef,
    StatusModel,
    object_ref,
)

SNAPSHOT_PLURAL = "aurasnapshots"
SNAPSHOT_KIND = "AuraSnapshot"


class NameRef(CamelModel):
    name: str


# ------------------------------------------------------------------------- AuraSnapshot


class AuraSnapshotSpec(CamelModel):
    instance_ref: NameRef | None = None
    instance_id: str | None = None
    credential_ref: SecretRef | None = None
    credentials_secret_ref: SecretRef | None = None


class AuraSnapshotStatus(StatusModel):
    snapshot_id: str | None = None
    instance_id: str | None = None
    profile: str | None = None
    state: str | None = None
    taken_at: str | None = None
    exportable: bool | None = None
    request: Intent | None = None


class AuraSnapshot(BaseModel):
    ref: ObjectRef
    spec: AuraSnapshotSpec
    status: AuraSnapshotStatus
    raw_spec: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuraSnapshot:
        spec = dict(body.get("spec") or {})
        return cls(
            ref=object_ref(body),
            spec=AuraSnapshotSpec.model_validate(spec),
            status=AuraSnapshotStatus.model_validate(dict(body.get("status") or {})),
            raw_spec=spec,
        )
