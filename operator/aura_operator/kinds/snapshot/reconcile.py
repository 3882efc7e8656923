"""One AuraSnapshot pass: take one on-demand (AdHoc) snapshot of an instance, exactly once.

`POST /instances/{id}/snapshots` has no idempotency key. So, as every such POST (intents.py),
the intent (`status.request`) is written conditionally on the object's resourceVersion before the
POST; a pass that finds intent without a snapshot id lists the instance's snapshots of the
intent's day (and the day before near midnight) and adopts the one AdHoc snapshot taken since
then, waits the visibility window if there is none, stops with CreateAmbiguous if there are
several, and only then POSTs again. Once the id is known the snapshot is read until Aura says
Completed (Ready=True) or Failed. Bad input (no such instance, a paused one, a tier without
on-demand snapshots) is a condition naming the field, with nothing sent.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from aura_operator.aura import (
    AuraClient,
    AuraConflict,
    AuraError,
    AuraNotFound,
    AuraOutcomeUnknown,
    AuraPaymentRequired,
    Snapshot,
    SnapshotStatus,
)
from aura_operator.kinds.snapshot.lookup import (
    BackupPass,
    client_for,
    credential_holder,
    find_adhoc,
    ready,
    target_instance,
)
from aura_operator.kinds.snapshot.model import SNAPSHOT_PLURAL, AuraSnapshot
from aura_operator.runtime import intents
from aura_operator.runtime.conditions import SyncedReason, now_iso
from aura_operator.runtime.outcome import Outcome, synced_false, synced_ok

logger = logging.getLogger(__name__)

FINAL_STATES = frozenset(
    {SnapshotStatus.COMPLETED, SnapshotStatus.FAILED, SnapshotStatus.CANCELLED}
)


class SnapshotReason:
    """Ready reasons of an AuraSnapshot (docs/backups.md lists them)."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"


def snapshot_ready(state: str | None, snapshot_id: str | None) -> Any:
    if state == SnapshotStatus.COMPLETED:
        return ready("True", SnapshotReason.COMPLETED, f"snapshot {snapshot_id} is Completed")
    if state in (SnapshotStatus.FAILED, SnapshotStatus.CANCELLED):
        return ready("False", SnapshotReason.FAILED, f"Aura reports snapshot {snapshot_id} {state}")
    if state == SnapshotStatus.IN_PROGRESS:
        return ready("False", SnapshotReason.IN_PROGRESS, f"snapshot {snapshot_id} is InProgress")
    return ready(
        "False", SnapshotReason.PENDING, f"snapshot {snapshot_id or '(none yet)'} is Pending"
    )


def _observed(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "snapshotId": snapshot.snapshot_id,
        "instanceId": snapshot.instance_id,
        "profile": snapshot.profile,
        "state": snapshot.status,
        "takenAt": now_iso(snapshot.timestamp) if snapshot.timestamp else None,
        "exportable": snapshot.exportable,
    }


def _pending(message: str, *, synced: Any = None, requeue: float | None = None) -> Outcome:
    return Outcome(
        conditions=[ready("False", SnapshotReason.PENDING, message), synced or synced_ok(message)],
        requeue_after=requeue,
    )


def _invalid(bp: BackupPass, message: str, requeue: float | None = None) -> Outcome:
    bp.events.event("Warning", SyncedReason.INVALID_SPEC, message)
    return _pending(
        message, synced=synced_false(SyncedReason.INVALID_SPEC, message), requeue=requeue
    )


async def reconcile_snapshot(snap: AuraSnapshot, bp: BackupPass) -> Outcome:
    st = snap.status
    if st.snapshot_id and st.state in FINAL_STATES:
        return Outcome(
            conditions=[snapshot_ready(st.state, st.snapshot_id), synced_ok("done")],
            spec_applied=True,
        )
    resolved = await _resolve(snap, bp)
    if isinstance(resolved, Outcome):
        return resolved
    aura, instance_id, field = resolved
    if st.snapshot_id:
        return await _follow(bp, aura, instance_id, st.snapshot_id)
    if st.request is not None:
        return await _recover(snap, bp, aura, instance_id, field)
    return await _take(snap, bp, aura, instance_id, field)


