"""Uptime schedules: kube-downscaler's syntax, clear errors, the right local times across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aura_operator.kinds.instance.uptime import (
    FORMS,
    Schedule,
    Transition,
    UptimeError,
    desired_paused,
    is_up,
    next_transition,
    parse,
    seconds_until_next,
    status,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = parse("Mon-Fri 07:30-20:30 Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str, zone: ZoneInfo, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone, fold=fold)


def changes(schedule: Schedule, start: datetime, hours: int) -> list[Transition]:
    """Every change of `is_up`, minute by minute: the brute-force truth."""
    found, state = [], is_up(schedule, start)
    for minute in range(1, hours * 60 + 1):
        at = start + timedelta(minutes=minute)
        if is_up(schedule, at) != state:
            state = not state
            found.append(Transition(at, state))
    return found


# --- the syntax ------------------------------------------------------------------------------


def test_office_hours_on_a_weekday_and_the_weekend() -> None:
    monday = "2026-06-01"  # a Monday, CEST
    assert not is_up(OFFICE, local(f"{monday}T07:29:59", BERLIN))
    assert is_up(OFFICE, local(f"{monday}T07:30:00", BERLIN))
    assert is_up(OFFICE, local(f"{monday}T20:29:59", BERLIN))
    assert not is_up(OFFICE, local(f"{monday}T20:30:00", BERLIN))
    assert not is_up(OFFICE, local("2026-06-06T12:00:00", BERLIN))  # Saturday
    # The same instant, whatever zone it is given in.
    assert is_up(OFFICE, utc("2026-06-01T05:30:00"))
    assert not is_up(OFFICE, utc("2026-06-01T05:29:00"))


def test_several_ranges_any_case_and_a_week_that_wraps() -> None:
    s = parse("sun-THU 08:00-17:00 Asia/Jerusalem, Sat-Sat 10:00-11:00 UTC")
    assert is_up(s, local("2026-06-07T09:00:00", ZoneInfo("Asia/Jerusalem")))  # Sunday
    assert not is_up(s, local("2026-06-05T09:00:00", ZoneInfo("Asia/Jerusalem")))  # Friday
    assert is_up(s, utc("2026-06-06T10:30:00"))  # Saturday, the second range
    assert not is_up(s, utc("2026-06-06T11:00:00"))


def test_always_and_never_never_change() -> None:
    now = utc("2026-03-29T01:00:00")
    assert is_up(parse("always"), now)
    assert not is_up(parse(" Never "), now)
    assert next_transition(parse("always"), now) is None
    assert next_transition(parse("never"), now) is None


def test_a_whole_week_of_whole_days_is_always_up() -> None:
    s = parse("Mon-Sun 00:00-24:00 Europe/Berlin")
    assert is_up(s, utc("2026-10-25T01:30:00"))
    assert next_transition(s, utc("2026-10-24T12:00:00")) is None


def test_an_end_of_24_00_runs_to_midnight() -> None:
    s = parse("Fri-Fri 22:00-24:00 UTC")
    assert is_up(s, utc("2026-06-05T23:59:59"))
    assert not is_up(s, utc("2026-06-06T00:00:00"))
    assert next_transition(s, utc("2026-06-05T23:00:00")) == (utc("2026-06-06T00:00:00"), False)


def test_an_absolute_range_includes_its_start_and_excludes_its_end() -> None:
    s = parse("2026-12-24T00:00:00+01:00-2026-12-27T00:00:00+01:00")
    assert not is_up(s, utc("2026-12-23T22:59:59"))
    assert is_up(s, utc("2026-12-23T23:00:00"))
    assert not is_up(s, utc("2026-12-26T23:00:00"))
    assert next_transition(s, utc("2026-12-01T00:00:00")) == (utc("2026-12-23T23:00:00"), True)
    assert next_transition(s, utc("2026-12-25T00:00:00")) == (utc("2026-12-26T23:00:00"), False)
    assert next_transition(s, utc("2026-12-27T00:00:00")) is None


def test_after_a_long_absolute_range_the_weekly_ranges_take_over() -> None:
    s = parse("2026-12-01T00:00:00+00:00-2026-12-21T10:00:00+00:00, Mon-Fri 07:30-20:30 UTC")
    # Inside both; the absolute range ends on a Monday morning, inside the weekly range, so the
    # next change is that Monday evening, nineteen days ahead.
    assert next_transition(s, utc("2026-12-02T12:00:00")) == (utc("2026-12-21T20:30:00"), False)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "it is empty"),
        ("Mon-Fri 07:30-20:30", "'Mon-Fri 07:30-20:30' is not a range"),
        ("Mon-Fri 7:30-20:30 UTC", "is not a range"),
        ("Monday-Friday 07:30-20:30 UTC", "is not a range"),
        ("Mon-Fri 07:30-20:30 UTC,", "has an empty range (a stray comma)"),
        ("Mon-Frx 07:30-20:30 UTC", "unknown weekday 'Frx'"),
        ("Mon-Fri 07:60-20:30 UTC", "start time 07:60"),
        ("Mon-Fri 24:00-24:00 UTC", "start time 24:00"),
        ("Mon-Fri 07:30-24:30 UTC", "end time 24:30"),
        ("Mon-Fri 07:30-20:30 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("Mon-Fri 07:30-20:30 ../etc/passwd", "unknown time zone"),
        ("Mon-Fri 07:30-07:30 UTC", "the end is not after the start"),
        ("always, Mon-Fri 07:30-20:30 UTC", "'always' stands alone"),
        ("2026-12-27T00:00:00+01:00-2026-12-24T00:00:00+01:00", "the end is not after"),
        ("2026-13-24T00:00:00+01:00-2026-12-27T00:00:00+01:00", "not a valid date and time"),
        ("2026-12-24T00:00:00-2026-12-27T00:00:00", "is not a range"),
    ],
)
def test_errors_name_the_field_the_problem_and_the_allowed_forms(text: str, problem: str) -> None:
    with pytest.raises(UptimeError) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith("spec.uptime: ")
    assert problem in message
    assert message.endswith(f"; allowed: {FORMS}")


def test_a_range_across_midnight_is_refused_with_the_two_ranges_to_write() -> None:
    with pytest.raises(UptimeError, match="may not cross midnight") as caught:
        parse("Fri-Sun 22:00-06:00 Europe/Berlin")
    suggestion = "'Fri-Sun 22:00-24:00 Europe/Berlin, Sat-Mon 00:00-06:00 Europe/Berlin'"
    assert suggestion in str(caught.value)
    split = parse(suggestion.strip("'"))
    assert is_up(split, local("2026-06-06T23:00:00", BERLIN))  # Saturday night
    assert is_up(split, local("2026-06-08T05:59:00", BERLIN))  # Monday morning
    assert not is_up(split, local("2026-06-08T06:00:00", BERLIN))


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_up(OFFICE, datetime(2026, 6, 1, 12, 0))


# --- transitions across daylight-saving changes -----------------------------------------------


def test_office_hours_in_berlin_across_spring_forward() -> None:
    # Friday 2026-03-27 20:30 CET is 19:30 UTC; clocks go forward on Sunday the 29th;
    # Monday 07:30 CEST is 05:30 UTC (it was 06:30 UTC the week before).
    assert next_transition(OFFICE, utc("2026-03-27T12:00:00")) == (
        utc("2026-03-27T19:30:00"),
        False,
    )
    assert next_transition(OFFICE, utc("2026-03-27T19:30:00")) == (utc("2026-03-30T05:30:00"), True)
    assert next_transition(OFFICE, utc("2026-03-20T19:30:00")) == (utc("2026-03-23T06:30:00"), True)


def test_office_hours_in_berlin_across_fall_back() -> None:
    # Clocks go back on Sunday 2026-10-25; Monday 07:30 CET is 06:30 UTC.
    assert next_transition(OFFICE, utc("2026-10-23T18:30:00")) == (utc("2026-10-26T06:30:00"), True)
    assert next_transition(OFFICE, utc("2026-10-26T06:30:00")) == (
        utc("2026-10-26T19:30:00"),
        False,
    )


def test_office_hours_in_new_york_across_both_changes() -> None:
    ny = parse("Mon-Fri 07:30-20:30 America/New_York")
    # Friday 2026-03-06 20:30 EST = Saturday 01:30 UTC; Monday 03-09 07:30 EDT = 11:30 UTC.
    assert next_transition(ny, utc("2026-03-06T20:00:00")) == (utc("2026-03-07T01:30:00"), False)
    assert next_transition(ny, utc("2026-03-07T01:30:00")) == (utc("2026-03-09T11:30:00"), True)
    # Friday 2026-10-30 20:30 EDT = 00:30 UTC; Monday 11-02 07:30 EST = 12:30 UTC.
    assert next_transition(ny, utc("2026-10-31T00:30:00")) == (utc("2026-11-02T12:30:00"), True)


def test_a_range_starting_in_the_skipped_hour_starts_at_the_jump() -> None:
    # Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    s = parse("Sun-Sun 02:30-04:00 Europe/Berlin")
    assert next_transition(s, utc("2026-03-28T12:00:00")) == (utc("2026-03-29T01:00:00"), True)
    assert next_transition(s, utc("2026-03-29T01:00:00")) == (utc("2026-03-29T02:00:00"), False)
    assert not is_up(s, utc("2026-03-29T00:59:59"))


def test_a_range_wholly_inside_the_skipped_hour_does_not_run_that_day() -> None:
    # New York 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
    s = parse("Sun-Sun 02:15-02:45 America/New_York")
    assert not any(
        is_up(s, utc("2026-03-08T06:00:00") + timedelta(minutes=m)) for m in range(0, 180)
    )
    assert next_transition(s, utc("2026-03-07T12:00:00")) == (utc("2026-03-15T06:15:00"), True)


def test_an_hour_shown_twice_does_not_stop_and_restart_a_range() -> None:
    # Berlin 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00 UTC. The range starts at
    # the first 02:30 (00:30 UTC) and ends at 04:00 CET (03:00 UTC), staying up at 02:15 CET.
    s = parse("Sun-Sun 02:30-04:00 Europe/Berlin")
    assert next_transition(s, utc("2026-10-24T12:00:00")) == (utc("2026-10-25T00:30:00"), True)
    assert is_up(s, local("2026-10-25T02:15:00", BERLIN, fold=1))
    assert next_transition(s, utc("2026-10-25T00:30:00")) == (utc("2026-10-25T03:00:00"), False)


def test_a_range_ending_in_the_repeated_hour_ends_the_first_time_the_clock_reads_it() -> None:
    # New York 2026-11-01: 02:00 EDT goes back to 01:00 EST at 06:00 UTC.
    s = parse("Sun-Sun 01:00-01:30 America/New_York")
    assert is_up(s, local("2026-11-01T01:15:00", NEW_YORK, fold=0))  # EDT, 05:15 UTC
    assert not is_up(s, local("2026-11-01T01:15:00", NEW_YORK, fold=1))  # EST, 06:15 UTC
    assert next_transition(s, utc("2026-11-01T05:00:00")) == (utc("2026-11-01T05:30:00"), False)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("Mon-Fri 07:30-20:30 Europe/Berlin", "2026-03-26T00:00:00"),
        ("Mon-Fri 07:30-20:30 Europe/Berlin, Sun-Sun 02:30-04:00 Europe/Berlin",
         "2026-10-22T00:00:00"),
        ("Sat-Mon 00:00-02:30 America/New_York, Wed-Wed 12:00-24:00 UTC", "2026-03-05T00:00:00"),
        ("Sun-Sun 01:00-01:30 America/New_York, Sun-Sun 02:15-02:45 America/New_York",
         "2026-10-29T00:00:00"),
    ],
)  # fmt: skip
def test_next_transition_agrees_with_is_up_minute_by_minute(text: str, start: str) -> None:
    schedule, t0 = parse(text), utc(start)
    truth = changes(schedule, t0, hours=9 * 24)
    assert len(truth) >= 4
    predicted, at = [], t0
    while (nxt := next_transition(schedule, at)) is not None and nxt.at <= truth[-1].at:
        predicted.append(nxt)
        at = nxt.at
    assert predicted == truth


# --- the decision ---------------------------------------------------------------------------


def test_paused_true_wins_over_the_schedule() -> None:
    working_hours = local("2026-06-01T10:00:00", BERLIN)
    night = local("2026-06-01T23:00:00", BERLIN)
    assert desired_paused(True, OFFICE, working_hours)
    assert desired_paused(True, None, working_hours)
    assert not desired_paused(False, OFFICE, working_hours)
    assert desired_paused(False, OFFICE, night)
    assert not desired_paused(False, None, night)
    assert desired_paused(False, parse("never"), working_hours)


def test_the_status_and_the_wake_up_delay_name_the_next_transition() -> None:
    friday_evening = utc("2026-03-27T19:30:00")
    assert status(OFFICE, friday_evening) == {
        "nextTransition": "2026-03-30T05:30:00Z",
        "nextAction": "Resume",
    }
    assert seconds_until_next(OFFICE, friday_evening) == (2 * 24 + 10) * 3600
    assert status(OFFICE, utc("2026-03-30T05:30:00")) == {
        "nextTransition": "2026-03-30T18:30:00Z",
        "nextAction": "Pause",
    }
    assert status(parse("always"), friday_evening) is None
    assert seconds_until_next(parse("never"), friday_evening) is None
