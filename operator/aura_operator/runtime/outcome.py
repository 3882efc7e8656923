"""What one reconcile pass decided: status to write, conditions, events and when to look again.

Reconcile code returns an `Outcome` instead of writing status or sleeping itself, so that the
decisions are plain data a unit test can read, and one place (runtime/controller.py,
`write_status`) applies them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aura_operator.runtime.classify import Verdict
from aura_operator.runtime.conditions import SYNCED, ConditionUpdate, SyncedReason


class Recorder(Protocol):
    """Where events go (kopf in production, a list in tests)."""

    def event(self, type_: str, reason: str, message: str) -> None: ...


class ListRecorder:
    """Keeps events in memory (tests, and the demo's progress output)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))


@dataclass
class Outcome:
    """The result of one pass.

    `status` holds `.status` fields to merge (None removes a field). `requeue_after` is when to
    look again (None: `transient`/`drift` plan it; neither: only when the object changes).
    `spec_applied` marks the spec as fully applied, which moves `status.observedGeneration` up
    to the object's generation. `failed` counts the pass as a failure for the object's backoff.
    """

    conditions: list[ConditionUpdate] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    requeue_after: float | None = None
    spec_applied: bool = False
    failed: bool = False
    next_attempt: bool = False
    transient: str | None = None
    """The instance is in this transient state: the next read is planned by TransitionTimes."""
    initiated: bool = False
    """This pass started the transient state (its duration can be learnt)."""
    drift: bool = False
    """The instance is settled: the next read is a drift read, planned by DriftScheduler."""
    observed_at: datetime | None = None
    """When the read of Aura that `status` describes answered (None: this pass read nothing).
    The controller writes it as `status.observedAt` with every status change and with the
    first observation after the operator starts (issue 17), so that a status written before a
    restart never passes for a new observation."""
    wake_within: float | None = None
    """Look again no later than this many seconds from now, whatever else plans the next pass
    (an AuraInstance's next uptime transition); the kind's `plan` applies it."""
    stale: bool = False
    """The object changed under this pass (a conditional write lost to another writer): write
    nothing, since this pass's view is out of date, and read the object again at once."""


def synced_ok(message: str) -> ConditionUpdate:
    return ConditionUpdate(SYNCED, "True", SyncedReason.SUCCESS, message)


def synced_false(reason: str, message: str) -> ConditionUpdate:
    return ConditionUpdate(SYNCED, "False", reason, message)


def from_verdict(verdict: Verdict, events: Recorder) -> Outcome:
    """The outcome of a pass that ended in an error (see classify.py)."""
    if verdict.event:
        events.event("Warning", verdict.reason, verdict.message)
    condition = synced_false(verdict.reason, verdict.message)
    if verdict.stale:
        return Outcome(conditions=[condition], requeue_after=0.0, stale=True)
    if not verdict.requeue:
        return Outcome(conditions=[condition])
    return Outcome(
        conditions=[condition],
        requeue_after=verdict.retry_after,
        failed=verdict.backoff,
        next_attempt=True,
    )


def backoff(failures: int, *, base: float = 5.0, cap: float = 300.0) -> float:
    """Error backoff of an object: 5 s, 10 s, 20 s ... up to `cap`, with 20 % jitter."""
    delay = min(cap, base * (2.0 ** max(0, failures)))
    return float(delay * random.uniform(0.8, 1.0))
