"""Per-object in-memory state: the lock, the wake-up event and what the loop remembers.

Keyed by the object's uid and lost on restart by design: everything that must survive a
restart (intent, ids, passwords) lives on the object, in its Secret, or in Aura.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr


@dataclass
class ObjectState:
    """What the loop of one AuraInstance keeps between passes."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held by a pass (and by the finalizer): one actor per object at a time."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    failures: int = 0
    last_generation: int | None = None
    last_annotations: tuple[tuple[str, str], ...] = ()
    credential: str | None = None
    transient: str | None = None
    transient_since: float = 0.0
    transient_reads: int = 0
    transient_exact: bool = False
    pass_task: asyncio.Future[Any] | None = None
    """The latest pass (loop.run_loop), which cancellation does not reach: shutdown awaits it."""
    read_at: float = 0.0
    """When the last GET of the instance answered (monotonic), and how long it took with its
    wait for the budget: a read that queued long tells little about when a state ended."""
    read_took: float = 0.0
    observed: bool = False
    """This process has written an observation of the instance into `status.observedAt`."""
    busy_at: float = 0.0
    """When a GET last found the instance still in its transient state (monotonic)."""
    _password: tuple[str, SecretStr] | None = None

    def remember_password(self, instance_id: str, password: SecretStr) -> None:
        """Hold a create response's password until it is safely in a Secret."""
        self._password = (instance_id, password)

    def pending_password(self, instance_id: str) -> SecretStr | None:
        if self._password is not None and self._password[0] == instance_id:
            return self._password[1]
        return None

    def forget_password(self) -> None:
        self._password = None


class ObjectStates:
    """The state of every object this process has seen, by uid."""

    def __init__(self) -> None:
        self._by_uid: dict[str, ObjectState] = {}

    def get(self, uid: str) -> ObjectState:
        return self._by_uid.setdefault(uid, ObjectState())

    def __contains__(self, uid: object) -> bool:
        return uid in self._by_uid

    def forget(self, uid: str) -> None:
        self._by_uid.pop(uid, None)

    def in_flight(self) -> list[asyncio.Future[Any]]:
        """Passes running now, of every object."""
        return [
            s.pass_task
            for s in self._by_uid.values()
            if s.pass_task is not None and not s.pass_task.done()
        ]

    def wake(self, uid: str) -> None:
        if uid in self._by_uid:
            self._by_uid[uid].wake.set()
