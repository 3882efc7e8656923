"""Drift reads fit their share of the budget; transient reads land when a change is likely done."""

from __future__ import annotations

import itertools
import random

import pytest

from aura_operator.schedule import DriftScheduler, TransitionTimes


def test_few_instances_keep_the_base_interval_with_jitter() -> None:
    drift = DriftScheduler(interval=300, jitter=0.2, share=0.5, rng=random.Random(1))
    delays = [drift.next_drift_read("cred", f"uid{i}", 110, now=0.0) for i in range(5)]
    assert all(240 <= d <= 360 + 5 * 60 / 55 for d in delays)
    assert drift.interval("cred", 110) == 300


def test_many_instances_stretch_the_interval_to_fit_the_share() -> None:
    drift = DriftScheduler(interval=300, jitter=0.2, share=0.5, rng=random.Random(2))
    n = 1000
    slots = sorted(drift.next_drift_read("cred", f"uid{i}", 110, now=0.0) for i in range(n))
    spacing = 60 / (110 * 0.5)
    assert all(b - a >= spacing - 1e-9 for a, b in itertools.pairwise(slots))
    # 1000 reads at no more than 55 per minute: the interval is stretched to about 18 minutes.
    assert drift.interval("cred", 110) == pytest.approx(n * spacing)
    per_minute = max(sum(1 for s in slots if t <= s < t + 60) for t in range(0, int(slots[-1]), 10))
    assert per_minute <= 55 + 1


def test_sparse_lines_keep_the_base_interval_over_many_cycles() -> None:
    # 50 instances, each booking its next drift read when the previous one happens: the mean
    # interval must stay at the base interval (no creep towards the latest reserved slot).
    drift = DriftScheduler(interval=300, jitter=0.2, share=0.5, rng=random.Random(4))
    due = {f"uid{i}": drift.next_drift_read("cred", f"uid{i}", 110, now=0.0) for i in range(50)}
    intervals = []
    for _ in range(2000):
        uid, now = min(due.items(), key=lambda item: item[1])
        delay = drift.next_drift_read("cred", uid, 110, now=now)
        intervals.append(delay)
        due[uid] = now + delay
    mean = sum(intervals) / len(intervals)
    assert 290 <= mean <= 310
    assert max(intervals) <= 360 + 2  # jitter, plus at most a slot or two of spacing


def test_credentials_have_separate_lines_and_released_objects_stop_counting() -> None:
    drift = DriftScheduler(interval=60, jitter=0.0, share=1.0, rng=random.Random(3))
    for i in range(120):
        drift.next_drift_read("a", f"a{i}", 60, now=0.0)
    drift.next_drift_read("b", "b0", 60, now=0.0)
    assert drift.interval("a", 60) == 120
    assert drift.interval("b", 60) == 60
    for i in range(100):
        drift.release(f"a{i}")
    assert drift.interval("a", 60) == 60


def test_startup_reads_are_spread_at_the_full_rate() -> None:
    drift = DriftScheduler(interval=300, jitter=0.2, share=0.5)
    delays = [drift.next_startup_read("cred", 120, now=10.0) for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])


def test_share_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="share"):
        DriftScheduler(interval=1, jitter=0, share=0)


def test_without_an_estimate_reads_back_off_up_to_twice_the_poll_interval() -> None:
    times = TransitionTimes(explore=0.0)
    assert [times.next_read("creating", 0, reads, 10) for reads in range(4)] == [10, 15, 20, 20]


def test_first_read_lands_at_the_learnt_duration() -> None:
    times = TransitionTimes(explore=0.0)
    times.observe("creating", 90)
    assert times.next_read("creating", elapsed=0, reads=0, poll_interval=15) == 90
    assert times.next_read("creating", elapsed=30, reads=0, poll_interval=15) == 60
    # The planned read found it still creating: back off from the poll interval.
    assert times.next_read("creating", elapsed=90, reads=1, poll_interval=15) == 22.5
    # Reads planned before anything was learnt also wait for the estimate once there is one.
    assert times.next_read("creating", elapsed=20, reads=2, poll_interval=15) == 70
    assert times.next_read("updating", elapsed=0, reads=0, poll_interval=15) == 15


def test_estimate_is_a_low_quantile_of_recent_observations() -> None:
    times = TransitionTimes(window=5, quantile=0.25, explore=1.0)
    for seconds in (100, 60, 95, 90, 400):  # 400: a read that waited long for the budget
        times.observe("creating", seconds)
    assert times.estimate("creating") == 90
    assert times.next_read("creating", elapsed=0, reads=0, poll_interval=5) == 72  # explores
    for seconds in (50, 50, 50, 50, 50):  # only the last `window` observations count
        times.observe("creating", seconds)
    assert times.estimate("creating") == 50
