"""Where a clone comes from: `spec.source` of an AuraInstance, resolved before the create.

`source.instanceId` (+ `snapshotId`) is sent as it is; `source.snapshotRef` names an AuraSnapshot
in the same namespace, whose status gives the instance and snapshot ids. Until that snapshot is
Completed the create waits (Ready=False Pending); a failed or non-exportable snapshot is an
InvalidSpec naming the field, and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from aura_operator.aura import SnapshotStatus
from aura_operator.kinds.instance.instance_pass import InstancePass
from aura_operator.kinds.snapshot.model import SNAPSHOT_PLURAL, AuraSnapshot
from aura_operator.runtime.model import SpecProblem


@dataclass(frozen=True)
class CloneSource:
    instance_id: str | None
    snapshot_id: str | None


@dataclass(frozen=True)
class Wait:
    """Not yet: the referenced snapshot is not there or not done."""

    message: str


async def clone_source(p: InstancePass) -> CloneSource | Wait | SpecProblem:
    """The ids to send as source_instance_id / source_snapshot_id (None: not a clone)."""
    source = p.obj.spec.source
    if source is None:
        return CloneSource(None, None)
    if source.snapshot_ref is None:
        return CloneSource(source.instance_id, source.snapshot_id)
    name = source.snapshot_ref.name
    field = "spec.source.snapshotRef.name"
    body = await p.ctx.kube.get_object(SNAPSHOT_PLURAL, p.obj.ref.namespace, name)
    if body is None:
        return Wait(f"waiting for AuraSnapshot {name} ({field}) to exist")
    snap = AuraSnapshot.from_body(body).status
    if snap.state in (SnapshotStatus.FAILED, SnapshotStatus.CANCELLED):
        return SpecProblem(
            field, f"{field}: AuraSnapshot {name} is {snap.state}; clone from a Completed snapshot"
        )
    if not snap.snapshot_id or not snap.instance_id or snap.state != SnapshotStatus.COMPLETED:
        return Wait(f"waiting for AuraSnapshot {name} ({field}) to be Completed")
    if snap.exportable is False:
        return SpecProblem(
            field,
            f"{field}: snapshot {snap.snapshot_id} (AuraSnapshot {name}) is not exportable; "
            "Aura clones only from exportable snapshots",
        )
    return CloneSource(snap.instance_id, snap.snapshot_id)
