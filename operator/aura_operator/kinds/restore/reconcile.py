"""One AuraRestore pass: restore an AuraInstance in place, or overwrite it from another, once.

Phases: Pending (checks; waiting for a snapshot or the target) -> SnapshottingTarget (an AdHoc
safety snapshot of the target, when `snapshotFirst`) -> Restoring | Overwriting -> Completed |
Failed. A final phase is never left, so re-applying the object (Argo CD) sends nothing.

Both POSTs (the safety snapshot, the restore or overwrite) follow the create-once discipline:
intent written conditionally on the resourceVersion first; an unknown outcome is resolved by
looking (the snapshot list; the target's state: `restoring`/`overwriting` means it arrived),
and sent again only when the visibility window has passed without a trace. Every refusal the
API documents is checked before anything is sent, and ends the restore with a terminal
condition: a target under ObserveOnly or `reconcile: skip`, paused, free tier, a snapshot that
failed, a snapshot of another instance without `source`, a source snapshot that is not
exportable, a target smaller than its source. While the restore acts, the target's own loop
holds off (ctx.restores, read in reconcile.py) and shows Ready=False Restoring/Overwriting.
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
    Instance,
    SnapshotStatus,
)
from aura_operator.kinds.instance.model import AuraInstance
from aura_operator.kinds.restore.model import (
    ACTIVE_PHASES,
    FINAL_PHASES,
    RESTORE_PLURAL,
    AuraRestore,
)
from aura_operator.kinds.restore.plan import (
    IN_PROGRESS,
    RESTORE_FAILED,
    Plan,
    RestoreReason,
    fail,
    plan,
    wait,
)
from aura_operator.kinds.snapshot.lookup import (
    BackupPass,
    client_for,
    find_adhoc,
    ready,
    target_instance,
)
from aura_operator.runtime import intents
from aura_operator.runtime.classify import classify
from aura_operator.runtime.conditions import SyncedReason, now_iso
from aura_operator.runtime.model import Intent
from aura_operator.runtime.outcome import Outcome, from_verdict, synced_ok

logger = logging.getLogger(__name__)


def track(bp: BackupPass, r: AuraRestore, target: AuraInstance | None, phase: str | None) -> None:
    """Tell the target's loop whether this restore acts on it (and wake it on a change)."""
    ns, name = r.ref.namespace, r.spec.instance_ref.name
    before = bp.ctx.restores.active(ns, name)
    if phase in ACTIVE_PHASES:
        bp.ctx.restores.set(ns, name, r.ref.name, phase or "")
    else:
        bp.ctx.restores.clear(ns, name, r.ref.name)
    if target is not None and before != bp.ctx.restores.active(ns, name):
        bp.ctx.objects.wake(target.ref.uid)


async def reconcile_restore(r: AuraRestore, bp: BackupPass) -> Outcome:
    st, ctx = r.status, bp.ctx
    if st.phase in FINAL_PHASES:
        return Outcome(spec_applied=True)  # never runs again
    name = r.spec.instance_ref.name
    target = await target_instance(ctx, r.ref.namespace, name)
    if target is None:
        if st.phase in ACTIVE_PHASES:
            return fail(bp, f"AuraInstance {name} was deleted during the restore", RESTORE_FAILED)
        return wait(
            f"spec.instanceRef.name: waiting for AuraInstance {name} in {r.ref.namespace}",
            ctx.settings.drift_interval,
        )
    if st.phase not in ACTIVE_PHASES:
        return await _start(r, bp, target)
    aura = await client_for(ctx, target)
    if st.phase == RestoreReason.SNAPSHOTTING:
        return await _safety(r, bp, target, aura)
    return await _restoring(r, bp, target, aura)


