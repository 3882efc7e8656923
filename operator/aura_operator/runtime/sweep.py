"""The list sweep: one `GET /v1/instances` per credential watches every instance's existence.

The list carries no status, but it does show which instances exist and what they are called.
So, per credential, a task reads the list every `sweep_interval` (schedule.py; about once a
minute, inside the drift share of the budget, at BACKGROUND priority) and wakes the objects
whose instance has vanished (their pass GETs it, and only a 404 makes it gone) or was renamed
(their pass PATCHes the name back). Per-instance drift reads then only have to catch state and
size changes, so they can be rarer.

The sweep never writes an object: it only wakes its loop (one writer per object). It runs only
while this process leads, starts with the first object of a credential (`track`) and stops
when the last one leaves (`untrack`), and never raises out of its task.

`decide` is the plain rule, tested on its own: which tracked objects to wake for one list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aura_operator.aura import AuraClient, Priority
from aura_operator.runtime.leader import Leadership
from aura_operator.runtime.metrics import Metrics
from aura_operator.runtime.outcome import backoff
from aura_operator.runtime.schedule import sweep_interval

logger = logging.getLogger(__name__)

MISSING = "missing"
RENAMED = "renamed"


@dataclass
class Tracked:
    """What the sweep knows of one object: set by its pass (or its restart) each time."""

    instance_id: str
    name: str | None
    """The name the spec wants (None: not checked, e.g. ObserveOnly)."""
    state: str | None
    """The instance's status when last read (a never-listed `creating` one is not judged)."""
    since: float
    """When this was recorded (monotonic): a list requested earlier does not judge it."""
    listed: bool = False
    woken_for: tuple[str, str | None] | None = None
    """(instance id, listed name or None for missing): the last reason it was woken for; the
    same reason does not wake it again until the list shows something else."""


def decide(
    tracked: Mapping[str, Tracked], listing: Mapping[str, str], requested_at: float
) -> list[tuple[str, str]]:
    """(uid, reason) of the objects to wake after a list (`listing`: instance id -> name)
    requested at `requested_at`. Updates what each tracked object remembers."""
    wake: list[tuple[str, str]] = []
    for uid, t in tracked.items():
        if t.since > requested_at:
            continue  # recorded after the list was asked for: the list may predate it
        name = listing.get(t.instance_id)
        if name is not None:
            t.listed = True
            if t.name is None or name == t.name:
                t.woken_for = None
                continue
            reason: tuple[str, str | None] = (t.instance_id, name)
            why = RENAMED
        else:
            if not t.listed and t.state in (None, "creating"):
                continue  # new instances appear in the list a little later
            reason, why = (t.instance_id, None), MISSING
        if t.woken_for != reason:
            t.woken_for = reason
            wake.append((uid, why))
    return wake


@dataclass
class _Credential:
    client: AuraClient
    members: dict[str, Tracked] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


class Sweeps:
    """One sweep task per credential (client id) that has objects."""

    def __init__(
        self,
        *,
        base_interval: float,
        share: float,
        leadership: Leadership,
        wake: Callable[[str], None],
        metrics: Metrics,
        error_backoff_max: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_interval = base_interval
        self.share = share
        self._leadership = leadership
        self._wake = wake
        self._metrics = metrics
        self._backoff_max = error_backoff_max
        self._clock = clock
        self._credentials: dict[str, _Credential] = {}
        self._owner: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        return self.base_interval > 0

    def interval(self, client: AuraClient) -> float:
        return sweep_interval(self.base_interval, client.budget.rate_per_minute, self.share)

    def track(
        self,
        uid: str,
        client: AuraClient,
        instance_id: str,
        name: str | None,
        state: str | None,
    ) -> None:
        """The object `uid` manages `instance_id` through `client`'s credential."""
        if not self.enabled:
            return
        credential = client.client_id
        previous = self._owner.get(uid)
        if previous is not None and previous != credential:
            self.untrack(uid)
        entry = self._credentials.get(credential)
        if entry is None:
            entry = self._credentials[credential] = _Credential(client)
        old = entry.members.get(uid)
        tracked = Tracked(instance_id, name, state, self._clock())
        if old is not None and old.instance_id == instance_id:
            tracked.listed, tracked.woken_for = old.listed, old.woken_for
            if old.name != name:
                tracked.woken_for = None
        entry.members[uid] = tracked
        self._owner[uid] = credential
        if entry.task is None or entry.task.done():
            entry.task = asyncio.create_task(self._run(credential), name=f"sweep {credential}")

    def untrack(self, uid: str) -> None:
        """The object no longer has an instance (gone, replaced) or is itself gone."""
        credential = self._owner.pop(uid, None)
        entry = self._credentials.get(credential or "")
        if entry is None:
            return
        entry.members.pop(uid, None)
        if not entry.members:
            del self._credentials[credential or ""]
            if entry.task is not None:
                entry.task.cancel()

    def tracked(self, credential: str) -> dict[str, Tracked]:
        entry = self._credentials.get(credential)
        return dict(entry.members) if entry else {}

    async def _run(self, credential: str) -> None:
        failures = 0
        first = True
        while (entry := self._credentials.get(credential)) is not None:
            interval = self.interval(entry.client)
            # The first list waits a little, so that objects registering together (a restart)
            # are judged by one list.
            delay = interval / 10 if first else interval
            if failures:
                delay = backoff(failures - 1, cap=max(interval, self._backoff_max))
            first = False
            await asyncio.sleep(delay)
            if not self._leadership.is_leading:
                await self._leadership.wait()  # standbys do not sweep
                continue
            entry = self._credentials.get(credential)
            if entry is None:
                return
            try:
                failures = 0 if await self.sweep_once(entry) else failures + 1
            except Exception:  # never out of the task: log, back off
                failures += 1
                logger.exception("sweep of credential %s failed unexpectedly", credential)

    async def sweep_once(self, entry: _Credential) -> bool:
        """One list and the wake-ups it calls for; False if the list could not be read."""
        credential = entry.client.client_id
        requested_at = self._clock()
        try:
            with entry.client.priority(Priority.BACKGROUND):
                instances = await entry.client.list_instances()
        except Exception as exc:
            logger.warning("sweep of credential %s: cannot list instances (%s)", credential, exc)
            self._metrics.sweeps.labels(credential, "error").inc()
            return False
        self._metrics.sweeps.labels(credential, "ok").inc()
        listing = {i.id: i.name for i in instances}
        for uid, reason in decide(entry.members, listing, requested_at):
            logger.info(
                "sweep: instance %s of object %s is %s; waking it",
                entry.members[uid].instance_id,
                uid,
                reason,
            )
            self._metrics.sweep_wakes.labels(reason).inc()
            self._wake(uid)
        return True

    async def aclose(self) -> None:
        tasks = [e.task for e in self._credentials.values() if e.task is not None]
        self._credentials.clear()
        self._owner.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
