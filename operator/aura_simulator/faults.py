"""Fault injection: errors, latency, dropped connections and ambiguous outcomes, per route.

A fault matches a route (`"POST /v1/instances"`, `"GET /v1/instances/*"`, `"/oauth/token"`,
`"*"`) and fires for the next `count` matching requests, or for a `probability` fraction of them,
or on every matching request for `duration` real seconds (then `count` defaults to no limit), or
a combination; it ends at whichever limit comes first. Before-faults answer instead of the API
(the request does nothing); after-faults (`after=True`) let the API act and then replace a
successful answer — the ambiguous outcome a client must survive without creating a second,
billed instance. An after-fault's `latency` holds the answer after the API has acted: with
`drop` or a status it is a create that happened but was never answered; alone it is a slow 202
that a client with a shorter timeout gives up on.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FaultSpec(BaseModel):
    """What to inject (the body of `POST /_sim/faults`)."""

    model_config = ConfigDict(extra="forbid")

    route: str = "*"
    #: The status to answer with; None for a latency-only fault.
    status: int | None = 503
    retry_after: float | None = None
    body: Literal["errors", "gateway"] = "errors"
    message: str | None = None
    #: Fire for the next N matching requests (None: no limit, use with `probability` or
    #: `duration`). Defaults to 1, or to no limit when `duration` is given.
    count: int | None = Field(default=1, ge=1)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Active for this many real seconds from when it is added (not scaled by time_scale).
    duration: float | None = Field(default=None, gt=0.0)
    #: Seconds (real time) to wait before answering; for an after-fault, after the API acted.
    latency: float = Field(default=0.0, ge=0.0)
    #: Close the connection without an answer instead of sending `status`.
    drop: bool = False
    #: Let the request take effect first, then replace (or, latency alone, hold) its 2xx answer.
    after: bool = False

    @model_validator(mode="after")
    def _check(self) -> FaultSpec:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an error status (400-599)")
        if self.status is None and not self.drop and self.latency == 0:
            raise ValueError("a fault needs a status, drop=true, or latency")
        if self.duration is not None and "count" not in self.model_fields_set:
            self.count = None
        return self


class Fault(FaultSpec):
    id: str
    hits: int = 0
    #: Wall-clock time (seconds since the epoch) when a `duration` fault stops firing.
    expires_at: float | None = None

    def matches(self, method: str, path: str) -> bool:
        route = self.route.strip()
        if route == "*":
            return True
        want_method, _, want_path = route.rpartition(" ")
        if want_method and want_method.upper() not in ("*", method.upper()):
            return False
        return fnmatch.fnmatchcase(path, want_path)

    def exhausted(self, now: float) -> bool:
        if self.expires_at is not None and now >= self.expires_at:
            return True
        return self.count is not None and self.hits >= self.count

    @property
    def answers(self) -> bool:
        """True if it replaces the answer (not only delays it)."""
        return self.drop or self.status is not None

    def describe(self) -> str:
        what = "drop" if self.drop else (str(self.status) if self.status else "latency")
        return f"{'after:' if self.after else ''}{what}#{self.id}"


class Faults:
    """The active faults, in the order they were added."""

    def __init__(self, seed: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._random = random.Random(seed)
        self._clock = clock

    def add(self, spec: FaultSpec) -> Fault:
        expires_at = None if spec.duration is None else self._clock() + spec.duration
        fault = Fault(id=str(next(self._ids)), expires_at=expires_at, **spec.model_dump())
        self._faults.append(fault)
        return fault

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[Fault]:
        """The faults that can still fire."""
        self._prune()
        return list(self._faults)

    def _fire(self, fault: Fault) -> bool:
        if fault.exhausted(self._clock()):
            return False
        if fault.probability is not None and self._random.random() >= fault.probability:
            return False
        fault.hits += 1
        return True

    def before(self, method: str, path: str) -> tuple[float, Fault | None]:
        """(latency to add, the fault that answers instead of the API, if any)."""
        latency = 0.0
        answer: Fault | None = None
        for fault in self._faults:
            if fault.after or not fault.matches(method, path):
                continue
            if fault.answers and answer is not None:
                continue
            if not self._fire(fault):
                continue
            latency += fault.latency
            if fault.answers:
                answer = fault
        self._prune()
        return latency, answer

    def after(self, method: str, path: str) -> Fault | None:
        """The fault that replaces a successful answer, if any (consumed only on success)."""
        for fault in self._faults:
            if fault.after and fault.matches(method, path) and self._fire(fault):
                self._prune()
                return fault
        return None

    def _prune(self) -> None:
        now = self._clock()
        self._faults = [f for f in self._faults if not f.exhausted(now)]