async def _resolve(snap: AuraSnapshot, bp: BackupPass) -> tuple[AuraClient, str, str] | Outcome:
    """(client, instance id, the spec field that named it) or why not yet."""
    spec = snap.spec
    if (spec.instance_ref is None) == (not spec.instance_id):
        return _invalid(
            bp, "spec needs exactly one of instanceRef (an AuraInstance) and instanceId"
        )
    if spec.instance_id:
        holder = credential_holder(snap.ref, spec.instance_id, snap.raw_spec)
        return await client_for(bp.ctx, holder), spec.instance_id, "spec.instanceId"
    assert spec.instance_ref is not None
    name, field = spec.instance_ref.name, "spec.instanceRef.name"
    target = await target_instance(bp.ctx, snap.ref.namespace, name)
    if target is None:
        message = f"{field}: AuraInstance {name} not found in namespace {snap.ref.namespace}"
        return _invalid(bp, message, requeue=bp.ctx.settings.drift_interval)
    instance_id = snap.status.instance_id or target.instance_id
    if not instance_id:
        return _pending(
            f"waiting for AuraInstance {name} to have an Aura instance",
            requeue=bp.ctx.settings.poll_interval,
        )
    return await client_for(bp.ctx, target), instance_id, field


async def _follow(bp: BackupPass, aura: AuraClient, instance_id: str, snapshot_id: str) -> Outcome:
    try:
        snapshot = await aura.get_snapshot(instance_id, snapshot_id)
    except AuraNotFound:  # just taken: Aura may not show it yet
        return _pending(
            f"waiting for Aura to show snapshot {snapshot_id}",
            requeue=bp.ctx.settings.poll_interval,
        )
    state = snapshot.status
    outcome = Outcome(
        conditions=[snapshot_ready(state, snapshot_id)],
        status={**_observed(snapshot), "snapshotId": snapshot_id},
    )
    if state == SnapshotStatus.COMPLETED:
        bp.events.event(
            "Normal", "Completed", f"snapshot {snapshot_id} of {instance_id} is Completed"
        )
        outcome.conditions.append(synced_ok("the snapshot is Completed"))
        outcome.spec_applied = True
    elif state in FINAL_STATES:
        message = f"Aura reports snapshot {snapshot_id} of {instance_id} as {state}"
        bp.events.event("Warning", "SnapshotFailed", message)
        outcome.conditions.append(synced_ok(message))
        outcome.spec_applied = True
    else:
        outcome.conditions.append(synced_ok(f"Aura is taking the snapshot ({state})"))
        outcome.requeue_after = bp.ctx.settings.poll_interval
    return outcome


async def _recover(
    snap: AuraSnapshot, bp: BackupPass, aura: AuraClient, instance_id: str, field: str
) -> Outcome:
    """Intent without an id: the POST's outcome is unknown. Look before POSTing again."""
    request = snap.status.request
    assert request is not None
    requested = request.requested_at.astimezone(UTC)
    candidates = await find_adhoc(bp, aura, instance_id, requested, (SNAPSHOT_PLURAL, snap.ref))
    found = intents.recover(candidates, request, bp.ctx.settings, bp.now)
    match found:
        case intents.Ambiguous(several):
            ids = ", ".join(s.snapshot_id for s in several)
            message = (
                f"found {len(several)} AdHoc snapshots of {instance_id} taken since the request "
                f"of {now_iso(requested)}: {ids}. The operator will not guess which one this "
                "object took; use one by id (AuraRestore spec.snapshotId), and delete this "
                "AuraSnapshot"
            )
            return intents.ambiguous(message, bp.events, _pending(message).conditions[0])
        case intents.Found(snapshot):
            bp.events.event(
                "Normal",
                "Recovered",
                f"found snapshot {snapshot.snapshot_id}, taken by an earlier request whose "
                "answer was lost; it is this object's",
            )
            return Outcome(
                conditions=[
                    snapshot_ready(snapshot.status, snapshot.snapshot_id),
                    synced_ok("found"),
                ],
                status=_observed(snapshot),
                requeue_after=0.0,
            )
        case intents.Looking(left):
            message = (
                f"the snapshot request of {now_iso(requested)} has an unknown outcome; looking "
                f"for the snapshot for {left:.0f}s more before requesting it again"
            )
            return Outcome(
                conditions=[
                    ready("False", SnapshotReason.PENDING, message),
                    synced_false(SyncedReason.ERROR, message),
                ],
                requeue_after=intents.look_again_in(left, bp.ctx.settings),
                next_attempt=True,
            )
        case intents.NeverArrived():
            bp.events.event(
                "Normal",
                "SnapshotNotFound",
                "no snapshot appeared after the unanswered request; requesting it again",
            )
            return await _take(snap, bp, aura, instance_id, field)
    raise AssertionError(found)  # pragma: no cover


