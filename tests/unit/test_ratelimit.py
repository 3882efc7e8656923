"""Retry-After parsing, backoff maths and the priority token bucket, on a fake clock."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest

from aura_operator.aura.ratelimit import (
    BudgetHold,
    CredentialBudget,
    Priority,
    backoff_delay,
    parse_retry_after,
)
from tests.clock import FakeClock

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("  7 ", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("120", 120.0),
        (None, None),
        ("", None),
        ("   ", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("5 seconds", None),
        ("Thu, 26 Nov 2026 12:00:30 GMT", 30.0),  # IMF-fixdate
        ("Thursday, 26-Nov-26 12:01:00 GMT", 60.0),  # RFC 850
        ("Thu Nov 26 12:00:10 2026", 10.0),  # asctime
        ("Thu, 26 Nov 2026 11:59:00 GMT", 0.0),  # in the past
        ("Thu, 32 Nov 2026 12:00:00 GMT", None),  # not a date
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_is_jittered_within_half_to_full_capped_ceiling(attempt: int) -> None:
    ceiling = min(30.0, 1.0 * 2**attempt)
    rng = random.Random(attempt)
    delays = [backoff_delay(attempt, rng=rng) for _ in range(200)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 1  # jittered, not a fixed schedule


def test_backoff_cap_holds_for_large_attempts() -> None:
    assert backoff_delay(50, rng=random.Random(1)) <= 30.0
    assert backoff_delay(3, cap=2.0, rng=random.Random(1)) <= 2.0


async def _settle() -> None:
    """Let every ready task run until it blocks again (no real time passes)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_burst_is_granted_at_once_then_one_token_per_interval() -> None:
    clock = FakeClock()
    budget = CredentialBudget(60, burst=3, clock=clock)  # one token per second
    for _ in range(3):
        assert await budget.acquire() == 0.0
    fourth = asyncio.create_task(budget.acquire())
    await _settle()
    assert not fourth.done()
    clock.advance(0.5)
    await _settle()
    assert not fourth.done()
    clock.advance(0.5)
    await _settle()
    assert fourth.done()
    assert fourth.result() == pytest.approx(1.0)


async def test_rate_never_exceeded_over_a_minute() -> None:
    clock = FakeClock(autojump=True)
    budget = CredentialBudget(110, burst=10, clock=clock)
    start = clock.monotonic()
    grants = []
    for _ in range(200):
        await budget.acquire()
        grants.append(clock.monotonic() - start)
    in_first_minute = sum(1 for t in grants if t < 60.0)
    assert in_first_minute <= 110 + 10  # rate plus the initial burst
    # Any 60 s window after the burst holds at most the rate (+1 for window edges).
    for i, t in enumerate(grants):
        window = [g for g in grants[i:] if g < t + 60.0]
        if t >= 60.0:
            assert len(window) <= 111


async def test_changes_overtake_queued_background_reads() -> None:
    clock = FakeClock()
    budget = CredentialBudget(60, burst=1, clock=clock)
    await budget.acquire()  # bucket now empty
    order: list[str] = []

    async def take(name: str, priority: Priority) -> None:
        await budget.acquire(priority)
        order.append(name)

    tasks = [asyncio.create_task(take(f"bg{i}", Priority.BACKGROUND)) for i in range(3)]
    await _settle()
    tasks.append(asyncio.create_task(take("transient", Priority.TRANSIENT)))
    tasks.append(asyncio.create_task(take("change", Priority.CHANGE)))
    await _settle()
    for _ in range(5):
        clock.advance(1.0)
        await _settle()
    await asyncio.gather(*tasks)
    assert order == ["change", "transient", "bg0", "bg1", "bg2"]
    assert budget.stats.granted_by_priority[Priority.BACKGROUND] == 3


async def test_hold_blocks_everyone_until_it_has_passed() -> None:
    clock = FakeClock()
    budget = CredentialBudget(600, burst=10, clock=clock)
    budget.hold(3.0)
    waiter = asyncio.create_task(budget.acquire(max_hold_wait=5.0))
    await _settle()
    clock.advance(2.9)
    await _settle()
    assert not waiter.done()
    clock.advance(0.2)  # past the hold; the bucket was emptied, 0.1 s buys one token at 600/min
    await _settle()
    assert waiter.done()
    assert waiter.result() >= 3.0


async def test_hold_longer_than_the_caller_will_wait_raises_at_once() -> None:
    clock = FakeClock()
    budget = CredentialBudget(110, clock=clock)
    budget.hold(30.0)
    with pytest.raises(BudgetHold) as info:
        await budget.acquire(max_hold_wait=5.0)
    assert info.value.retry_after == pytest.approx(30.0)
    assert budget.waiting == 0


async def test_hold_only_extends() -> None:
    clock = FakeClock()
    budget = CredentialBudget(110, clock=clock)
    budget.hold(10.0)
    budget.hold(2.0)
    assert budget.hold_remaining() == pytest.approx(10.0)
    budget.hold(20.0)
    assert budget.hold_remaining() == pytest.approx(20.0)


async def test_a_hold_arriving_while_queued_raises_for_impatient_waiters() -> None:
    clock = FakeClock()
    budget = CredentialBudget(60, burst=1, clock=clock)
    await budget.acquire()
    waiter = asyncio.create_task(budget.acquire(max_hold_wait=5.0))
    await _settle()
    budget.hold(60.0)
    await _settle()
    with pytest.raises(BudgetHold):
        await waiter
    assert budget.waiting == 0


async def test_cancelled_waiter_leaves_the_queue_and_passes_the_turn() -> None:
    clock = FakeClock()
    budget = CredentialBudget(60, burst=1, clock=clock)
    await budget.acquire()
    first = asyncio.create_task(budget.acquire())
    second = asyncio.create_task(budget.acquire())
    await _settle()
    first.cancel()
    await _settle()
    assert budget.waiting == 1
    clock.advance(1.0)
    await _settle()
    assert second.done()


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        CredentialBudget(0)
