"""When to read an instance next, so that hundreds of them fit one credential's budget.

The list endpoint carries no status, so every observation costs one GET. Two things keep that
cost down without starving changes (which go first in the budget's priority queue anyway):

- `DriftScheduler` gives each settled instance its next drift read on a per-credential time line
  whose slots are at least `60 / (rate * share)` seconds apart: drift reads never use more than
  `share` of the budget, and the interval stretches by itself when there are many instances
  (`interval()` reports it). Re-examination after a restart uses the same kind of line at the
  full rate, so N objects never make a burst of N requests.
- `TransitionTimes` learns how long each transient state (creating, updating, ...) takes, so
  the first read of an instance after a change lands when it is likely to be done instead of
  every `poll_interval` from the start.
"""

from __future__ import annotations

import bisect
import random
from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Line:
    next_slot: float = 0.0
    members: set[str] = field(default_factory=set)
    slots: list[float] = field(default_factory=list)  # reserved drift reads, sorted

    def place(self, target: float, spacing: float, now: float) -> float:
        """The first time at or after `target` at least `spacing` away from every reserved
        slot; reserve it. Crowded lines push reads later (the interval stretches), sparse
        ones keep every read at its own target (no ratchet towards the latest slot)."""
        del self.slots[: bisect.bisect_left(self.slots, now - spacing)]
        slot = target
        i = bisect.bisect_left(self.slots, slot - spacing)
        while i < len(self.slots) and self.slots[i] < slot + spacing:
            slot = self.slots[i] + spacing
            i += 1
        bisect.insort(self.slots, slot)
        return slot


class DriftScheduler:
    def __init__(
        self,
        *,
        interval: float,
        jitter: float,
        share: float,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.base_interval = interval
        self.jitter = jitter
        self.share = share
        self._rng = rng or random.Random()
        self._drift: dict[str, _Line] = {}
        self._startup: dict[str, _Line] = {}

    def spacing(self, rate_per_minute: float) -> float:
        """Seconds between two drift reads of one credential."""
        return 60.0 / (rate_per_minute * self.share)

    def interval(self, credential: str, rate_per_minute: float) -> float:
        """The drift interval of this credential now: the base, or longer if it must be."""
        line = self._drift.get(credential)
        members = len(line.members) if line else 0
        return max(self.base_interval, members * self.spacing(rate_per_minute))

    def next_drift_read(
        self, credential: str, uid: str, rate_per_minute: float, now: float
    ) -> float:
        """Reserve the next drift read of `uid`; returns the delay from `now`."""
        line = self._drift.setdefault(credential, _Line(next_slot=now))
        line.members.add(uid)
        interval = self.interval(credential, rate_per_minute)
        spread = self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        slot = line.place(now + interval * spread, self.spacing(rate_per_minute), now)
        return slot - now

    def next_startup_read(self, credential: str, rate_per_minute: float, now: float) -> float:
        """A slot for re-examining an object after a restart: spread at the full rate."""
        gap = 60.0 / rate_per_minute
        line = self._startup.setdefault(credential, _Line(next_slot=now - gap))
        slot = max(now, line.next_slot + gap)
        line.next_slot = slot
        return slot - now

    def release(self, uid: str) -> None:
        """`uid` is no longer settled (or gone): it no longer counts towards the interval."""
        for line in self._drift.values():
            line.members.discard(uid)


class TransitionTimes:
    """Typical duration of each transient state, learnt from the transitions the operator started.

    An observation is an upper bound: a state is seen to end at the first read after it ended,
    and that read may have waited for the budget. So the estimate is a low quantile (`quantile`)
    of the last `window` observations rather than their mean, and one in `explore` first reads
    goes earlier (at 80 %) so that the estimate comes down when Aura gets faster. Without an
    estimate, or after a planned read found the instance still busy, reads back off from
    `poll_interval`.
    """

    def __init__(
        self,
        *,
        window: int = 20,
        quantile: float = 0.25,
        explore: float = 0.1,
        growth: float = 1.5,
        rng: random.Random | None = None,
    ) -> None:
        self.window = window
        self.quantile = quantile
        self.explore = explore
        self.growth = growth
        self._rng = rng or random.Random()
        self._seen: dict[str, deque[float]] = {}

    def observe(self, state: str, seconds: float) -> None:
        if seconds > 0:
            self._seen.setdefault(state, deque(maxlen=self.window)).append(seconds)

    def estimate(self, state: str) -> float | None:
        seen = self._seen.get(state)
        if not seen:
            return None
        ordered = sorted(seen)
        return ordered[int(self.quantile * (len(ordered) - 1))]

    def next_read(self, state: str, elapsed: float, reads: int, poll_interval: float) -> float:
        """Delay before the next read of an instance `elapsed` seconds into `state`, after
        `reads` reads that found it still there.

        Before the estimate: wait until it (the estimate is consulted at every read, so an
        instance that started before anything was learnt benefits as soon as something is).
        Past it, or without one: back off from `poll_interval`, by `growth`, to at most twice
        the poll interval, so a late change is seen soon and a long one costs few reads.
        """
        mean = self.estimate(state)
        if mean is not None:
            factor = 0.8 if reads == 0 and self._rng.random() < self.explore else 1.0
            if elapsed < mean * factor:
                return mean * factor - elapsed
        return float(min(2 * poll_interval, poll_interval * self.growth ** min(reads, 6)))
