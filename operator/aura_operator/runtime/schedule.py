"""When to read an instance next, so that hundreds of them fit one credential's budget.

A GET per instance is the only way to see its state; one `GET /v1/instances` per credential (the
list sweep, sweep.py) shows every instance's existence and name. So:

- `sweep_interval` is how often a credential's list is read: the configured interval, or
  longer so that the sweep never takes more than `SWEEP_SHARE` of the drift share.
- `DriftScheduler` gives each settled instance its next drift read on a per-credential time line
  whose slots are at least `spacing()` apart: drift reads and the sweep together never use more
  than `share` of the budget, and the interval stretches by itself when there are many instances
  (`interval()` reports it). Re-examination after a restart uses the same line (the sweep has
  already confirmed existence), so N objects never make a burst of N requests.
- `TransitionTimes` learns how long each transient state (creating, updating, ...) takes, so
  the first read of an instance after a change lands when it is likely to be done. Before
  anything is learnt, a few scouts poll from what Aura's documentation says the state takes,
  and the others wait for what the scouts learn.
"""

from __future__ import annotations

import bisect
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Largest part of the drift share the list sweep may take (the rest is for per-instance reads).
SWEEP_SHARE = 0.25


def sweep_interval(base: float, rate_per_minute: float, share: float) -> float:
    """Seconds between two list sweeps of one credential: `base`, or longer on a small budget."""
    return max(base, 60.0 / (rate_per_minute * share * SWEEP_SHARE))


