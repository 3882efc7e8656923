"""The per-credential pass slots (runtime/loop.py): a bounded number of passes in flight, a
change first, and nothing held by a loop that was stopped or cancelled while it queued."""

from __future__ import annotations

import asyncio

from kopf._cogs.aiokits.aioenums import FlagSetter, FlagWaiter
from kopf._core.intents.stoppers import DaemonStoppingReason

from aura_operator.runtime.loop import BACKGROUND, PLANNED, URGENT, PassSlots


def stop_flag() -> tuple[FlagSetter[DaemonStoppingReason], FlagWaiter[DaemonStoppingReason]]:
    setter: FlagSetter[DaemonStoppingReason] = FlagSetter()
    return setter, FlagWaiter(setter)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_at_most_limit_in_flight_per_credential() -> None:
    slots = PassSlots(limit=2)
    _, stopped = stop_flag()
    assert await slots.acquire("a", PLANNED, asyncio.Event(), stopped)
    assert await slots.acquire("a", PLANNED, asyncio.Event(), stopped)
    third = asyncio.ensure_future(slots.acquire("a", PLANNED, asyncio.Event(), stopped))
    other = await slots.acquire("b", PLANNED, asyncio.Event(), stopped)  # its own slots
    await settle()
    assert other and not third.done()
    assert slots.in_flight("a") == 2
    slots.release("a")
    assert await third
    assert slots.in_flight("a") == 2


async def test_waiters_go_by_priority_then_arrival() -> None:
    slots = PassSlots(limit=1)
    _, stopped = stop_flag()
    assert await slots.acquire(None, PLANNED, asyncio.Event(), stopped)
    order: list[str] = []

    async def queue(name: str, priority: int) -> None:
        await slots.acquire(None, priority, asyncio.Event(), stopped)
        order.append(name)

    waiters = [
        asyncio.ensure_future(queue(name, priority))
        for name, priority in [("drift", BACKGROUND), ("read-1", PLANNED), ("read-2", PLANNED)]
    ]
    await settle()
    urgent = asyncio.ensure_future(queue("change", URGENT))
    await settle()
    for _ in range(4):
        slots.release(None)
        await settle()
    await asyncio.gather(urgent, *waiters)
    assert order == ["change", "read-1", "read-2", "drift"]


async def test_a_waiter_woken_by_a_change_moves_ahead() -> None:
    slots = PassSlots(limit=1)
    _, stopped = stop_flag()
    assert await slots.acquire(None, PLANNED, asyncio.Event(), stopped)
    order: list[str] = []
    wakes = {name: asyncio.Event() for name in ("first", "second")}

    async def queue(name: str) -> None:
        await slots.acquire(None, BACKGROUND, wakes[name], stopped)
        order.append(name)

    waiters = [asyncio.ensure_future(queue(name)) for name in wakes]
    await settle()
    wakes["second"].set()  # its spec changed while it queued
    await settle()
    slots.release(None)
    await settle()
    slots.release(None)
    await asyncio.gather(*waiters)
    assert order == ["second", "first"]


async def test_a_stopped_loop_stops_queueing_and_holds_nothing() -> None:
    slots = PassSlots(limit=1)
    setter, stopped = stop_flag()
    _, running = stop_flag()
    assert await slots.acquire(None, PLANNED, asyncio.Event(), running)
    waiting = asyncio.ensure_future(slots.acquire(None, PLANNED, asyncio.Event(), stopped))
    await settle()
    setter.set(DaemonStoppingReason.RESOURCE_DELETED)
    assert await waiting is False
    slots.release(None)
    assert slots.in_flight(None) == 0


async def test_a_cancelled_waiter_gives_back_what_it_was_handed() -> None:
    slots = PassSlots(limit=1)
    _, stopped = stop_flag()
    assert await slots.acquire(None, PLANNED, asyncio.Event(), stopped)
    first = asyncio.ensure_future(slots.acquire(None, PLANNED, asyncio.Event(), stopped))
    second = asyncio.ensure_future(slots.acquire(None, PLANNED, asyncio.Event(), stopped))
    await settle()
    slots.release(None)  # handed to `first` ...
    first.cancel()  # ... which is cancelled before it runs again: `second` gets it
    await settle()
    assert first.cancelled()
    assert await second
    assert slots.in_flight(None) == 1
    slots.release(None)
    assert slots.in_flight(None) == 0
