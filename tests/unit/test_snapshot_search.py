"""Where a lost snapshot request is looked for: the AdHoc snapshots of the intent's day and
later, both days when the intent is near midnight, never a Scheduled one or an older one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aura_operator.aura import Snapshot
from aura_operator.kinds.snapshot.lookup import adhoc_since, search_dates


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_one_day_when_the_intent_is_far_from_midnight() -> None:
    assert search_dates(at("2026-12-01T11:00:00"), at("2026-12-01T11:05:00")) == ["2026-12-01"]


def test_both_days_when_the_intent_is_near_midnight() -> None:
    before = at("2026-12-01T23:59:30")
    assert search_dates(before, at("2026-12-02T00:00:20")) == ["2026-12-01", "2026-12-02"]
    # Just after midnight, the clock skew reaches back into the day before.
    assert search_dates(at("2026-12-02T00:00:30"), at("2026-12-02T00:01:00")) == [
        "2026-12-01", "2026-12-02"
    ]  # fmt: skip


def snap(id_: str, profile: str, taken: datetime) -> Snapshot:
    return Snapshot(instance_id="6f3a1c2e", snapshot_id=id_, profile=profile, timestamp=taken)


def test_only_adhoc_snapshots_taken_since_the_intent_match() -> None:
    requested = at("2026-12-01T11:00:00")
    snapshots = [
        snap("old", "AdHoc", requested - timedelta(minutes=10)),
        snap("scheduled", "Scheduled", requested + timedelta(seconds=5)),
        snap("ours", "AdHoc", requested + timedelta(seconds=1)),
        snap("skewed", "AdHoc", requested - timedelta(seconds=30)),
    ]
    assert [s.snapshot_id for s in adhoc_since(snapshots, requested)] == ["ours", "skewed"]