@dataclass
class _Line:
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
        sweep: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`sweep`: the configured sweep interval (None: no sweep takes part of the share)."""
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.base_interval = interval
        self.jitter = jitter
        self.share = share
        self.sweep = sweep
        self._rng = rng or random.Random()
        self._drift: dict[str, _Line] = {}

    def spacing(self, rate_per_minute: float) -> float:
        """Seconds between two drift reads of one credential (what the sweep leaves of the
        drift share)."""
        per_minute = rate_per_minute * self.share
        if self.sweep:
            per_minute -= 60.0 / sweep_interval(self.sweep, rate_per_minute, self.share)
        return 60.0 / per_minute

    def interval(self, credential: str, rate_per_minute: float) -> float:
        """The drift interval of this credential now: the base, or longer if it must be."""
        line = self._drift.get(credential)
        members = len(line.members) if line else 0
        return max(self.base_interval, members * self.spacing(rate_per_minute))

    def next_drift_read(
        self, credential: str, uid: str, rate_per_minute: float, now: float
    ) -> float:
        """Reserve the next drift read of `uid`; returns the delay from `now`."""
        line = self._line(credential, uid)
        interval = self.interval(credential, rate_per_minute)
        spread = self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        slot = line.place(now + interval * spread, self.spacing(rate_per_minute), now)
        return slot - now

    def next_startup_read(
        self, credential: str, uid: str, rate_per_minute: float, now: float
    ) -> float:
        """A slot for re-examining a settled object after a restart: anywhere in the next
        drift interval, on the drift line (drift pace, not the full rate). The list sweep
        confirms existence and names in the meantime."""
        line = self._line(credential, uid)
        interval = self.interval(credential, rate_per_minute)
        target = now + self._rng.uniform(0.0, interval)
        return line.place(target, self.spacing(rate_per_minute), now) - now

    def _line(self, credential: str, uid: str) -> _Line:
        line = self._drift.setdefault(credential, _Line())
        line.members.add(uid)
        return line

    def release(self, uid: str) -> None:
        """`uid` is no longer settled (or gone): it no longer counts towards the interval."""
        for line in self._drift.values():
            line.members.discard(uid)


#: How long each transient state takes according to Aura's documentation (docs/aura-api.md §5.5:
#: creating
#: 60-180 s, updating 30-120 s, ...), as (first read, give up waiting for scouts) in units of
#: the poll interval (15 s by default), so that scaled test environments scale them too.
PRIORS: dict[str, tuple[float, float]] = {
    "creating": (4.0, 12.0),
    "updating": (2.0, 8.0),
    "pausing": (2.0, 4.0),
    "resuming": (4.0, 8.0),
    "destroying": (1.0, 2.0),
    "overwriting": (4.0, 12.0),
    "restoring": (4.0, 12.0),
}


class TransitionTimes:
    """Typical duration of each transient state, learnt from the transitions the operator started.

    An observation is an upper bound: a state is seen to end at the first read after it ended.
    So only tight ones are learnt (`worth_learning`): a read soon after one that found the state
    still going, or one earlier than the estimate (which can only bring it down). Reads planned
    at the estimate (plus `margin` poll intervals, for the spread of start times) that succeed
    are not learnt, so the estimate does not creep up by its own margin. The estimate is a low
    quantile (`quantile`) of the last `window` observations, and one in `explore` first reads
    goes earlier (at 80 %) so that the estimate comes down when Aura gets faster.

    Before anything is learnt about a state, the first `scouts` objects that entered it poll
    from the documented duration (`PRIORS`) every fifth of the poll interval; every other
    object waits (`waiting`) until a scout's observation gives an estimate, and is then read at
    it (`observe` returns who waited), or, if nothing is learnt, from the documented upper end.
    """

    def __init__(
        self,
        *,
        window: int = 20,
        quantile: float = 0.25,
        explore: float = 0.1,
        growth: float = 1.5,
        scouts: int = 2,
        margin: float = 0.1,
        rng: random.Random | None = None,
    ) -> None:
        self.window = window
        self.quantile = quantile
        self.explore = explore
        self.growth = growth
        self.scouts = scouts
        self.margin = margin
        self._rng = rng or random.Random()
        self._seen: dict[str, deque[float]] = {}
        self._scouts: dict[str, set[str]] = {}
        self._waiting: dict[str, set[str]] = {}

    def worth_learning(
        self,
        state: str,
        done: float,
        busy: float | None,
        poll_interval: float,
        queued: float = 0.0,
    ) -> bool:
        """Whether a read `done` seconds into `state` that found it over says something new.

        The first observation of a state always does (an upper bound beats none: the objects
        waiting for it go by it). After that, only a read that did not queue long for the
        budget (`queued` at most a third of the poll interval) and is tight: below the
        estimate, or at most half a poll interval after the last read that found the state
        still going (`busy` seconds in).
        """
        estimate = self.estimate(state)
        if estimate is None:
            return True
        if queued > poll_interval / 3:
            return False
        return done < estimate or (busy is not None and done - busy <= poll_interval / 2)

    def observe(self, state: str, seconds: float) -> set[str]:
        """Record a duration; returns the objects that were waiting for an estimate of it."""
        if seconds > 0:
            self._seen.setdefault(state, deque(maxlen=self.window)).append(seconds)
        return self._waiting.pop(state, set()) if state in self._seen else set()

    def estimate(self, state: str) -> float | None:
        seen = self._seen.get(state)
        if not seen:
            return None
        ordered = sorted(seen)
        return ordered[int(self.quantile * (len(ordered) - 1))]

    def target(self, state: str, poll_interval: float) -> float | None:
        """Seconds into `state` at which a read should find it over (the estimate + margin)."""
        estimate = self.estimate(state)
        return None if estimate is None else estimate + self.margin * poll_interval

    def leave(self, uid: str, states: Iterable[str] | None = None) -> None:
        """`uid` is out of its transient state: it no longer scouts or waits."""
        for table in (self._scouts, self._waiting):
            for key in list(states or table):
                members = table.get(key)
                if members is not None:
                    members.discard(uid)

    def next_read(
        self,
        state: str,
        elapsed: float,
        reads: int,
        poll_interval: float,
        *,
        uid: str | None = None,
    ) -> float:
        """Delay before the next read of an instance `elapsed` seconds into `state`, after
        `reads` reads that found it still there. `uid`: an object that entered the state by
        its own request (its elapsed time is exact), so it may scout or wait for scouts.

        With an estimate: wait until it (consulted at every read). Past it: back off from a
        fifth of the poll interval, by `growth`, to at most twice the poll interval, so a late
        change is seen soon and a long one costs few reads. Without one: scouts read at the
        documented duration, then every fifth of the poll interval; the others wait (see the
        class).
        """
        target = self.target(state, poll_interval)
        if target is not None:
            if reads == 0 and self._rng.random() < self.explore:
                target = 0.8 * target
            if elapsed < target:
                return target - elapsed
            return self._backoff(reads, poll_interval)
        prior = PRIORS.get(state)
        if prior is None or uid is None:
            return self._backoff(reads, poll_interval)
        first, last = (p * poll_interval for p in prior)
        scouts = self._scouts.setdefault(state, set())
        if uid in scouts or len(scouts) < self.scouts:
            scouts.add(uid)
            return first - elapsed if elapsed < first else poll_interval / 5
        self._waiting.setdefault(state, set()).add(uid)
        return last - elapsed if elapsed < last else self._backoff(reads, poll_interval)

    def _backoff(self, reads: int, poll_interval: float) -> float:
        return float(min(2 * poll_interval, poll_interval / 5 * self.growth ** min(reads, 10)))
