"""The kopf decorators of AuraSnapshot and AuraRestore, kept thin like handlers.py.

- one daemon per object runs its loop (loop.run_loop: leadership, the object's lock, a
  shielded pass): the single writer of its status and the only code that calls Aura for it;
- watch events only wake that loop (a spec change, a deletion);
- neither kind has a finalizer: Aura has no snapshot delete, and a restore Aura has started
  cannot be stopped, so deleting either object never waits. An event says what stays in Aura.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import kopf

from aura_operator.backup_common import BackupPass, apply
from aura_operator.backup_resource import (
    ACTIVE_PHASES,
    RESTORE_PLURAL,
    SNAPSHOT_PLURAL,
    AuraRestore,
    AuraSnapshot,
)
from aura_operator.context import OperatorContext
from aura_operator.loop import EXIT_TIMEOUT, KopfRecorder, run_daemon
from aura_operator.outcome import Outcome
from aura_operator.resource import GROUP, VERSION, Condition, ObjectRef
from aura_operator.restores import reconcile_restore
from aura_operator.snapshots import reconcile_snapshot

Logger = logging.Logger | logging.LoggerAdapter[Any]
Decide = Callable[
    [dict[str, Any], BackupPass], Awaitable[tuple[ObjectRef, list[Condition], Outcome]]
]


async def _decide_snapshot(
    body: dict[str, Any], bp: BackupPass
) -> tuple[ObjectRef, list[Condition], Outcome]:
    snap = AuraSnapshot.from_body(body)
    return snap.ref, snap.status.conditions, await reconcile_snapshot(snap, bp)


async def _decide_restore(
    body: dict[str, Any], bp: BackupPass
) -> tuple[ObjectRef, list[Condition], Outcome]:
    restore = AuraRestore.from_body(body)
    return restore.ref, restore.status.conditions, await reconcile_restore(restore, bp)


async def _run(
    body: kopf.Body,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    logger: Logger,
    plural: str,
    decide: Decide,
) -> None:
    ctx: OperatorContext = memo["context"]
    state = ctx.objects.get(body.metadata.uid or "")

    async def one_pass(
        fresh: dict[str, Any], recorder: KopfRecorder, background: bool
    ) -> tuple[float | None, bool]:
        now = datetime.now(UTC)
        state.last_generation = int((fresh.get("metadata") or {}).get("generation") or 0)
        ref, conditions, outcome = await decide(fresh, BackupPass(ctx, recorder, now))
        current = fresh.get("status") or {}
        delay = await apply(ctx, plural, ref, current, conditions, outcome, state, now)
        return delay, True

    await run_daemon(body, memo, stopped, logger, plural=plural, one_pass=one_pass)


@kopf.daemon(GROUP, VERSION, SNAPSHOT_PLURAL, cancellation_timeout=EXIT_TIMEOUT)
async def snapshot_loop(
    body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, logger: Logger, **_: Any
) -> None:
    """The loop of one AuraSnapshot (snapshots.py decides)."""
    await _run(body, memo, stopped, logger, SNAPSHOT_PLURAL, _decide_snapshot)


@kopf.daemon(GROUP, VERSION, RESTORE_PLURAL, cancellation_timeout=EXIT_TIMEOUT)
async def restore_loop(
    body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, logger: Logger, **_: Any
) -> None:
    """The loop of one AuraRestore (restores.py decides)."""
    await _run(body, memo, stopped, logger, RESTORE_PLURAL, _decide_restore)


def _nudge(body: kopf.Body, memo: kopf.Memo) -> OperatorContext | None:
    """Wake the object's loop on a spec change or a deletion."""
    ctx: OperatorContext | None = memo.get("context")
    uid = body.metadata.uid
    if ctx is None or uid is None or uid not in ctx.objects:
        return ctx
    state = ctx.objects.get(uid)
    meta = body.get("metadata") or {}
    if meta.get("generation") != state.last_generation or meta.get("deletionTimestamp"):
        state.wake.set()
    return ctx


@kopf.on.event(GROUP, VERSION, SNAPSHOT_PLURAL)
def nudge_snapshot(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
    """Wake the loop; when the object is deleted, say that the snapshot stays in Aura."""
    ctx = _nudge(body, memo)
    if type != "DELETED" or ctx is None:
        return
    snapshot_id = (body.get("status") or {}).get("snapshotId")
    if snapshot_id:
        kopf.event(
            body,
            type="Normal",
            reason="SnapshotKept",
            message=f"snapshot {snapshot_id} stays in Aura until its retention ends: the Aura "
            "API cannot delete snapshots (docs/backups.md)",
        )
    ctx.forget(body.metadata.uid or "")


@kopf.on.event(GROUP, VERSION, RESTORE_PLURAL)
def nudge_restore(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
    """Wake the loop; when the object is deleted mid-run, say that Aura carries on."""
    ctx = _nudge(body, memo)
    if type != "DELETED" or ctx is None:
        return
    status = body.get("status") or {}
    target = ((body.get("spec") or {}).get("instanceRef") or {}).get("name", "")
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    ctx.restores.clear(namespace, target, name)
    if status.get("phase") in ACTIVE_PHASES:
        kopf.event(
            body,
            type="Warning",
            reason="RestoreAbandoned",
            message=f"deleted in phase {status.get('phase')}: what Aura has started on "
            f"AuraInstance {target} carries on; the operator no longer follows it",
        )
    ctx.forget(body.metadata.uid or "")
