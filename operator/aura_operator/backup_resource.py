"""Pydantic models of the AuraSnapshot and AuraRestore custom resources (camelCase on the wire).

They live apart from resource.py (AuraInstance) because they are two kinds with a life of their
own: an AuraSnapshot takes one on-demand snapshot, an AuraRestore runs once. `crds/` is the
source of truth for the schema; the models are what the decisions (snapshots.py, restores.py)
read, parsed once per pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from aura_operator.resource import CamelModel, ObjectRef, SecretRef, StatusModel
from aura_operator.runtime.model import Intent, object_ref

SNAPSHOT_PLURAL = "aurasnapshots"
SNAPSHOT_KIND = "AuraSnapshot"
RESTORE_PLURAL = "aurarestores"
RESTORE_KIND = "AuraRestore"

Phase = Literal["Pending", "SnapshottingTarget", "Restoring", "Overwriting", "Completed", "Failed"]
#: Phases in which an AuraRestore is acting on its target: the target's own loop holds off.
ACTIVE_PHASES = frozenset({"SnapshottingTarget", "Restoring", "Overwriting"})
FINAL_PHASES = frozenset({"Completed", "Failed"})


class NameRef(CamelModel):
    name: str


# ------------------------------------------------------------------------- AuraSnapshot


class AuraSnapshotSpec(CamelModel):
    instance_ref: NameRef | None = None
    instance_id: str | None = None
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


class ActiveRestores:
    """Which AuraInstances an AuraRestore is acting on now, in this process (by namespace and
    name): the instance's own loop reads it so that its drift correction and changes wait, and
    shows Ready=False Restoring/Overwriting meanwhile. Kept in memory by design: after a
    restart each AuraRestore's first pass registers again, and Aura's own `restoring` /
    `overwriting` state covers the time in between."""

    def __init__(self) -> None:
        self._by_target: dict[tuple[str, str], tuple[str, str]] = {}

    def set(self, namespace: str, instance: str, restore: str, phase: str) -> None:
        self._by_target[(namespace, instance)] = (restore, phase)

    def clear(self, namespace: str, instance: str, restore: str) -> None:
        if self._by_target.get((namespace, instance), ("",))[0] == restore:
            del self._by_target[(namespace, instance)]

    def active(self, namespace: str, instance: str) -> tuple[str, str] | None:
        """(AuraRestore name, phase) acting on this AuraInstance, or None."""
        return self._by_target.get((namespace, instance))
