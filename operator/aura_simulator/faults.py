"""Fault injection: errors, latency, dropped connections and ambiguous outcomes, per route.

A fault matches a route (`"POST /v1/instances"`, `"GET /v1/instances/*"`, `"/oauth/token"`,
`"*"`) and fires for the next `count` matching requests, or for a `probability` fraction of them,
or both. Before-faults answer instead of the API (the request does nothing); after-faults
(`after=True`) let the API act and then replace a successful answer — the ambiguous outcome a
client must survive without creating a second, billed instance.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
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
    #: Fire for the next N matching requests (None: no limit, use with `probability`).
    count: int | None = Field(default=1, ge=1)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Seconds (real time) to wait before answering.
    latency: float = Field(default=0.0, ge=0.0)
    #: Close the connection without an answer instead of sending `status`.
    drop: bool = False
    #: Let the request take effect first, then replace its 2xx answer (ambiguous outcome).
    after: bool = False

    @model_validator(mode="after")
    def _check(self) -> FaultSpec:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an error status (400-599)")
        if self.status is None and not self.drop and self.latency == 0:
            raise ValueError("a fault needs a status, drop=true, or latency")
        if self.after and self.status is None and not self.drop:
            raise ValueError("an after-fault needs a status or drop=true")
        return self


class Fault(FaultSpec):
    id: str
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        route = self.route.strip()
        if route == "*":
            return True
        want_method, _, want_path = route.rpartition(" ")
        if want_method and want_method.upper() not in ("*", method.upper()):
            return False
        return fnmatch.fnmatchcase(path, want_path)

    @property
    def exhausted(self) -> bool:
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

    def __init__(self, seed: int | None = None) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._random = random.Random(seed)

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(id=str(next(self._ids)), **spec.model_dump())
        self._faults.append(fault)
        return fault

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[Fault]:
        return list(self._faults)

    def _fire(self, fault: Fault) -> bool:
        if fault.exhausted:
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
        self._faults = [f for f in self._faults if not f.exhausted]