async def _start(r: AuraRestore, bp: BackupPass, target: AuraInstance) -> Outcome:
    """Pending: check everything, then record the plan with the first intent and POST."""
    field, name, poll = (
        "spec.instanceRef.name",
        r.spec.instance_ref.name,
        bp.ctx.settings.poll_interval,
    )
    if target.observe_only:
        return fail(
            bp,
            f"{field}: AuraInstance {name} is under managementPolicy ObserveOnly; the operator "
            "never changes it, and a restore would",
        )
    if target.skip:
        return fail(
            bp,
            f"{field}: AuraInstance {name} is annotated aura-operator.dev/reconcile: skip; "
            "remove the annotation and create the AuraRestore again",
        )
    if not target.instance_id:
        return wait(f"waiting for AuraInstance {name} to have an Aura instance", poll)
    aura = await client_for(bp.ctx, target)
    try:
        instance = await aura.get_instance(target.instance_id)
    except AuraNotFound:
        return fail(bp, f"{field}: instance {target.instance_id} of {name} not found in Aura")
    if instance.type == "free-db":
        return fail(
            bp,
            f"{field}: {name} is a free-db instance; Aura restores and overwrites paid tiers only",
        )
    if instance.status in ("paused", "suspended"):
        return fail(
            bp,
            f"{field}: instance {instance.id} is {instance.status}; Aura restores running "
            "instances only (resume it, then create the AuraRestore again)",
        )
    if instance.is_transient:
        return wait(f"waiting for instance {instance.id} to be running ({instance.status})", poll)
    if instance.status != "running":
        return fail(bp, f"{field}: instance {instance.id} is {instance.status}, not running")
    decided = await plan(r, bp, aura, instance)
    if isinstance(decided, Outcome):
        return decided
    status: dict[str, Any] = {
        "instanceId": instance.id,
        "snapshotId": decided.snapshot_id,
        "sourceInstanceId": decided.source_instance_id,
        "startedAt": now_iso(bp.now),
    }
    if r.spec.snapshot_first:
        return await _take_safety(r, bp, target, aura, instance.id, status)
    return await _send(r, bp, target, aura, instance.id, decided, status)


async def _take_safety(
    r: AuraRestore,
    bp: BackupPass,
    target: AuraInstance,
    aura: AuraClient,
    instance_id: str,
    status: dict[str, Any],
) -> Outcome:
    intent = intents.new_record(bp.now)
    record = {**status, "phase": RestoreReason.SNAPSHOTTING, "safetySnapshot": intent}
    fence = await intents.record(bp.ctx, RESTORE_PLURAL, r.ref, record)
    if fence is not intents.Fence.WRITTEN:
        return intents.fenced(fence)
    track(bp, r, target, RestoreReason.SNAPSHOTTING)
    base = {"phase": RestoreReason.SNAPSHOTTING, **status}
    try:
        taken = await aura.create_snapshot(instance_id)
    except AuraOutcomeUnknown as exc:
        message = f"the safety snapshot request got no answer ({exc.message}); looking for it"
        bp.events.event("Warning", "SnapshotOutcomeUnknown", message)
        outcome = wait(message, bp.ctx.settings.poll_interval, RestoreReason.SNAPSHOTTING)
        outcome.status = {
            **base,
            "safetySnapshot": intents.unanswered_record(intent),
        }
        return outcome
    except AuraConflict as exc:
        outcome = wait(f"Aura is busy ({exc.message})", bp.ctx.settings.poll_interval)
        outcome.status = {**base, "phase": RestoreReason.PENDING, "safetySnapshot": None}
        track(bp, r, target, None)
        return outcome
    except AuraError as exc:
        track(bp, r, target, None)
        if classify(exc).terminal:
            return fail(
                bp,
                f"spec.snapshotFirst: Aura refused the safety snapshot ({exc.message}); nothing "
                "was restored (set snapshotFirst: false to restore without one)",
                safetySnapshot=None,
            )
        outcome = from_verdict(classify(exc), bp.events)
        outcome.status = {**base, "phase": RestoreReason.PENDING, "safetySnapshot": None}
        return outcome
    bp.events.event(
        "Normal",
        "SafetySnapshot",
        f"took snapshot {taken.snapshot_id} of {instance_id} before the restore",
    )
    outcome = wait(
        f"waiting for the safety snapshot {taken.snapshot_id}",
        bp.ctx.settings.poll_interval,
        RestoreReason.SNAPSHOTTING,
    )
    outcome.status = {
        **base,
        "safetySnapshotId": taken.snapshot_id,
        "safetySnapshot": intents.accepted_record(intent),
    }
    return outcome


