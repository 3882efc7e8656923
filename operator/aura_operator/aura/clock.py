"""Time as the client sees it, behind a small interface so tests never sleep for real.

`SystemClock` is the real one. Tests pass a virtual clock with the same three methods
(`tests/clock.py`'s `FakeClock`); it lives with the tests, not in the operator.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What the client needs of time: a monotonic reading, wall-clock time, and a sleep."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
