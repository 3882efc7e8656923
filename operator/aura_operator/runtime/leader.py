"""Leader election through a `coordination.k8s.io/v1` Lease: one replica acts, others wait.

Every replica runs kopf (watches, finalizers, wake-ups), but only the leader reconciles: each
object's loop and its finalizer wait at `Leadership.wait()` before they act. The Lease follows
client-go's rules:

- a standby takes the Lease over only when the holder has not renewed it for
  `lease_duration` seconds, measured on the standby's own clock from when it last saw the
  Lease change (no comparison of two machines' clocks);
- the leader renews every `retry_period`; when it has not managed to for `renew_deadline`
  (shorter than `lease_duration`), it stops acting at once, before anyone else may start;
- a leader that shuts down releases the Lease, so a rolling update hands over in one retry
  period instead of one lease duration.

Leadership is not the only fence: the write that precedes every non-idempotent Aura call is
conditional on the object's resourceVersion, so two processes that both believe they lead still
send one POST (runtime/intents.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aura_operator.kube.api import KubeApi, KubeError

logger = logging.getLogger(__name__)


class Leadership:
    """Whether this process may act now; waiters are released when it may."""

    def __init__(self, *, leading: bool = False) -> None:
        self._leading = asyncio.Event()
        self._changed: list[Callable[[bool], None]] = []
        if leading:
            self._leading.set()

    @classmethod
    def always(cls) -> Leadership:
        """No election (one process by configuration): always leading."""
        return cls(leading=True)

    @property
    def is_leading(self) -> bool:
        return self._leading.is_set()

    def on_change(self, callback: Callable[[bool], None]) -> None:
        self._changed.append(callback)

    def set(self, leading: bool) -> None:
        if leading == self.is_leading:
            return
        if leading:
            self._leading.set()
        else:
            self._leading.clear()
        for callback in self._changed:
            callback(leading)

    async def wait(self) -> None:
        """Return once this process leads (at once if it does)."""
        await self._leading.wait()


@dataclass(frozen=True)
class LeaseTiming:
    lease_duration: float = 10.0
    renew_deadline: float = 7.0
    retry_period: float = 1.5


def _micro(now: datetime) -> str:
    """MicroTime as the API server writes it."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseElector:
    """Acquires and renews one Lease for `identity`, and reports it through `Leadership`."""

    def __init__(
        self,
        kube: KubeApi,
        leadership: Leadership,
        *,
        namespace: str,
        name: str,
        identity: str,
        timing: LeaseTiming | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kube = kube
        self.leadership = leadership
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing or LeaseTiming()
        self._monotonic = monotonic
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._renewed_at: float | None = None

    def _spec(self, *, acquire: bool, transitions: int, acquired: str | None) -> dict[str, Any]:
        now = _micro(datetime.now(UTC))
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, round(self.timing.lease_duration)),
            "acquireTime": now if acquire else acquired or now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }

    async def try_once(self) -> bool:
        """One attempt to acquire or renew; updates and returns `leadership.is_leading`."""
        now = self._monotonic()
        try:
            leading = await self._attempt(now)
        except KubeError as exc:
            # 401/403 is a misconfiguration (the Role lacks leases) worth saying loudly: this
            # process would stand by for ever. Others (API server down) are routine.
            level = logging.WARNING if exc.status in (401, 403) else logging.DEBUG
            logger.log(level, "lease %s/%s: %s", self.namespace, self.name, exc)
            leading = False
        if leading:
            self._renewed_at = now
            self._become(True)
        elif self.leadership.is_leading and (
            self._renewed_at is None or now - self._renewed_at >= self.timing.renew_deadline
        ):
            logger.warning(
                "lease %s/%s: not renewed for %.0fs; this process stops acting",
                self.namespace,
                self.name,
                self.timing.renew_deadline,
            )
            self._become(False)
        return self.leadership.is_leading

    def _become(self, leading: bool) -> None:
        if leading != self.leadership.is_leading:
            logger.info(
                "lease %s/%s: %s",
                self.namespace,
                self.name,
                f"{self.identity} is the leader" if leading else f"{self.identity} stands by",
            )
        self.leadership.set(leading)

    async def _attempt(self, now: float) -> bool:
        lease = await self._kube.get_lease(self.namespace, self.name)
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(acquire=True, transitions=0, acquired=None),
            }
            try:
                await self._kube.create_lease(self.namespace, body)
            except KubeError as exc:
                if exc.status == 409:  # another replica created it first
                    return False
                raise
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        record = (holder, spec.get("renewTime"), spec.get("leaseDurationSeconds"))
        if record != self._observed:
            self._observed, self._observed_at = record, now
        duration = float(spec.get("leaseDurationSeconds") or self.timing.lease_duration)
        mine = holder == self.identity
        expired = not holder or now - self._observed_at >= duration
        if not mine and not expired:
            return False
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if mine else 1)
        lease["spec"] = self._spec(
            acquire=not mine, transitions=transitions, acquired=spec.get("acquireTime")
        )
        try:
            await self._kube.replace_lease(self.namespace, self.name, lease)
        except KubeError as exc:
            if exc.status == 409:  # someone else renewed or took it meanwhile
                return False
            raise
        return True

    async def run(self) -> None:
        """Acquire and renew until cancelled."""
        while True:
            await self.try_once()
            await asyncio.sleep(self.timing.retry_period)

    async def release(self) -> None:
        """Give the Lease up (on shutdown) so that a standby takes over at once."""
        if not self.leadership.is_leading:
            return
        self._become(False)
        with contextlib.suppress(KubeError):
            lease = await self._kube.get_lease(self.namespace, self.name)
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            lease["spec"]["holderIdentity"] = None
            lease["spec"]["leaseDurationSeconds"] = 1
            await self._kube.replace_lease(self.namespace, self.name, lease)
            logger.info("lease %s/%s: released", self.namespace, self.name)
