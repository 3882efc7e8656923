"""Uptime schedules: when an instance should run, in kube-downscaler's well-known syntax.

`spec.uptime` is either `always`, `never`, or comma-separated ranges, each one of
- recurring: `Mon-Fri 07:30-20:30 Europe/Berlin` (weekdays `Mon`..`Sun` in any case, a range that
  wraps like `Sun-Thu` allowed; times `HH:MM`, the end may be `24:00`; an IANA time zone);
- absolute: `2026-12-24T00:00:00+01:00-2026-12-27T00:00:00+01:00` (ISO 8601 with offsets).
Inside any range the instance runs; outside all of them it is paused; `paused: true` in the spec
wins over any schedule (`desired_paused`).

Where this differs from kube-downscaler, it is to be explicit rather than surprising:
- a recurring range whose end is not after its start (one crossing midnight) is refused with the
  two ranges to write instead, where kube-downscaler silently never matches it;
- an absolute range excludes its end instant, like a recurring one (kube-downscaler includes it);
- across a daylight-saving change each recurring range is one interval per day, from the first
  moment the local clock reads its start to the first moment it reads its end. When clocks go
  forward over the start, the range begins at the jump; when they go back, an hour the clock
  shows twice does not start or end the range twice (pausing a database for an hour at night and
  resuming it would cost more than it saves). A range wholly inside a skipped hour does not run
  that day.

Everything here is pure; `now` is always a timezone-aware datetime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FIELD = "spec.uptime"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FORMS = (
    "'always', 'never', or comma-separated ranges, each either 'Mon-Fri 07:30-20:30 "
    "Europe/Berlin' (weekdays Mon..Sun, HH:MM-HH:MM with an end up to 24:00, an IANA time zone) "
    "or '2026-12-24T00:00:00+01:00-2026-12-27T00:00:00+01:00' (ISO 8601 with UTC offsets)"
)

_RECURRING = re.compile(
    r"(?P<d1>[A-Za-z]{3})-(?P<d2>[A-Za-z]{3})\s+"
    r"(?P<h1>\d\d):(?P<m1>\d\d)-(?P<h2>\d\d):(?P<m2>\d\d)\s+(?P<tz>\S+)"
)
_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d"
_ABSOLUTE = re.compile(rf"(?P<start>{_ISO})-(?P<end>{_ISO})")
_DAY = 24 * 60
#: A weekly schedule that has not changed within this long never changes.
_LOOKAHEAD = timedelta(days=8)


class UptimeError(ValueError):
    """`spec.uptime` is not in the syntax; the message names the field and the allowed forms."""


@dataclass(frozen=True)
class Recurring:
    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after local midnight
    end: int  # minutes after local midnight, start < end <= 24:00
    zone: ZoneInfo


@dataclass(frozen=True)
class Absolute:
    start: datetime
    end: datetime


Range = Recurring | Absolute


@dataclass(frozen=True)
class Schedule:
    """A parsed `spec.uptime`: up inside any range, or always (`always=True`)."""

    ranges: tuple[Range, ...]
    always: bool = False


class Transition(NamedTuple):
    at: datetime  # UTC
    up: bool  # True: resume at `at`; False: pause at `at`


def _error(problem: str) -> UptimeError:
    return UptimeError(f"{FIELD}: {problem}; allowed: {FORMS}")


def _weekday(name: str, item: str) -> int:
    for index, day in enumerate(WEEKDAYS):
        if day.lower() == name.lower():
            return index
    raise _error(f"unknown weekday {name!r} in {item!r} (use {', '.join(WEEKDAYS)})")


def _minutes(hour: str, minute: str, item: str, *, end: bool) -> int:
    h, m = int(hour), int(minute)
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not end)):
        what = "end" if end else "start"
        limit = "24:00" if end else "23:59"
        raise _error(
            f"{what} time {hour}:{minute} in {item!r} is not a time of day (up to {limit})"
        )
    return h * 60 + m


def _zone(name: str, item: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _error(f"unknown time zone {name!r} in {item!r}") from None


def _days(first: int, last: int) -> frozenset[int]:
    return frozenset((first + i) % 7 for i in range((last - first) % 7 + 1))


def _split_suggestion(d1: int, d2: int, start: str, end: str, tz: str) -> str:
    nxt1, nxt2 = WEEKDAYS[(d1 + 1) % 7], WEEKDAYS[(d2 + 1) % 7]
    return f"'{WEEKDAYS[d1]}-{WEEKDAYS[d2]} {start}-24:00 {tz}, {nxt1}-{nxt2} 00:00-{end} {tz}'"


def _recurring(match: re.Match[str], item: str) -> Recurring:
    d1, d2 = _weekday(match["d1"], item), _weekday(match["d2"], item)
    start = _minutes(match["h1"], match["m1"], item, end=False)
    end = _minutes(match["h2"], match["m2"], item, end=True)
    zone = _zone(match["tz"], item)
    if end <= start:
        s, e = f"{match['h1']}:{match['m1']}", f"{match['h2']}:{match['m2']}"
        raise _error(
            f"in {item!r} the end is not after the start; a range may not cross midnight, "
            f"write two: {_split_suggestion(d1, d2, s, e, match['tz'])}"
        )
    return Recurring(_days(d1, d2), start, end, zone)


def _absolute(match: re.Match[str], item: str) -> Absolute:
    try:
        start = datetime.fromisoformat(match["start"])
        end = datetime.fromisoformat(match["end"])
    except ValueError as error:
        raise _error(f"{item!r} is not a valid date and time ({error})") from None
    if end <= start:
        raise _error(f"in {item!r} the end is not after the start")
    return Absolute(start.astimezone(UTC), end.astimezone(UTC))


def _range(item: str) -> Range:
    if item.lower() in ("always", "never"):
        raise _error(f"{item!r} stands alone, not in a list of ranges")
    if (match := _RECURRING.fullmatch(item)) is not None:
        return _recurring(match, item)
    if (match := _ABSOLUTE.fullmatch(item)) is not None:
        return _absolute(match, item)
    raise _error(f"{item!r} is not a range")


def parse(text: str) -> Schedule:
    """Parse `spec.uptime`; raises UptimeError naming the field and the allowed forms."""
    value = text.strip()
    if value.lower() == "always":
        return Schedule((), always=True)
    if value.lower() == "never":
        return Schedule(())
    if not value:
        raise _error("it is empty")
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise _error(f"{text!r} has an empty range (a stray comma)")
    return Schedule(tuple(_range(item) for item in items))


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _first_instant(zone: ZoneInfo, local: datetime) -> datetime:
    """The first instant at which the local clock reads `local` or later (UTC)."""
    early = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(early, zone) == local:
        return early  # it exists; fold=0 is its first occurrence if the clock shows it twice
    # `local` is skipped: the clock jumps over it; find the jump to the second.
    other = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(early, other), max(early, other)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            break
        if _wall(mid, zone) >= local:
            hi = mid
        else:
            lo = mid
    return hi


def _intervals_on(rng: Recurring, day: date) -> tuple[datetime, datetime] | None:
    if day.weekday() not in rng.days:
        return None
    midnight = datetime.combine(day, time())
    start = _first_instant(rng.zone, midnight + timedelta(minutes=rng.start))
    end = _first_instant(rng.zone, midnight + timedelta(minutes=rng.end))
    return (start, end) if start < end else None


def _recurring_intervals(
    rng: Recurring, since: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    first = _wall(since, rng.zone).date() - timedelta(days=1)
    last = _wall(until, rng.zone).date() + timedelta(days=1)
    found = []
    for offset in range((last - first).days + 1):
        interval = _intervals_on(rng, first + timedelta(days=offset))
        if interval is not None:
            found.append(interval)
    return found


def is_up(schedule: Schedule, now: datetime) -> bool:
    """Should the instance run at `now` (by the schedule alone)?"""
    at = _aware(now)
    if schedule.always:
        return True
    for rng in schedule.ranges:
        if isinstance(rng, Absolute):
            if rng.start <= at < rng.end:
                return True
            continue
        if any(s <= at < e for s, e in _recurring_intervals(rng, at, at)):
            return True
    return False


def _edges(schedule: Schedule, now: datetime) -> list[datetime]:
    """Every instant after `now` at which the schedule may change, far enough ahead."""
    anchors = [now]
    edges: set[datetime] = set()
    for rng in schedule.ranges:
        if isinstance(rng, Absolute):
            edges.update(t for t in (rng.start, rng.end) if t > now)
            anchors.extend(t for t in (rng.start, rng.end) if t > now)
    for anchor in anchors:
        for rng in schedule.ranges:
            if isinstance(rng, Recurring):
                for s, e in _recurring_intervals(rng, anchor, anchor + _LOOKAHEAD):
                    edges.update(t for t in (s, e) if t > now)
    return sorted(edges)


def next_transition(schedule: Schedule, now: datetime) -> Transition | None:
    """The next instant the schedule changes state, and to which; None if it never does."""
    at = _aware(now)
    if schedule.always:
        return None
    current = is_up(schedule, at)
    for edge in _edges(schedule, at):
        if is_up(schedule, edge) != current:
            return Transition(edge, not current)
    return None


def desired_paused(spec_paused: bool, schedule: Schedule | None, now: datetime) -> bool:
    """Whether the instance should be paused: `paused: true` wins, else the schedule decides."""
    if spec_paused:
        return True
    if schedule is None:
        return False
    return not is_up(schedule, now)


def seconds_until_next(schedule: Schedule, now: datetime) -> float | None:
    """How long until the next transition (to wake the object then); None if there is none."""
    transition = next_transition(schedule, now)
    if transition is None:
        return None
    return max(0.0, (transition.at - _aware(now)).total_seconds())


def status(schedule: Schedule, now: datetime) -> dict[str, str] | None:
    """`status.uptime`: the next transition, e.g. `{"nextTransition": "2026-03-30T05:30:00Z",
    "nextAction": "Resume"}`; None when the schedule never changes."""
    transition = next_transition(schedule, now)
    if transition is None:
        return None
    return {
        "nextTransition": transition.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nextAction": "Resume" if transition.up else "Pause",
    }
