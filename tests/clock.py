"""Virtual time for tests of code built on the Aura client (anything taking a `Clock`).

`sleep()` waits until the test calls `advance()`, or, with `autojump=True`, returns at once after
moving time forward by the requested amount. It lives in tests/, not in the operator package:
nothing at run time needs it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Virtual time. Sleepers wake when `advance()` moves time past their deadline."""

    def __init__(
        self,
        start: float = 1000.0,
        *,
        wall: datetime | None = None,
        autojump: bool = False,
    ) -> None:
        self._t = start
        self._start = start
        self._wall0 = wall or datetime(2026, 1, 1, tzinfo=UTC)
        self._autojump = autojump
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self._t

    def now(self) -> datetime:
        return self._wall0 + timedelta(seconds=self._t - self._start)

    @property
    def pending(self) -> int:
        """How many sleepers are waiting for time to move."""
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        if self._autojump:
            self._t += seconds
            self._wake()
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._t + seconds, next(self._seq), fut))
        await fut

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._t += seconds
        self._wake()

    def _wake(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._t:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
