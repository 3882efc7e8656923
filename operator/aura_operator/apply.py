"""Apply one pass's `Outcome`: write `.status` (only when it changed) and plan the next pass.

Planning is where the budget is spent wisely: a failed pass backs off, a transient instance is
read when its change is likely done (learnt per state), a settled one gets its next drift read
from the credential's drift time line. It also feeds the metrics: state, time to Ready.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aura_operator.context import OperatorContext
from aura_operator.objects import ObjectState
from aura_operator.outcome import Outcome, backoff
from aura_operator.resource import AuraInstance, Condition
from aura_operator.status import READY, SYNCED, ConditionUpdate, merge_conditions, now_iso


def _learn(ctx: OperatorContext, state: ObjectState, outcome: Outcome, mono: float) -> None:
    """Track the transient state this object is in, and learn durations we saw start and end."""
    if outcome.transient is not None:
        if outcome.initiated or state.transient != outcome.transient:
            state.transient = outcome.transient
            state.transient_since = mono
            state.transient_reads = 0
            state.transient_exact = outcome.initiated
        else:
            state.transient_reads += 1
        return
    if state.transient is not None and (outcome.drift or outcome.spec_applied):
        if state.transient_exact:
            ctx.transitions.observe(state.transient, mono - state.transient_since)
        state.transient = None


def plan(
    ctx: OperatorContext, obj: AuraInstance, outcome: Outcome, state: ObjectState, mono: float
) -> tuple[float | None, int | None]:
    """(delay before the next pass, drift interval to show) for this outcome."""
    state.failures = state.failures + 1 if outcome.failed else 0
    delay = outcome.requeue_after
    if outcome.failed:
        floor = backoff(state.failures - 1, cap=ctx.settings.error_backoff_max)
        delay = max(delay or 0.0, floor)
    _learn(ctx, state, outcome, mono)
    if outcome.transient is None and not outcome.drift:
        ctx.drift.release(obj.ref.uid)
    interval: int | None = None
    if delay is None and outcome.transient is not None:
        delay = ctx.transitions.next_read(
            outcome.transient,
            mono - state.transient_since,
            state.transient_reads,
            ctx.settings.poll_interval,
        )
    elif delay is None and outcome.drift and state.credential:
        rate = ctx.rate(state.credential)
        delay = ctx.drift.next_drift_read(state.credential, obj.ref.uid, rate, mono)
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
    if changes(current, patch):
        await ctx.kube.patch_status(obj.ref.namespace, obj.ref.name, patch)
    return delay
