"""Pydantic model of the AuraRestore custom resource (camelCase on the wire), its phases, and
`ActiveRestores`: which AuraInstances a restore acts on now (the instance's loop holds off).

`crds/` is the source of truth for the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel

from aura_operator.kinds.snapshot.model import NameRef
from aura_operator.runtime.model import (
    CamelModel,
    Intent,
    ObjectRef,
    StatusModel,
    object_ref,
)

RESTORE_PLURAL = "aurarestores"
RESTORE_KIND = "AuraRestore"

Phase = Literal["Pending", "SnapshottingTarget", "Restoring", "Overwriting", "Completed", "Failed"]
#: Phases in which an AuraRestore is acting on its target: the target's own loop holds off.
ACTIVE_PHASES = frozenset({"SnapshottingTarget", "Restoring", "Overwriting"})
FINAL_PHASES = frozenset({"Completed", "Failed"})


# -------------------------------------------------------------------------- AuraRestore


class RestoreSource(CamelModel):
    instance_ref: NameRef | None = None
    instance_id: str | None = None
    snapshot_id: str | None = None


class AuraRestoreSpec(CamelModel):
    instance_ref: NameRef
    snapshot_ref: NameRef | None = None
    snapshot_id: str | None = None
    source: RestoreSource | None = None
    snapshot_first: bool = True


class AuraRestoreStatus(StatusModel):
    phase: Phase | None = None
    instance_id: str | None = None
    snapshot_id: str | None = None
    source_instance_id: str | None = None
    safety_snapshot_id: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    safety_snapshot: Intent | None = None
    restore: Intent | None = None

    @property
    def overwrite(self) -> bool:
        """Overwrite from another instance (POST .../overwrite), not restore in place."""
        return self.source_instance_id is not None


class AuraRestore(BaseModel):
    ref: ObjectRef
    spec: AuraRestoreSpec
    status: AuraRestoreStatus

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuraRestore:
        return cls(
            ref=object_ref(body),
            spec=AuraRestoreSpec.model_validate(dict(body.get("spec") or {})),
            status=AuraRestoreStatus.model_validate(dict(body.get("status") or {})),
        )