async def _recover_safety(
    r: AuraRestore, bp: BackupPass, target: AuraInstance, aura: AuraClient, intent: Intent
) -> Outcome:
    """An open safety snapshot request: look for the snapshot before requesting another."""
    instance_id = r.status.instance_id or ""
    requested = intent.requested_at.astimezone(UTC)
    candidates = await find_adhoc(bp, aura, instance_id, requested, (RESTORE_PLURAL, r.ref))
    found = intents.recover(candidates, intent, bp.ctx.settings, bp.now)
    match found:
        case intents.Ambiguous(several):
            track(bp, r, target, None)
            ids = ", ".join(s.snapshot_id for s in several)
            return fail(
                bp,
                f"found {len(several)} AdHoc snapshots of {instance_id} since the safety "
                f"snapshot request ({ids}); the operator will not guess which is the safety "
                "snapshot, and restored nothing",
                SyncedReason.CREATE_AMBIGUOUS,
            )
        case intents.Found(snapshot):
            bp.events.event(
                "Normal", "Recovered", f"found the safety snapshot {snapshot.snapshot_id}"
            )
            outcome = wait("found the safety snapshot", 0.0, RestoreReason.SNAPSHOTTING)
            outcome.status = {"safetySnapshotId": snapshot.snapshot_id}
            return outcome
        case intents.Looking(left):
            return wait(
                f"looking for the safety snapshot for {left:.0f}s more",
                intents.look_again_in(left, bp.ctx.settings),
                RestoreReason.SNAPSHOTTING,
            )
        case intents.NeverArrived():
            bp.events.event(
                "Normal",
                "SnapshotNotFound",
                "the safety snapshot never appeared; requesting it again",
            )
            return await _take_safety(r, bp, target, aura, instance_id, {})
    raise AssertionError(found)  # pragma: no cover


async def _safety(
    r: AuraRestore, bp: BackupPass, target: AuraInstance, aura: AuraClient
) -> Outcome:
    """SnapshottingTarget: wait for the safety snapshot (or find it), then send the restore."""
    st, poll = r.status, bp.ctx.settings.poll_interval
    instance_id = st.instance_id or ""
    track(bp, r, target, RestoreReason.SNAPSHOTTING)
    if st.safety_snapshot_id is None:
        intent = st.safety_snapshot
        if intent is None:
            return await _take_safety(r, bp, target, aura, instance_id, {})
        return await _recover_safety(r, bp, target, aura, intent)
    try:
        snapshot = await aura.get_snapshot(instance_id, st.safety_snapshot_id)
    except AuraNotFound:
        return wait(
            "waiting for Aura to show the safety snapshot", poll, RestoreReason.SNAPSHOTTING
        )
    if snapshot.status in (SnapshotStatus.FAILED, SnapshotStatus.CANCELLED):
        track(bp, r, target, None)
        return fail(
            bp,
            f"the safety snapshot {snapshot.snapshot_id} is {snapshot.status}; nothing was "
            "restored",
            RESTORE_FAILED,
        )
    if snapshot.status != SnapshotStatus.COMPLETED:
        return wait(
            f"waiting for the safety snapshot {snapshot.snapshot_id} ({snapshot.status})",
            poll,
            RestoreReason.SNAPSHOTTING,
        )
    plan = Plan(st.snapshot_id, st.source_instance_id)
    return await _send(r, bp, target, aura, instance_id, plan, {})


