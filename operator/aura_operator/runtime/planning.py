"""Plan mode's outcomes, for the controller (runtime/controller.py, `decide` and
`finalize_once`): what a planned pass shows, and whether the first pass after a plan sent it.

A planned pass ends in the client's `AuraPlanned` signal (the first request that would change
something, described instead of sent) or in the kind's own outcome (nothing to send). Either way
the object shows Synced=False Planned, whose message is the plan (runtime/plan.py's `summary`)
and how to apply it; an event says a new plan. Once the annotation is gone, the pass that sends
compares what it sent with the plan the object still shows: PlanApplied, or PlanChanged naming
both (the spec or Aura moved in between).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aura_operator.aura import AuraPlanned
from aura_operator.runtime import plan as plans
from aura_operator.runtime.conditions import SYNCED, SyncedReason
from aura_operator.runtime.model import ANNOTATION_RECONCILE, StatusModel
from aura_operator.runtime.outcome import Outcome, Recorder, synced_false
from aura_operator.runtime.settings import Settings

Body = Mapping[str, Any]


def planning_hint(settings: Settings) -> str:
    """How to apply a plan: what put the object in plan mode, and how to end it."""
    if settings.dry_run:
        return "the operator runs with --dry-run"
    return f"remove the annotation {ANNOTATION_RECONCILE}: plan to send it"


def planned(body: Body, settings: Settings, events: Recorder, signal: AuraPlanned) -> Outcome:
    """The outcome of a planned pass: Synced=False Planned saying what would be sent (and an
    event when the plan is new), read again at the drift interval (Aura may change under it)."""
    request = plans.plan_request(signal.method, signal.path, signal.body, signal.current)
    message = f"{plans.summary([request])} ({planning_hint(settings)})"
    shown = StatusModel.model_validate(dict(body.get("status") or {})).condition(SYNCED)
    if shown is None or shown.reason != SyncedReason.PLANNED or shown.message != message:
        events.event("Normal", SyncedReason.PLANNED, message[: plans.EVENT_LIMIT])
    return Outcome(
        conditions=[synced_false(SyncedReason.PLANNED, message)],
        requeue_after=settings.drift_interval,
    )


def shown_plan(body: Body) -> str | None:
    """The plan the object shows (Synced=False Planned), without its hint; None if none."""
    synced = StatusModel.model_validate(dict(body.get("status") or {})).condition(SYNCED)
    if synced is None or synced.reason != SyncedReason.PLANNED:
        return None
    return synced.message.rsplit(" (", 1)[0]


def compare_with_plan(events: Recorder, shown: str, sent: list[AuraPlanned]) -> None:
    """The first pass that sends after plan mode ended: was exactly the plan sent? Said in an
    event (PlanApplied, or PlanChanged naming both when Aura or the spec moved in between)."""
    requests = [plans.plan_request(s.method, s.path, s.body, s.current) for s in sent]
    if not requests:  # nothing sent (yet: a pass that lost a race tries again)
        return
    done = "; ".join(plans.describe(r).removeprefix("would ") for r in requests)
    if plans.summary(requests) == shown:
        events.event("Normal", "PlanApplied", f"sent as planned: {done}"[: plans.EVENT_LIMIT])
    else:
        message = f"sent {done}; the plan showed: {shown}"
        events.event("Warning", "PlanChanged", message[: plans.EVENT_LIMIT])


def nothing_planned(settings: Settings, outcome: Outcome) -> Outcome:
    """A planned pass that would send nothing: the kind's outcome, its success shown as
    Planned (so that plan mode stays visible); an error the kind found stays as it is."""
    synced = next((c for c in outcome.conditions if c.type == SYNCED), None)
    if synced is not None and synced.status == "False":
        return outcome
    message = f"{plans.summary([])} ({planning_hint(settings)})"
    others = [c for c in outcome.conditions if c.type != SYNCED]
    return replace(outcome, conditions=[*others, synced_false(SyncedReason.PLANNED, message)])
