"""The kind-independent part of "one loop per object": what every kind's daemon does alike.

The controller's daemon (runtime/controller.py) hands `run_loop` two functions: `read` (the
object as it is now, None once gone) and `step` (one pass on that fresh body, returning the
delay before the next and whether the next pass is a background re-examination). The loop:

- waits until this process leads (standbys do no reconciling);
- waits for one of its credential's pass slots (`PassSlots`) before it reads the object: at
  most `SLOTS_PER_CREDENTIAL` passes of a credential are in flight, so that a create storm of
  N objects holds a few dozen bodies, models and requests in memory, not N, while they queue
  for the credential's request budget; a woken object (a change) goes first;
- survives a failed read (API server down) with a short backoff instead of dying;
- stops when the object is gone, is being deleted, or was replaced by a new one of that name;
- runs each step under the object's lock, shielded from cancellation, so that deletion and
  shutdown let the pass in flight finish and record its outcome (the finalizer takes the same
  lock before it decides);
- sleeps until the delay, a wake-up (a watch event) or the stop flag.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from aura_operator.kube.api import KubeError
from aura_operator.runtime.leader import Leadership
from aura_operator.runtime.object_state import ObjectState
from aura_operator.runtime.outcome import backoff

#: How long kopf waits for a cancelled loop to exit: it exits at once, since the pass in flight
#: runs in a task of its own that the cancellation does not reach.
EXIT_TIMEOUT = 10.0
#: Longest wait between reads of an object the API server would not return.
READ_BACKOFF_CAP = 30.0
#: Passes of one credential in flight at once (and of objects whose credential is not known
#: yet). The budget serves 2 requests a second at the real rate (18 at the bench's time scale
#: 10); a pass spends well under a second outside its budget wait, so a few dozen passes keep
#: every budget busy.
SLOTS_PER_CREDENTIAL = 32

#: Slot priorities: a woken object (its spec, annotations, Secret or Aura changed) or its first
#: pass in this process; then passes it planned itself (transient reads, retries); then
#: background re-examinations (drift).
URGENT, PLANNED, BACKGROUND = 0, 1, 2

Logger = logging.Logger | logging.LoggerAdapter[Any]
Read = Callable[[], Awaitable[dict[str, Any] | None]]
Step = Callable[[dict[str, Any], bool], Awaitable[tuple[float | None, bool]]]


class KopfRecorder:
    """Posts events on the object through kopf's event queue."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def event(self, type_: str, reason: str, message: str) -> None:
        kopf.event(self._body, type=type_, reason=reason, message=message)


