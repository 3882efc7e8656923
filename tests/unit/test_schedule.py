"""Drift reads fit their share of the budget; transient reads land when a change is likely done."""

from __future__ import annotations

import itertools
import random

import pytest

from aura_operator.runtime.schedule import DriftScheduler, TransitionTimes, sweep_interval


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


def test_startup_reads_go_on_the_drift_line_at_drift_pace() -> None:
    # After a restart the sweep confirms existence; the per-instance re-reads are spread over
    # one drift interval at drift spacing, not at the full rate.
    drift = DriftScheduler(interval=300, jitter=0.2, share=0.5, rng=random.Random(5))
    delays = sorted(drift.next_startup_read("cred", f"uid{i}", 110, now=10.0) for i in range(1000))
    spacing = 60 / 55
    assert all(b - a >= spacing - 1e-9 for a, b in itertools.pairwise(delays))
    assert delays[0] >= 0
    assert delays[-1] == pytest.approx(1000 * spacing, rel=0.05)  # 18 minutes, not 9
    assert drift.interval("cred", 110) == pytest.approx(1000 * spacing)
    few = DriftScheduler(interval=300, jitter=0.2, share=0.5, rng=random.Random(6))
    assert all(
        0 <= few.next_startup_read("cred", f"uid{i}", 110, now=0.0) <= 300 + 5 for i in range(5)
    )


def test_the_sweep_takes_its_part_of_the_drift_share() -> None:
    # One list a minute out of 55 drift requests a minute leaves 54 for per-instance reads.
    drift = DriftScheduler(interval=900, jitter=0.2, share=0.5, sweep=60)
    assert drift.spacing(110) == pytest.approx(60 / 54)
    # On a small budget the sweep stretches so that it takes at most a quarter of the share:
    # 60/min x 0.1 = 6 drift requests a minute, so one list every 40 s at most ...
    assert sweep_interval(30, 60, 0.1) == pytest.approx(40)
    # ... and the configured interval when that is longer.
    assert sweep_interval(60, 60, 0.1) == 60
    assert DriftScheduler(interval=1, jitter=0, share=0.1, sweep=60).spacing(60) == 12


def test_share_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="share"):
        DriftScheduler(interval=1, jitter=0, share=0)


def test_without_an_estimate_reads_back_off_up_to_twice_the_poll_interval() -> None:
    times = TransitionTimes(explore=0.0)
    delays = [times.next_read("suspending", 0, reads, 10) for reads in range(8)]
    assert delays == pytest.approx([2, 3, 4.5, 6.75, 10.125, 15.1875, 20, 20])


def test_first_read_lands_at_the_learnt_duration_plus_a_margin() -> None:
    times = TransitionTimes(explore=0.0, margin=0.1)
    times.observe("creating", 90)
    assert times.next_read("creating", elapsed=0, reads=0, poll_interval=15) == 91.5
    assert times.next_read("creating", elapsed=30, reads=0, poll_interval=15) == 61.5
    # The planned read found it still creating: back off from a fifth of the poll interval.
    assert times.next_read("creating", elapsed=92, reads=1, poll_interval=15) == 4.5
    # Reads planned before anything was learnt also wait for the estimate once there is one.
    assert times.next_read("creating", elapsed=20, reads=2, poll_interval=15) == 71.5


def test_only_tight_observations_are_learnt() -> None:
    times = TransitionTimes()
    assert times.worth_learning("creating", 95, None, 15)  # the first one
    times.observe("creating", 95)
    # A read planned at the estimate (+ margin) that found it over says only "at most 96.5":
    # learning it would let the estimate creep up by its own margin.
    assert not times.worth_learning("creating", 96.5, None, 15)
    # One soon after a read that found it still going brackets the duration.
    assert times.worth_learning("creating", 101, 96.5, 15)
    # One earlier than the estimate (an explore read) brings it down.
    assert times.worth_learning("creating", 80, None, 15)
    # ... unless it queued for the budget: then it says little about when the state ended.
    assert not times.worth_learning("creating", 80, None, 15, queued=30)
    # The first observation of a state counts even so: those waiting for it go by it.
    assert times.worth_learning("updating", 400, None, 15, queued=300)


def test_scouts_poll_from_the_documented_duration_and_the_others_wait_for_them() -> None:
    times = TransitionTimes(explore=0.0, scouts=2, margin=0.0)
    # docs/aura-api.md: creating takes 60-180 s. Two scouts read first at 60 s, then every 3 s.
    assert times.next_read("creating", 0, 0, 15, uid="a") == 60
    assert times.next_read("creating", 1, 0, 15, uid="b") == 59
    assert times.next_read("creating", 60, 1, 15, uid="a") == 3
    # Everyone else waits for what they learn (at most until the documented upper end).
    assert times.next_read("creating", 2, 0, 15, uid="c") == 178
    assert times.next_read("creating", 3, 0, 15, uid="d") == 177
    # Without an exact start (found by a drift read, after a restart) nobody scouts.
    assert times.next_read("creating", 0, 0, 15) == 3
    # The first observation hands back who waited; from then on all read at the estimate.
    assert times.observe("creating", 92) == {"c", "d"}
    assert times.observe("creating", 91) == set()
    assert times.next_read("creating", 10, 0, 15, uid="e") == 81
    # A scout that left its state frees its place for the next transition of that state.
    times.next_read("updating", 0, 0, 15, uid="a")
    times.next_read("updating", 0, 0, 15, uid="b")
    assert times.next_read("updating", 0, 0, 15, uid="c") == 120  # waits (upper end 8 x 15)
    times.leave("a")
    assert times.next_read("updating", 0, 0, 15, uid="f") == 30  # scouts (lower end 2 x 15)


def test_estimate_is_a_low_quantile_of_recent_observations() -> None:
    times = TransitionTimes(window=5, quantile=0.25, explore=1.0, margin=0.0)
    for seconds in (100, 60, 95, 90, 400):  # 400: a read that waited long for the budget
        times.observe("creating", seconds)
    assert times.estimate("creating") == 90
    assert times.next_read("creating", elapsed=0, reads=0, poll_interval=5) == 72  # explores
    for seconds in (50, 50, 50, 50, 50):  # only the last `window` observations count
        times.observe("creating", seconds)
    assert times.estimate("creating") == 50