async def _send(
    r: AuraRestore,
    bp: BackupPass,
    target: AuraInstance,
    aura: AuraClient,
    instance_id: str,
    plan: Plan,
    status: dict[str, Any],
) -> Outcome:
    """Record the restore intent (fenced), then POST the restore or the overwrite once."""
    poll, mode = bp.ctx.settings.poll_interval, plan.mode
    intent = intents.new_record(bp.now)
    fence = await intents.record(
        bp.ctx, RESTORE_PLURAL, r.ref, {**status, "phase": mode, "restore": intent}
    )
    if fence is not intents.Fence.WRITTEN:
        return intents.fenced(fence)
    track(bp, r, target, mode)
    base = {**status, "phase": mode}
    try:
        result = await _post(aura, instance_id, plan)
    except AuraError as exc:
        return _not_accepted(r, bp, target, instance_id, plan, exc, base, intent)
    seen = result.status in IN_PROGRESS
    what = f"from instance {plan.source_instance_id}" if plan.source_instance_id else "in place"
    bp.events.event(
        "Normal",
        mode,
        f"Aura accepted the {mode.lower()} of {instance_id} {what}"
        + (f" (snapshot {plan.snapshot_id})" if plan.snapshot_id else ""),
    )
    outcome = wait(f"Aura is {mode.lower()} the instance", poll, mode)
    outcome.status = {
        **base,
        "restore": {**intents.accepted_record(intent), "seen": seen},
    }
    return outcome


async def _post(aura: AuraClient, instance_id: str, plan: Plan) -> Instance:
    """`POST .../overwrite` (from another instance) or `.../restore` (a snapshot), once."""
    if plan.source_instance_id:
        return await aura.overwrite_instance(
            instance_id,
            source_instance_id=plan.source_instance_id,
            source_snapshot_id=plan.snapshot_id,
        )
    return await aura.restore_snapshot(instance_id, plan.snapshot_id or "")


def _not_accepted(
    r: AuraRestore,
    bp: BackupPass,
    target: AuraInstance,
    instance_id: str,
    plan: Plan,
    exc: AuraError,
    base: dict[str, Any],
    intent: dict[str, Any],
) -> Outcome:
    """The restore or overwrite got no answer (keep the intent, watch the target), Aura was
    busy (try again), or refused it (fail, or retry what is transient)."""
    poll, mode = bp.ctx.settings.poll_interval, plan.mode
    if isinstance(exc, AuraOutcomeUnknown):
        if "size-disparity" in (exc.reason or "") or "smaller database" in exc.message:
            track(bp, r, target, None)
            return fail(
                bp,
                f"spec.instanceRef: the target {instance_id} is smaller than the source "
                f"{plan.source_instance_id}: Aura cannot clone a database into a smaller one "
                f"(DB Overwrite Size Disparity: {exc.message}); resize the target first",
                restore=None,
            )
        message = f"the {mode.lower()} request got no answer ({exc.message}); watching the target"
        bp.events.event("Warning", "RestoreOutcomeUnknown", message)
        outcome = wait(message, poll, mode)
        outcome.status = {**base, "restore": intents.unanswered_record(intent)}
        return outcome
    if isinstance(exc, AuraConflict):
        outcome = wait(f"Aura is busy ({exc.message}); trying again", poll, mode)
        outcome.status = {**base, "restore": None}
        return outcome
    verdict = classify(exc)
    if (
        verdict.terminal
        or verdict.reason == SyncedReason.INVALID_SPEC
        or isinstance(exc, AuraNotFound)
    ):
        track(bp, r, target, None)
        return fail(bp, f"Aura refused the {mode.lower()}: {exc.message}", restore=None)
    outcome = from_verdict(verdict, bp.events)
    outcome.status = {**base, "restore": None}
    return outcome


