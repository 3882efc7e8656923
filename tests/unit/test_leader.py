"""Leader election (leader.py) on the in-memory API server, with a hand-moved monotonic clock.

The rules are client-go's: a standby takes over only after `lease_duration` without a renewal
measured on its own clock, a leader that cannot renew for `renew_deadline` stops acting before
that, and a released Lease is taken at once.
"""

from __future__ import annotations

import copy
from typing import Any

from aura_operator.runtime.leader import Leadership, LeaseElector, LeaseTiming
from tests.inprocess.fake_kube import FakeKube

TIMING = LeaseTiming(lease_duration=10.0, renew_deadline=7.0, retry_period=1.5)
NS, LEASE = "aura-system", "aura-operator"


class Monotonic:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def elector(kube: FakeKube, identity: str, clock: Monotonic) -> LeaseElector:
    return LeaseElector(
        kube,
        Leadership(),
        namespace=NS,
        name=LEASE,
        identity=identity,
        timing=TIMING,
        monotonic=clock,
    )


def holder(kube: FakeKube) -> str | None:
    lease = kube._objects[("Lease", NS, LEASE)]
    identity = lease["spec"].get("holderIdentity")
    return str(identity) if identity is not None else None


async def test_the_first_replica_acquires_and_the_second_stands_by() -> None:
    kube, clock = FakeKube(), Monotonic()
    a, b = elector(kube, "a", clock), elector(kube, "b", clock)
    assert await a.try_once()
    assert not await b.try_once()
    assert (a.leadership.is_leading, b.leadership.is_leading) == (True, False)
    assert holder(kube) == "a"
    clock.t += 1.5
    assert await a.try_once()  # renewing is not a transition
    assert kube._objects[("Lease", NS, LEASE)]["spec"]["leaseTransitions"] == 0


async def test_a_standby_takes_over_only_after_lease_duration_without_renewal() -> None:
    kube, clock = FakeKube(), Monotonic()
    a, b = elector(kube, "a", clock), elector(kube, "b", clock)
    await a.try_once()
    assert not await b.try_once()  # b first sees a's lease now

    clock.t += 5.0
    await a.try_once()  # a renews: b's ten seconds start again when it sees the renewal
    clock.t += 1.0
    assert not await b.try_once()
    clock.t += 9.9  # a has died; 9.9 s since b saw a renewal
    assert not await b.try_once()
    clock.t += 0.1
    assert await b.try_once()
    assert holder(kube) == "b"
    assert kube._objects[("Lease", NS, LEASE)]["spec"]["leaseTransitions"] == 1


async def test_a_leader_that_cannot_renew_stops_before_anyone_may_take_over() -> None:
    kube, clock = FakeKube(), Monotonic()
    a, b = elector(kube, "a", clock), elector(kube, "b", clock)
    await a.try_once()
    await b.try_once()
    kube.fail(1000, methods={"get_lease"})  # the API server is gone for a's every attempt
    clock.t += 6.9
    assert await a.try_once()  # inside renew_deadline: still acting
    clock.t += 0.1
    assert not await a.try_once()  # 7 s without a renewal: stops acting
    assert not a.leadership.is_leading
    kube._faults.clear()
    # ... and b, which saw the last renewal 7 s ago, may not start for 3 s more.
    assert not await b.try_once()
    clock.t += 3.0
    assert await b.try_once()


async def test_release_hands_the_lease_over_at_once() -> None:
    kube, clock = FakeKube(), Monotonic()
    a, b = elector(kube, "a", clock), elector(kube, "b", clock)
    await a.try_once()
    assert not await b.try_once()
    await a.release()
    assert not a.leadership.is_leading
    assert holder(kube) is None
    assert await b.try_once()  # no lease_duration to wait out
    assert holder(kube) == "b"
    assert not await a.try_once()


class StaleReads(FakeKube):
    """An API server whose lease reads come from a cache that lags one write behind."""

    def __init__(self) -> None:
        super().__init__()
        self.stale: dict[str, Any] | None = None

    async def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        fresh = await super().get_lease(namespace, name)
        return copy.deepcopy(self.stale) if self.stale is not None else fresh


async def test_a_stale_write_loses_to_the_one_that_came_first() -> None:
    """Two replicas that both think the Lease expired: the API server's resourceVersion check
    lets one replace it; the other gets 409 and stands by."""
    kube, clock = StaleReads(), Monotonic()
    a, b, c = (elector(kube, name, clock) for name in "abc")
    await a.try_once()
    await b.try_once()
    await c.try_once()
    clock.t += 10.0
    before_b = await kube.get_lease(NS, LEASE)
    assert await b.try_once()
    kube.stale = before_b  # c reads the Lease as it was before b took it
    assert not await c.try_once()
    assert not c.leadership.is_leading
    assert holder(kube) == "b"
