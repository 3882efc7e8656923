"""What an AuraRestore will do, decided before anything is sent, and how it ends.

`plan` checks the request against Aura (the snapshot exists, is Completed, belongs to the
target or comes through `source`, is exportable; the target is not smaller than the source)
and returns a `Plan`, a wait (Pending) or a terminal refusal (`fail`, phase Failed). The
phase/condition vocabulary of AuraRestore lives here too, shared with reconcile.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aura_operator.aura import AuraClient, AuraNotFound, Instance, SnapshotStatus
from aura_operator.kinds.restore.model import AuraRestore
from aura_operator.kinds.snapshot.lookup import BackupPass, ready, target_instance
from aura_operator.kinds.snapshot.model import SNAPSHOT_PLURAL, AuraSnapshot
from aura_operator.runtime.conditions import SyncedReason, now_iso
from aura_operator.runtime.outcome import Outcome, synced_false, synced_ok

#: Synced reason of a restore that Aura started but could not finish (snapshot or load failed).
RESTORE_FAILED = "RestoreFailed"
IN_PROGRESS = frozenset({"restoring", "overwriting"})


class RestoreReason:
    """Ready reasons of an AuraRestore: its phase (docs/backups.md lists them)."""

    PENDING = "Pending"
    SNAPSHOTTING = "SnapshottingTarget"
    RESTORING = "Restoring"
    OVERWRITING = "Overwriting"
    COMPLETED = "Completed"
    FAILED = "Failed"


@dataclass(frozen=True)
class Plan:
    snapshot_id: str | None
    source_instance_id: str | None

    @property
    def mode(self) -> str:
        return RestoreReason.OVERWRITING if self.source_instance_id else RestoreReason.RESTORING


def gb(size: str | None) -> int:
    try:
        return int((size or "").upper().removesuffix("GB"))
    except ValueError:
        return 0


def wait(message: str, requeue: float, reason: str = RestoreReason.PENDING) -> Outcome:
    """Not done yet; look again after `requeue`. A wait before anything was sent is in phase
    Pending (the other phases are written with the intent that starts them)."""
    return Outcome(
        conditions=[ready("False", reason, message), synced_ok(message)],
        status={"phase": RestoreReason.PENDING} if reason == RestoreReason.PENDING else {},
        requeue_after=requeue,
    )


def fail(
    bp: BackupPass, message: str, reason: str = SyncedReason.INVALID_SPEC, **status: Any
) -> Outcome:
    bp.events.event("Warning", reason, message)
    return Outcome(
        conditions=[ready("False", RestoreReason.FAILED, message), synced_false(reason, message)],
        status={"phase": "Failed", "completedAt": now_iso(bp.now), **status},
        spec_applied=True,
    )


async def plan(
    r: AuraRestore, bp: BackupPass, aura: AuraClient, instance: Instance
) -> Plan | Outcome:
    spec, poll = r.spec, bp.ctx.settings.poll_interval
    given = [x for x in (spec.snapshot_ref, spec.snapshot_id, spec.source) if x]
    if len(given) != 1:
        return fail(bp, "spec needs exactly one of snapshotRef, snapshotId and source")
    if spec.source is None:
        if spec.snapshot_ref is not None:
            field, ref = "spec.snapshotRef.name", spec.snapshot_ref.name
            body = await bp.ctx.kube.get_object(SNAPSHOT_PLURAL, r.ref.namespace, ref)
            if body is None:
                return wait(f"{field}: waiting for AuraSnapshot {ref}", poll)
            snap = AuraSnapshot.from_body(body).status
            snapshot_id, owner, state = snap.snapshot_id, snap.instance_id, snap.state
        else:
            field, snapshot_id = "spec.snapshotId", spec.snapshot_id
            try:
                found = await aura.get_snapshot(instance.id, snapshot_id or "")
            except AuraNotFound:
                return fail(
                    bp,
                    f"{field}: {snapshot_id} is not a snapshot of the target instance "
                    f"{instance.id}; to restore another instance's snapshot, use spec.source",
                )
            owner, state = found.instance_id, found.status
        if state in (SnapshotStatus.FAILED, SnapshotStatus.CANCELLED):
            return fail(bp, f"{field}: snapshot {snapshot_id} is {state}; nothing to restore")
        if snapshot_id and owner and owner != instance.id:
            return fail(
                bp,
                f"{field}: snapshot {snapshot_id} is of instance {owner}, not of the target "
                f"{instance.id}; to overwrite the target from it, use spec.source "
                f"{{instanceId: {owner}, snapshotId: {snapshot_id}}}",
            )
        if not snapshot_id or state != SnapshotStatus.COMPLETED:
            return wait(f"{field}: waiting for snapshot {snapshot_id or ''} to be Completed", poll)
        return Plan(snapshot_id, None)
    return await _plan_overwrite(r, bp, aura, instance)


async def _plan_overwrite(
    r: AuraRestore, bp: BackupPass, aura: AuraClient, instance: Instance
) -> Plan | Outcome:
    source, poll = r.spec.source, bp.ctx.settings.poll_interval
    assert source is not None
    source_id = source.instance_id
    if source.instance_ref is not None:
        ref = await target_instance(bp.ctx, r.ref.namespace, source.instance_ref.name)
        source_id = ref.instance_id if ref is not None else None
        if not source_id:
            return wait(f"waiting for AuraInstance {source.instance_ref.name} (spec.source)", poll)
    if not source_id or source_id == instance.id:
        return fail(bp, "spec.source: name another instance (to restore in place, use snapshotId)")
    try:
        origin = await aura.get_instance(source_id)
    except AuraNotFound:
        return fail(
            bp,
            f"spec.source: instance {source_id} not found or not visible to the target's "
            "credential",
        )
    if source.snapshot_id:
        try:
            snapshot = await aura.get_snapshot(source_id, source.snapshot_id)
        except AuraNotFound:
            return fail(
                bp, f"spec.source.snapshotId: no snapshot {source.snapshot_id} of {source_id}"
            )
        if snapshot.status in (SnapshotStatus.FAILED, SnapshotStatus.CANCELLED):
            return fail(
                bp, f"spec.source.snapshotId: snapshot {snapshot.snapshot_id} is {snapshot.status}"
            )
        if snapshot.exportable is False:
            return fail(
                bp,
                f"spec.source.snapshotId: Source snapshot {snapshot.snapshot_id} is not exportable",
            )
        if snapshot.status != SnapshotStatus.COMPLETED:
            return wait(f"waiting for snapshot {snapshot.snapshot_id} to be Completed", poll)
    have, need = gb(instance.storage or instance.memory), gb(origin.storage or origin.memory)
    if need > have > 0:
        return fail(bp, _size_message(source_id, need, instance.id, have))
    return Plan(source.snapshot_id, source_id)


def _size_message(source_id: str, need: int, target_id: str, have: int) -> str:
    return (
        f"spec.instanceRef: the target {target_id} ({have}GB storage) is smaller than the source "
        f"{source_id} ({need}GB): Aura cannot clone a database into a smaller one (DB Overwrite "
        "Size Disparity); resize the target first"
    )