def _completed(
    r: AuraRestore, bp: BackupPass, target: AuraInstance, mode: str, instance_id: str
) -> Outcome:
    """Aura has finished; Completed once the target AuraInstance no longer shows the restore in
    its status (its own loop, released, reads the instance), so that a user who waits for the
    AuraRestore finds the AuraInstance Ready."""
    if target.status.state in IN_PROGRESS and not target.skip:
        return wait(
            f"Aura reports instance {instance_id} running; waiting for AuraInstance "
            f"{r.spec.instance_ref.name} to show it",
            min(bp.ctx.settings.poll_interval, 1.0),
            mode,
        )
    bp.events.event(
        "Normal", "Completed", f"the {mode.lower()} of {instance_id} is done; it is running"
    )
    return Outcome(
        conditions=[
            ready("True", RestoreReason.COMPLETED, f"{mode} completed; the instance is running"),
            synced_ok(f"{mode.lower()} completed"),
        ],
        status={"phase": "Completed"},
        spec_applied=True,
    )


async def _restoring(
    r: AuraRestore, bp: BackupPass, target: AuraInstance, aura: AuraClient
) -> Outcome:
    """Restoring / Overwriting: follow the target's state until it runs again."""
    st, poll = r.status, bp.ctx.settings.poll_interval
    mode = st.phase or RestoreReason.RESTORING
    instance_id = st.instance_id or ""
    plan = Plan(st.snapshot_id, st.source_instance_id)
    if st.completed_at is not None:  # Aura has finished: the target is released already
        return _completed(r, bp, target, mode, instance_id)
    track(bp, r, target, mode)
    intent = st.restore
    if intent is None:
        return await _send(r, bp, target, aura, instance_id, plan, {})
    try:
        instance = await aura.get_instance(instance_id)
    except AuraNotFound:
        track(bp, r, target, None)
        return fail(
            bp, f"instance {instance_id} disappeared during the {mode.lower()}", RESTORE_FAILED
        )
    record = intent.model_dump(by_alias=True, mode="json", exclude_defaults=True)
    if instance.status in IN_PROGRESS:
        outcome = wait(f"Aura is {mode.lower()} the instance ({instance.status})", poll, mode)
        if not intent.seen or intent.accepted_at is None:
            # An unanswered request that did arrive: the target's state says so.
            record.update(seen=True, acceptedAt=record.get("acceptedAt") or now_iso(bp.now))
            outcome.status = {"restore": record}
        return outcome
    if intent.accepted_at is not None:
        waited = (bp.now - intent.accepted_at.astimezone(UTC)).total_seconds()
        if instance.status == "running" and (
            intent.seen or waited > bp.ctx.settings.create_visibility_window
        ):
            # Done in Aura (completedAt): the target is released and woken; the restore is
            # Completed once the AuraInstance no longer shows it (`_completed`).
            track(bp, r, target, None)
            outcome = _completed(r, bp, target, mode, instance_id)
            outcome.status.setdefault("completedAt", now_iso(bp.now))
            return outcome
        if instance.is_transient or instance.status == "running":
            return wait(
                f"waiting for Aura to start the {mode.lower()} ({instance.status})", poll, mode
            )
        track(bp, r, target, None)
        return fail(
            bp, f"the instance is {instance.status} after the {mode.lower()}", RESTORE_FAILED
        )
    if instance.status != "running":
        return wait(f"the instance is {instance.status}; waiting", poll, mode)
    left = intents.window_left(intent, bp.ctx.settings, bp.now)
    if left > 0:
        return wait(
            f"the {mode.lower()} request has an unknown outcome; watching the target for "
            f"{left:.0f}s",
            intents.look_again_in(left, bp.ctx.settings),
            mode,
        )
    bp.events.event(
        "Normal", "RestoreNotFound", f"the {mode.lower()} never started; sending it again"
    )
    return await _send(r, bp, target, aura, instance_id, plan, {})
