"""When an AuraInstance is read next, and what its status writes tell the metrics.

The controller counts failures and writes the status (runtime/controller.py); this is the
AuraInstance's planning, where the budget is spent wisely: a transient instance is read when its
change is likely done (learnt per state), a settled one gets its next drift read from the
credential's drift time line, and none later than its next uptime transition (the outcome's
`wake_within`). `observe` feeds the metrics: state, time to Ready.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from aura_operator.kinds.instance.model import AuraInstance
from aura_operator.runtime.conditions import READY
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.object_state import ObjectState
from aura_operator.runtime.outcome import Outcome


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
    ctx: OperatorContext,
    obj: AuraInstance,
    outcome: Outcome,
    state: ObjectState,
    delay: float | None,
) -> tuple[float | None, dict[str, Any]]:
    """(delay before the next pass, status fields to add: the drift interval) for this
    outcome; `delay` is the outcome's own (with the failure backoff)."""
    uid, mono = obj.ref.uid, time.monotonic()
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
    if outcome.wake_within is not None:  # the next uptime transition, whatever else comes
        delay = outcome.wake_within if delay is None else min(delay, outcome.wake_within)
    return delay, {} if interval is None else {"driftIntervalSeconds": interval}


def _time_to_ready(
    ctx: OperatorContext, obj: AuraInstance, patch: dict[str, Any], now: datetime
) -> None:
    was_ready = (c := obj.status.condition(READY)) is not None and c.status == "True"
    is_ready = any(c["type"] == READY and c["status"] == "True" for c in patch["conditions"])
    creation = obj.status.creation
    if is_ready and not was_ready and creation is not None and obj.status.state == "creating":
        ctx.metrics.time_to_ready.observe((now - creation.requested_at).total_seconds())


def observe(ctx: OperatorContext, obj: AuraInstance, patch: dict[str, Any], now: datetime) -> None:
    """The metrics of a status write: the state, and the time to Ready of a new instance."""
    _time_to_ready(ctx, obj, patch, now)
    ctx.metrics.set_state(obj.ref.uid, patch.get("state", obj.status.state))
