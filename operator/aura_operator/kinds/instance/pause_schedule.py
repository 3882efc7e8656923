"""spec.paused and spec.uptime in a pass: the paused state wanted now, and when to look again.

uptime.py is the pure schedule; this is what one AuraInstance pass makes of it: the problem an
unparsable `spec.uptime` is (InvalidSpec, nothing sent), whether the instance should be paused
at the pass's `now` (`paused: true` wins), whether a change now is the schedule's own transition
(so it is not reported as drift), `status.uptime` (the next transition) and the wake-up at that
transition, so that the object is read then instead of being polled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aura_operator.kinds.instance import uptime
from aura_operator.kinds.instance.model import AuraInstance
from aura_operator.runtime.model import SpecProblem

#: The wake-up comes this long after the transition, so that a timer firing a little early
#: never finds the schedule unchanged.
WAKE_MARGIN = 1.0


@dataclass(frozen=True)
class Wanted:
    """What spec.paused and spec.uptime want at one instant."""

    paused: bool
    schedule: uptime.Schedule | None
    due: bool
    """A transition of the schedule has come since the last pass recorded it: acting on it is
    the schedule at work, not drift."""


def schedule_of(obj: AuraInstance) -> uptime.Schedule | SpecProblem | None:
    """The parsed spec.uptime (None: no schedule), or the problem with it."""
    if obj.spec.uptime is None:
        return None
    try:
        return uptime.parse(obj.spec.uptime)
    except uptime.UptimeError as error:
        return SpecProblem(uptime.FIELD, str(error))


def _due(obj: AuraInstance, now: datetime) -> bool:
    recorded = obj.status.uptime.next_transition if obj.status.uptime else None
    if recorded is None:
        return False
    try:
        at = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    except ValueError:
        return False
    return at <= now


def wanted(obj: AuraInstance, now: datetime) -> Wanted:
    """Whether the instance should be paused at `now` (spec.uptime already checked)."""
    schedule = schedule_of(obj)
    parsed = schedule if isinstance(schedule, uptime.Schedule) else None
    paused = uptime.desired_paused(obj.spec.paused, parsed, now)
    due = parsed is not None and not obj.spec.paused and _due(obj, now)
    return Wanted(paused, parsed, due)


def why(obj: AuraInstance, want: Wanted) -> str:
    """The spec field that wants the current state, quoted for an event."""
    if obj.spec.paused or want.schedule is None:
        return "spec.paused"
    return f"spec.uptime {obj.spec.uptime!r}"


def status(obj: AuraInstance, now: datetime) -> dict[str, Any]:
    """`status.uptime`: the next transition (None removes it: no schedule, or none ahead)."""
    schedule = schedule_of(obj)
    if not isinstance(schedule, uptime.Schedule):
        return {"uptime": None}
    return {"uptime": uptime.status(schedule, now)}


def wake_within(obj: AuraInstance, now: datetime) -> float | None:
    """Seconds until the pass at the schedule's next transition (None: there is none)."""
    schedule = schedule_of(obj)
    if not isinstance(schedule, uptime.Schedule):
        return None
    seconds = uptime.seconds_until_next(schedule, now)
    return None if seconds is None else seconds + WAKE_MARGIN
