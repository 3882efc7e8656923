"""The kind-independent part of "one loop per object": what every kind's daemon does alike.

The controller's daemon (runtime/controller.py) hands `run_loop` two functions: `read` (the
object as it is now, None once gone) and `step` (one pass on that fresh body, returning the
delay before the next and whether the next pass is a background re-examination). The loop:

- waits until this process leads (standbys do no reconciling);
- survives a failed read (API server down) with a short backoff instead of dying;
- stops when the object is gone, is being deleted, or was replaced by a new one of that name;
- runs each step under the object's lock, shielded from cancellation, so that deletion and
  shutdown let the pass in flight finish and record its outcome (the finalizer takes the same
  lock before it decides);
- sleeps until the delay, a wake-up (a watch event) or the stop flag.
"""

from __future__ import annotations

import asyncio
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

Logger = logging.Logger | logging.LoggerAdapter[Any]
Read = Callable[[], Awaitable[dict[str, Any] | None]]
Step = Callable[[dict[str, Any], bool], Awaitable[tuple[float | None, bool]]]


class KopfRecorder:
    """Posts events on the object through kopf's event queue."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def event(self, type_: str, reason: str, message: str) -> None:
        kopf.event(self._body, type=type_, reason=reason, message=message)


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
) -> None:
    """Run `step` on the fresh object until it is gone or the loop is stopped."""
    failures = 0
    while not stopped:
        if not await lead(leadership, stopped):
            return
        try:
            fresh = await read()
        except KubeError as exc:
            failures += 1
            logger.warning("cannot read the object (%s); trying again", exc)
            await wait(state.wake, stopped, backoff(failures - 1, cap=READ_BACKOFF_CAP))
            continue
        failures = 0
        meta = (fresh or {}).get("metadata") or {}
        if fresh is None or meta.get("deletionTimestamp") or meta.get("uid") != uid:
            return  # gone, being deleted (the finalizer takes over), or a new object
        state.wake.clear()

        async def locked(body: dict[str, Any] = fresh, bg: bool = background) -> Any:
            async with state.lock:
                return await step(body, bg)

        # kopf cancels a daemon as soon as its object is deleted (or the operator stops): the
        # pass runs in a task of its own, shielded, which finishes and records its outcome
        # while holding the lock the finalizer waits for; shutdown waits for it too.
        task = asyncio.ensure_future(locked())
        state.pass_task = task
        delay, settled = await asyncio.shield(task)
        woken = await wait(state.wake, stopped, delay)
        background = not woken and settled


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