async def _check_instance(
    bp: BackupPass, aura: AuraClient, instance_id: str, field: str
) -> Outcome | None:
    """None if Aura can take an on-demand snapshot of the instance now; else why not."""
    settings = bp.ctx.settings
    try:
        instance = await aura.get_instance(instance_id)
    except AuraNotFound:
        message = (
            f"{field}: instance {instance_id} does not exist in Aura or is not visible to this "
            "credential"
        )
        return _invalid(bp, message, requeue=settings.drift_interval)
    if instance.type == "free-db":
        return _invalid(
            bp,
            f"{field}: instance {instance_id} is free-db; Aura offers on-demand snapshots on "
            "paid tiers only (it keeps the latest scheduled snapshot of a Free instance)",
        )
    if instance.is_transient:
        return _pending(
            f"waiting for instance {instance_id} to be running (it is {instance.status})",
            requeue=settings.poll_interval,
        )
    if instance.status != "running":
        return _invalid(
            bp,
            f"{field}: instance {instance_id} is {instance.status}; Aura takes snapshots of "
            "running instances only (resume it and the snapshot is taken)",
            requeue=settings.drift_interval,
        )
    return None


async def _take(
    snap: AuraSnapshot, bp: BackupPass, aura: AuraClient, instance_id: str, field: str
) -> Outcome:
    """Check the instance, record intent, POST once."""
    refusal = await _check_instance(bp, aura, instance_id, field)
    if refusal is not None:
        return refusal
    record = intents.new_record(bp.now)
    fence = await intents.record(
        bp.ctx, SNAPSHOT_PLURAL, snap.ref, {"request": record, "instanceId": instance_id}
    )
    if fence is not intents.Fence.WRITTEN:
        return intents.fenced(fence)
    return await _post(bp, aura, instance_id, field, record)


async def _post(
    bp: BackupPass, aura: AuraClient, instance_id: str, field: str, record: dict[str, Any]
) -> Outcome:
    """`POST /instances/{id}/snapshots`, once (the intent is recorded)."""
    settings = bp.ctx.settings
    try:
        taken = await aura.create_snapshot(instance_id)
    except AuraOutcomeUnknown as exc:
        message = (
            f"the snapshot request got no answer ({exc.message}); the operator looks for the "
            "snapshot before it requests another"
        )
        return intents.unanswered(
            "request",
            record,
            message,
            bp.events,
            settings,
            reason="SnapshotOutcomeUnknown",
            conditions=[
                ready("False", SnapshotReason.PENDING, message),
                synced_false(SyncedReason.ERROR, message),
            ],
        )
    except AuraPaymentRequired as exc:
        outcome = _invalid(
            bp,
            f"{field}: Aura refused an on-demand snapshot of {instance_id} with 402 Payment "
            f"Required: this tier has no on-demand snapshots ({exc.message})",
        )
        outcome.status["request"] = None
        return outcome
    except AuraConflict as exc:
        return Outcome(
            conditions=[_pending(f"Aura is busy: {exc.message}").conditions[0], synced_ok("busy")],
            status={"request": None},
            requeue_after=settings.poll_interval,
        )
    except AuraError as exc:  # refused: nothing was taken; forget the intent
        return intents.refused("request", exc, bp.events)
    bp.events.event(
        "Normal",
        "SnapshotRequested",
        f"Aura accepted snapshot {taken.snapshot_id} of {instance_id}",
    )
    return Outcome(
        conditions=[
            snapshot_ready(SnapshotStatus.PENDING, taken.snapshot_id),
            synced_ok(f"snapshot {taken.snapshot_id} requested"),
        ],
        status={
            "snapshotId": taken.snapshot_id,
            "instanceId": instance_id,
            "profile": "AdHoc",
            "state": SnapshotStatus.PENDING,
            "request": intents.accepted_record(record),
        },
        requeue_after=settings.poll_interval,
    )
