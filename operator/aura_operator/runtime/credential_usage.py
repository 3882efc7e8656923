"""What an AuraCredential's status shows: who uses it, and what it sent and got back.

- `CredentialUsers`: the objects that name a credential in `spec.credentialRef`, fed by the
  watch events of every kind that can (a credential's finalizer waits until none is left);
- `RequestWindows`: requests sent and 429s received per client id over the last minute and
  hour, fed by every client's observer (`CountingObserver`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aura_operator.aura.client import RequestObserver
from aura_operator.aura.ratelimit import Priority

MINUTE = 60.0
HOUR = 3600.0


@dataclass(frozen=True)
class User:
    kind: str
    namespace: str
    name: str
    plural: str = field(default="", compare=False)
    """Where the object is read again (the credential's finalizer does, before it decides)."""

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class CredentialUsers:
    """uid -> (credential name, the object) for every object that names a credential."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._by_uid: dict[str, tuple[str, User]] = {}
        self._clock = clock
        self.started = clock()

    def note(self, uid: str, credential: str | None, user: User) -> str | None:
        """Record what `uid` names now; returns the credential it named before (if another)."""
        before = self._by_uid.get(uid)
        if credential:
            self._by_uid[uid] = (credential, user)
        else:
            self._by_uid.pop(uid, None)
        previous = before[0] if before else None
        return previous if previous != credential else None

    def forget(self, uid: str) -> str | None:
        before = self._by_uid.pop(uid, None)
        return before[0] if before else None

    def users(self, credential: str) -> list[User]:
        return sorted(
            (u for c, u in self._by_uid.values() if c == credential),
            key=lambda u: (u.kind, u.namespace, u.name),
        )

    def drop(self, user: User) -> None:
        """Forget `user` (found gone, or naming another credential, on a direct read)."""
        for uid, (_, known) in list(self._by_uid.items()):
            if known == user:
                del self._by_uid[uid]

    def uids(self, credential: str) -> list[str]:
        return [uid for uid, (c, _) in self._by_uid.items() if c == credential]

    def warm(self, grace: float) -> bool:
        """True once the watches have had `grace` seconds to list every existing object."""
        return self._clock() - self.started >= grace


@dataclass
class CredentialObjects:
    """What the AuraCredential handlers remember between events, per credential name."""

    uids: dict[str, str] = field(default_factory=dict)
    """The credential object's uid (to wake its loop)."""
    generations: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    """(generation, being deleted) last acted on: only a change wakes the users."""
    tenant_reads: dict[str, tuple[float, int | None, list[dict[str, str]]]] = field(
        default_factory=dict
    )
    """(valid until, generation, tenants) of the last tenant list."""

    def forget(self, name: str) -> None:
        self.uids.pop(name, None)
        self.generations.pop(name, None)
        self.tenant_reads.pop(name, None)


@dataclass(frozen=True)
class Counts:
    sent_minute: int
    sent_hour: int
    throttled_minute: int
    throttled_hour: int


class RequestWindows:
    """Per client id: when each request was answered, and which were 429s (last hour)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._throttled: dict[str, deque[float]] = {}

    def record(self, client_id: str, status: int) -> None:
        now = self._clock()
        self._sent.setdefault(client_id, deque()).append(now)
        if status == 429:
            self._throttled.setdefault(client_id, deque()).append(now)

    def counts(self, client_id: str) -> Counts:
        now = self._clock()
        sent = self._trim(self._sent.get(client_id), now)
        throttled = self._trim(self._throttled.get(client_id), now)
        return Counts(
            sent_minute=sum(1 for t in sent if t > now - MINUTE),
            sent_hour=len(sent),
            throttled_minute=sum(1 for t in throttled if t > now - MINUTE),
            throttled_hour=len(throttled),
        )

    @staticmethod
    def _trim(times: deque[float] | None, now: float) -> deque[float]:
        if times is None:
            return deque()
        while times and times[0] <= now - HOUR:
            times.popleft()
        return times


class CountingObserver:
    """The observer of one client: counts into `windows`, then passes on to `inner`."""

    def __init__(
        self, client_id: str, windows: RequestWindows, inner: RequestObserver | None
    ) -> None:
        self._client_id = client_id
        self._windows = windows
        self._inner = inner

    def on_response(self, method: str, route: str, status: int, seconds: float) -> None:
        if status:  # 0: no answer, nothing reached Aura's budget as far as we know
            self._windows.record(self._client_id, status)
        if self._inner is not None:
            self._inner.on_response(method, route, status, seconds)

    def on_budget_wait(self, priority: Priority, seconds: float) -> None:
        if self._inner is not None:
            self._inner.on_budget_wait(priority, seconds)