class PassSlots:
    """At most `limit` passes in flight per credential (None: not known yet). Waiters are
    served by priority, then in arrival order; a waiter whose object is woken meanwhile moves
    up to URGENT, so a change never waits behind reads for a slot."""

    def __init__(self, limit: int = SLOTS_PER_CREDENTIAL) -> None:
        self.limit = limit
        self._busy: dict[str | None, int] = {}
        self._queues: dict[str | None, list[tuple[int, int, asyncio.Future[None]]]] = {}
        self._seq = itertools.count()

    def in_flight(self, key: str | None) -> int:
        return self._busy.get(key, 0)

    async def acquire(
        self, key: str | None, priority: int, wake: asyncio.Event, stopped: kopf.DaemonStopped
    ) -> bool:
        """Wait for a slot of `key` (release it with `release(key)`); False if the loop was
        stopped first (no slot is held then)."""
        while not stopped:
            rank = URGENT if wake.is_set() else priority
            queue = self._queues.setdefault(key, [])
            if self._busy.get(key, 0) < self.limit and not any(not f.done() for *_, f in queue):
                self._busy[key] = self._busy.get(key, 0) + 1
                return True
            slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(queue, (rank, next(self._seq), slot))
            if await self._wait(key, slot, None if rank == URGENT else wake, stopped):
                return True
        return False

    async def _wait(
        self,
        key: str | None,
        slot: asyncio.Future[None],
        wake: asyncio.Event | None,
        stopped: kopf.DaemonStopped,
    ) -> bool:
        """True once `slot` was handed over; False if woken or stopped first."""

        async def until_stopped() -> None:
            await stopped.wait()

        others: list[asyncio.Future[Any]] = [asyncio.ensure_future(until_stopped())]
        if wake is not None:
            others.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait({slot, *others}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            if slot.done() and not slot.cancelled():
                self.release(key)  # handed over as we were cancelled: give it back
            slot.cancel()
            raise
        finally:
            for other in others:
                other.cancel()
        if slot.done():
            return True
        slot.cancel()  # left in the queue, skipped by `release`
        return False

    def release(self, key: str | None) -> None:
        """Hand the slot to the first live waiter of `key`, or free it."""
        queue = self._queues.get(key, [])
        while queue:
            _rank, _seq, slot = heapq.heappop(queue)
            if not slot.done():
                slot.set_result(None)
                return
        self._busy[key] = self._busy.get(key, 1) - 1
        if not self._busy[key]:
            self._busy.pop(key, None)
            self._queues.pop(key, None)


async def run_loop(
    *,
    uid: str,
    read: Read,
    step: Step,
    state: ObjectState,
    leadership: Leadership,
    stopped: kopf.DaemonStopped,
    logger: Logger,
    background: bool = True,
    slots: PassSlots | None = None,
) -> None:
    """Run `step` on the fresh object until it is gone or the loop is stopped."""
    slots = slots or PassSlots()
    failures = 0
    priority = URGENT  # the first pass in this process
    while not stopped:
        if not await lead(leadership, stopped):
            return
        key = state.credential
        if not await slots.acquire(key, priority, state.wake, stopped):
            return
        if not leadership.is_leading:  # lost while queued for the slot: wait to lead again
            slots.release(key)
            continue
        try:
            fresh = await read()
        except KubeError as exc:
            slots.release(key)
            failures += 1
            logger.warning("cannot read the object (%s); trying again", exc)
            await wait(state.wake, stopped, backoff(failures - 1, cap=READ_BACKOFF_CAP))
            continue
        except BaseException:
            slots.release(key)
            raise
        failures = 0
        meta = (fresh or {}).get("metadata") or {}
        if fresh is None or meta.get("deletionTimestamp") or meta.get("uid") != uid:
            slots.release(key)
            return  # gone, being deleted (the finalizer takes over), or a new object
        state.wake.clear()

        async def locked(
            body: dict[str, Any] = fresh, bg: bool = background, key: str | None = key
        ) -> Any:
            try:
                async with state.lock:
                    return await step(body, bg)
            finally:
                slots.release(key)

        # kopf cancels a daemon as soon as its object is deleted (or the operator stops): the
        # pass runs in a task of its own, shielded, which finishes and records its outcome
        # while holding the lock the finalizer waits for; shutdown waits for it too. The task
        # gives the slot back when the pass ends.
        task = asyncio.ensure_future(locked())
        del fresh, locked  # only the pass holds the body, and only while it runs
        state.pass_task = task
        delay, settled = await asyncio.shield(task)
        woken = await wait(state.wake, stopped, delay)
        background = not woken and settled
        priority = URGENT if woken else BACKGROUND if background else PLANNED


async def lead(leadership: Leadership, stopped: kopf.DaemonStopped) -> bool:
    """Wait until this process leads; False if the loop was stopped first."""
    if leadership.is_leading:
        return True
    leading = asyncio.ensure_future(leadership.wait())
    stopping = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({leading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        leading.cancel()
        stopping.cancel()
    return leadership.is_leading and not stopped


async def wait(wake: asyncio.Event, stopped: kopf.DaemonStopped, delay: float | None) -> bool:
    """Wait for a wake-up, the stop flag or the delay; True if woken by a change."""
    if delay is not None and delay <= 0:
        return False

    async def until_stopped() -> None:
        await stopped.wait()

    waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(until_stopped())}
    try:
        await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return wake.is_set()
