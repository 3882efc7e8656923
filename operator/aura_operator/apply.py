"""Apply one pass's `Outcome`: write `.status` (only when it changed) and plan the next pass.

Planning is where the budget is spent wisely: a failed pass backs off, a transient instance is
read when its change is likely done (learnt per state), a settled one gets its next drift read
from the credential's drift time line. It also feeds the metrics: state, time to Ready.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aura_operator.context import OperatorContext
from aura_operator.objects import ObjectState
from aura_operator.outcome import Outcome, backoff
from aura_operator.resource import AuraInstance, Condition
from aura_operator.status import (
    READY,
    SYNCED,
    ConditionUpdate,
    merge_conditions,
    micro_iso,
    now_iso,
)


def _learn(
    ctx: OperatorContext, state: ObjectState, outcome: Outcome, mono: float, uid: str
) -> set[str]:
    """Track the transient state this object is in, and learn durations we saw start and end.
    Returns the objects that were waiting for the duration just learnt (TransitionTimes)."""
    if outcome.transient is not None:
        if outcome.initiated or state.transient != outcome.transient:
            if state.transient is not None:
                ctx.transitions.leave(uid, [state.transient])
            state.transient = outcome.transient
            state.transient_since = mono
            state.transient_reads = 0
            state.transient_exact = outcome.initiated
        else:
            state.transient_reads += 1
            state.busy_at = state.read_at
        return set()
    waiting: set[str] = set()
    if state.transient is not None and (outcome.drift or outcome.spec_applied):
        ctx.transitions.leave(uid, [state.transient])
        since, poll = state.transient_since, ctx.settings.poll_interval
        done = state.read_at - since
        busy = state.busy_at - since if state.busy_at > since else None
        if (
            state.transient_exact
            and done > 0
            and ctx.transitions.worth_learning(
                state.transient, done, busy, poll, queued=state.read_took
            )
        ):
            waiting = ctx.transitions.observe(state.transient, done)
        state.transient = None
    return waiting


def _wake_waiters(ctx: OperatorContext, transient: str, uids: set[str], mono: float) -> None:
    """Objects that waited for an estimate of `transient` are read when it says their change
    is done (each wakes at its own start + the estimate), not at their fallback time."""
    estimate = ctx.transitions.target(transient, ctx.settings.poll_interval)
    if estimate is None or not uids:
        return
    loop = asyncio.get_running_loop()
    for uid in uids:
        if uid not in ctx.objects:
            continue
        since = ctx.objects.get(uid).transient_since

        def fire(uid: str = uid, since: float = since) -> None:
            if uid not in ctx.objects:
                return
            other = ctx.objects.get(uid)
            same = other.transient == transient and other.transient_since == since
            if same and not other.lock.locked():
                other.wake.set()

        loop.call_later(max(0.0, since + estimate - mono), fire)


def plan(
    ctx: OperatorContext, obj: AuraInstance, outcome: Outcome, state: ObjectState, mono: float
) -> tuple[float | None, int | None]:
    """(delay before the next pass, drift interval to show) for this outcome."""
    uid = obj.ref.uid
    state.failures = state.failures + 1 if outcome.failed else 0
    delay = outcome.requeue_after
    if outcome.failed:
        floor = backoff(state.failures - 1, cap=ctx.settings.error_backoff_max)
        delay = max(delay or 0.0, floor)
    ended = state.transient
    waiting = _learn(ctx, state, outcome, mono, uid)
    if ended is not None and waiting:
        _wake_waiters(ctx, ended, waiting, mono)
    if outcome.transient is None and not outcome.drift:
        ctx.drift.release(uid)
    interval: int | None = None
    if delay is None and outcome.transient is not None:
        delay = ctx.transitions.next_read(
            outcome.transient,
            mono - state.transient_since,
            state.transient_reads,
            ctx.settings.poll_interval,
            uid=uid if state.transient_exact else None,
        )
    elif delay is None and outcome.drift and state.credential:
        rate = ctx.rate(state.credential)
        delay = ctx.drift.next_drift_read(state.credential, uid, rate, mono)
        seconds = ctx.drift.interval(state.credential, rate)
        interval = round(seconds)
        ctx.metrics.drift_interval.labels(state.credential).set(seconds)
    return delay, interval


def _time_to_ready(
    ctx: OperatorContext, obj: AuraInstance, patch: dict[str, Any], now: datetime
) -> None:
    was_ready = (c := obj.status.condition(READY)) is not None and c.status == "True"
    is_ready = any(c["type"] == READY and c["status"] == "True" for c in patch["conditions"])
    creation = obj.status.creation
    if is_ready and not was_ready and creation is not None and obj.status.state == "creating":
        ctx.metrics.time_to_ready.observe((now - creation.requested_at).total_seconds())


def status_patch(
    outcome: Outcome,
    current: list[Condition],
    generation: int,
    delay: float | None,
    now: datetime,
) -> dict[str, Any]:
    """The `.status` patch of an outcome, for any kind: its fields, the merged conditions
    (a failed Synced says when the next attempt is), and observedGeneration once the spec is
    fully applied."""
    conditions = list(outcome.conditions)
    next_at: str | None = None
    if outcome.next_attempt and delay is not None:
        next_at = now_iso(now + timedelta(seconds=delay))
        conditions = [
            ConditionUpdate(c.type, c.status, c.reason, f"{c.message}; next attempt at {next_at}")
            if c.type == SYNCED and c.status == "False"
            else c
            for c in conditions
        ]
    patch: dict[str, Any] = dict(outcome.status)
    patch["conditions"] = merge_conditions(current, conditions, generation=generation, now=now)
    patch["nextAttemptAt"] = next_at
    if outcome.spec_applied:
        patch["observedGeneration"] = generation
    return patch


def changes(current: dict[str, Any], patch: dict[str, Any]) -> bool:
    """Whether writing `patch` over the status `current` (wire form) changes anything."""
    return any(
        current.get(k) != v for k, v in patch.items() if not (v is None and k not in current)
    )


async def apply_outcome(
    ctx: OperatorContext,
    obj: AuraInstance,
    outcome: Outcome,
    state: ObjectState,
    now: datetime | None = None,
) -> float | None:
    """Write the outcome into `.status` (only if it changed); return the delay to wait."""
    now = now or datetime.now(UTC)
    delay, interval = plan(ctx, obj, outcome, state, time.monotonic())
    patch = status_patch(outcome, obj.status.conditions, obj.ref.generation, delay, now)
    if interval is not None:
        patch["driftIntervalSeconds"] = interval
    _time_to_ready(ctx, obj, patch, now)
    ctx.metrics.set_state(obj.ref.uid, patch.get("state", obj.status.state))
    current = obj.status.model_dump(by_alias=True, exclude_none=True, mode="json")
    changed = changes(current, patch)
    # observedAt moves with every change, and with this process's first observation of the
    # object: a status from before a restart then stays recognisably old until the new leader
    # has read the instance. Drift reads that find nothing new write nothing (at N objects, a
    # write per read would be N status writes per drift interval for no news).
    if outcome.observed_at is not None and (changed or not state.observed):
        patch["observedAt"] = micro_iso(outcome.observed_at)
        state.observed = True
        changed = True
    if changed:
        await ctx.kube.patch_status(obj.ref.namespace, obj.ref.name, patch)
    return delay
