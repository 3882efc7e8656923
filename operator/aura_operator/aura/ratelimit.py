"""One request budget per credential: a token bucket with priorities, Retry-After and backoff.

Aura allows 125 requests per minute per client id (25 for trial tenants), counted across every
endpoint. Every request made with one credential, from any number of concurrent callers, takes a
token from that credential's `CredentialBudget` first. Waiters are served strictly by priority
(changes before reads of transient instances before background drift reads), first come first
served within a priority. A 429 puts the whole credential on hold until its `Retry-After` has
passed; a hold longer than the caller is willing to sleep raises `BudgetHold` at once so the
operator can requeue the object instead of blocking a handler.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import IntEnum

from aura_operator.aura.clock import Clock, SystemClock

#: Tolerance for float rounding when a token has just been refilled.
_EPSILON = 1e-9
#: Backoff of retried idempotent requests: first delay, cap.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0


class Priority(IntEnum):
    """Who goes first when the budget is short. Lower values are served first."""

    CHANGE = 0
    """Create, PATCH, pause/resume, delete: what a user asked for."""
    TRANSIENT = 1
    """Reads of instances in transient states (creating, updating, ...)."""
    BACKGROUND = 2
    """Drift reads of settled instances, discovery."""


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date.

    Returns None when the header is absent or unparseable (so the caller falls back to its own
    backoff), 0.0 for negative values and dates in the past. Fractional seconds, though not in
    RFC 9110, are accepted because some gateways send them.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 850 / asctime forms carry no zone: they are GMT by definition
        when = when.replace(tzinfo=now.tzinfo)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(
    attempt: int,
    *,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
    rng: random.Random | None = None,
) -> float:
    """Capped exponential backoff with "equal jitter" for retry number `attempt` (0-based).

    The delay lies in [d/2, d] where d = min(cap, base * 2**attempt): never zero, so retries
    cannot stampede, and randomised, so many clients do not retry in step.
    """
    ceiling = min(cap, base * (2.0 ** max(0, attempt)))
    r = float((rng or random).random())
    return ceiling / 2 + r * ceiling / 2


class BudgetHold(Exception):
    """The credential is on hold (after a 429) for longer than the caller will wait."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"request budget on hold for {retry_after:.1f}s")
        self.retry_after = retry_after


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    wakeup: asyncio.Event = field(compare=False, default_factory=asyncio.Event)


@dataclass
class BudgetStats:
    """Counters for metrics and the benchmark."""

    granted: int = 0
    waited_seconds: float = 0.0
    holds: int = 0
    granted_by_priority: dict[Priority, int] = field(
        default_factory=lambda: dict.fromkeys(Priority, 0)
    )


class CredentialBudget:
    """A token bucket shared by every request of one credential.

    `rate_per_minute` tokens flow in per minute up to `burst`; each request takes one. Waiters
    form one priority queue: only its head may take a token, so a burst of background reads
    can never overtake a change that is waiting.
    """

    def __init__(
        self,
        rate_per_minute: float,
        *,
        burst: int = 10,
        clock: Clock | None = None,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.rate_per_minute = rate_per_minute
        self.burst = max(1, burst)
        self._clock = clock or SystemClock()
        self._tokens = float(self.burst)
        self._stamp = self._clock.monotonic()
        self._hold_until = self._clock.monotonic()
        self._queue: list[_Waiter] = []
        self._seq = itertools.count()
        self.stats = BudgetStats()

    @property
    def interval(self) -> float:
        """Seconds between two tokens."""
        return 60.0 / self.rate_per_minute

    def hold_remaining(self) -> float:
        """Seconds left of the current hold (0 when none)."""
        return max(0.0, self._hold_until - self._clock.monotonic())

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def hold(self, seconds: float) -> None:
        """Stop every request of this credential for `seconds` (a 429's Retry-After).

        A hold only ever extends, never shortens, an existing one. The bucket is emptied too:
        the server has told us we are over its budget, so no burst is owed to us afterwards.
        """
        until = self._clock.monotonic() + max(0.0, seconds)
        if until > self._hold_until:
            self._hold_until = until
        self._refill()
        self._tokens = 0.0
        self.stats.holds += 1
        self._wake_head()

    async def acquire(
        self,
        priority: Priority = Priority.CHANGE,
        *,
        max_hold_wait: float | None = None,
    ) -> float:
        """Wait for a token; returns the seconds waited.

        Raises `BudgetHold` at once (and at any point while queued) if the credential is on hold
        for longer than `max_hold_wait` seconds, so the caller can requeue instead of sleeping.
        """
        start = self._clock.monotonic()
        waiter = _Waiter(int(priority), next(self._seq))
        heapq.heappush(self._queue, waiter)
        try:
            while True:
                remaining_hold = self.hold_remaining()
                if max_hold_wait is not None and remaining_hold > max_hold_wait:
                    raise BudgetHold(remaining_hold)
                if self._queue[0] is waiter:
                    self._refill()
                    if remaining_hold <= 0 and self._tokens + _EPSILON >= 1.0:
                        self._tokens = max(0.0, self._tokens - 1.0)
                        heapq.heappop(self._queue)
                        self._wake_head()
                        waited = self._clock.monotonic() - start
                        self.stats.granted += 1
                        self.stats.granted_by_priority[priority] += 1
                        self.stats.waited_seconds += waited
                        return waited
                    delay = max(remaining_hold, (1.0 - self._tokens) * self.interval)
                    waiter.wakeup.clear()
                    await self._sleep_or_wake(delay, waiter)
                else:
                    waiter.wakeup.clear()
                    await waiter.wakeup.wait()
        except BaseException:
            if waiter in self._queue:
                self._queue.remove(waiter)
                heapq.heapify(self._queue)
                self._wake_head()
            raise

    async def _sleep_or_wake(self, delay: float, waiter: _Waiter) -> None:
        """Sleep `delay` seconds, or less if the queue changes under us (e.g. a new hold)."""
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        woken = asyncio.ensure_future(waiter.wakeup.wait())
        try:
            await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, woken):
                if not task.done():
                    task.cancel()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._tokens = min(float(self.burst), self._tokens + elapsed / self.interval)

    def _wake_head(self) -> None:
        if self._queue:
            self._queue[0].wakeup.set()
