"""Claims (aura_operator.runtime.claims): one manager per Aura object under any interleaving.

The races run the real `claim`/`release` flows concurrently on one in-memory store whose every
call yields to the other tasks a random number of times (seeded, so a failure replays): the
interleavings two replicas or two claimants in the same second produce. The store has the
Kubernetes store's semantics; tests/e2e/test_claim_store_kube.py holds the real one to them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from aura_operator.runtime.claims import (
    ALREADY_MANAGED,
    AlreadyManaged,
    AuraObject,
    ClaimChanged,
    ClaimContended,
    ClaimExists,
    ClaimRecord,
    ClaimUnreadable,
    Held,
    InMemoryClaimStore,
    ManagerRef,
    NotHolder,
    Released,
    Step,
    claim,
    claim_data,
    claim_labels,
    claim_name,
    decide,
    manager_ref,
    record_from_data,
    release,
)

X = AuraObject("instance", "1fa1930f")
OWNER = ManagerRef("AuraInstance", "bars", "owner", "uid-owner")
COPYCAT = ManagerRef("AuraInstance", "bars", "copycat", "uid-copycat")
INTRUDER = ManagerRef("AuraInstance", "other", "intruder", "uid-intruder")
NOW = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)


class Cluster:
    """Which manager objects exist (name -> uid): the `ManagerLookup` of the flows."""

    def __init__(self, *alive: ManagerRef) -> None:
        self.uids = {(m.kind, m.namespace, m.name): m.uid for m in alive}
        self.lookups = 0

    async def lookup(self, ref: ManagerRef) -> str | None:
        self.lookups += 1
        await asyncio.sleep(0)
        return self.uids.get((ref.kind, ref.namespace, ref.name))


def shuffler(seed: int) -> Callable[[], Awaitable[None]]:
    rng = random.Random(seed)

    async def interleave() -> None:
        for _ in range(rng.randrange(4)):
            await asyncio.sleep(0)

    return interleave


# --- the pure decision -------------------------------------------------------------------------


def record(manager: ManagerRef, target: AuraObject = X) -> ClaimRecord:
    return ClaimRecord(target, manager, "2026-12-04T04:00:00Z", uid="u1", resource_version="7")


@pytest.mark.parametrize(
    ("existing", "holder_uid", "step"),
    [
        (None, None, Step.CREATE),
        (record(OWNER), "uid-owner", Step.HELD),  # our own claim, e.g. after a restart
        (record(COPYCAT), "uid-copycat", Step.REFUSE),
        (record(COPYCAT), None, Step.TAKE_OVER),  # the manager was deleted
        (record(COPYCAT), "uid-recreated", Step.TAKE_OVER),  # deleted and created again
    ],
)
def test_decide(existing: ClaimRecord | None, holder_uid: str | None, step: Step) -> None:
    assert decide(existing, OWNER, holder_uid) is step


def test_a_manager_ref_is_read_from_the_object() -> None:
    body = {
        "kind": "AuraInstance",
        "metadata": {
            "namespace": "bars",
            "name": "owner",
            "uid": "uid-owner",
            "resourceVersion": "9",
        },
    }
    assert manager_ref(body) == OWNER
    assert str(OWNER) == "AuraInstance bars/owner"


def test_the_record_round_trips_through_configmap_data() -> None:
    stored = record(OWNER)
    assert claim_name(X) == "aura-claim-instance-1fa1930f"
    assert claim_labels(X) == {
        "app.kubernetes.io/managed-by": "aura-operator",
        "aura-operator.dev/claim": "instance",
    }
    data = claim_data(stored)
    assert data == {
        "type": "instance",
        "auraId": "1fa1930f",
        "managerKind": "AuraInstance",
        "managerNamespace": "bars",
        "managerName": "owner",
        "managerUid": "uid-owner",
        "claimedAt": "2026-12-04T04:00:00Z",
    }
    assert record_from_data(stored.name, data, uid="u1", resource_version="7") == stored


def test_ids_that_are_not_dns_labels_get_a_hashed_name_that_cannot_collide() -> None:
    upper, lower = AuraObject("snapshot", "ABC"), AuraObject("snapshot", "abc")
    assert claim_name(lower) == "aura-claim-snapshot-abc"
    assert claim_name(upper).startswith("aura-claim-snapshot-h-")
    assert claim_name(upper) != claim_name(lower)
    assert len(claim_name(AuraObject("key", "k" * 400))) <= 253


def test_an_edited_claim_is_unreadable_and_says_which_configmap() -> None:
    data = claim_data(record(OWNER))
    del data["managerUid"]
    with pytest.raises(ClaimUnreadable, match=r"aura-claim-instance-1fa1930f .*managerUid"):
        record_from_data("aura-claim-instance-1fa1930f", data)
    with pytest.raises(ClaimUnreadable, match="records instance 1fa1930f, not its own"):
        record_from_data("aura-claim-instance-other", claim_data(record(OWNER)))


# --- the flows -----------------------------------------------------------------------------------


async def test_a_first_claim_is_created_and_a_second_claimant_is_told_who_manages() -> None:
    store, cluster = InMemoryClaimStore(), Cluster(OWNER, COPYCAT, INTRUDER)
    first = await claim(store, X, OWNER, cluster.lookup, now=NOW)
    assert isinstance(first, Held) and first.created and first.taken_over_from is None
    assert first.claim.claimed_at == "2026-12-04T05:00:00Z"
    assert first.event_message == "claimed instance 1fa1930f: this object manages it"
    for claimant in (COPYCAT, INTRUDER):
        refused = await claim(store, X, claimant, cluster.lookup)
        assert isinstance(refused, AlreadyManaged)
        assert refused.reason == ALREADY_MANAGED == "AlreadyManaged"
        assert refused.manager == OWNER
        assert refused.message == (
            "instance 1fa1930f is managed by AuraInstance bars/owner; this object sends no "
            "change for it and gets no password. To hand it over, delete AuraInstance "
            "bars/owner with deletionPolicy Retain"
        )
    assert [r.manager for r in store.records()] == [OWNER]
    assert store.writes == 1


async def test_a_restart_finds_its_own_claim_by_uid_and_writes_nothing() -> None:
    store, cluster = InMemoryClaimStore(), Cluster(OWNER)
    await claim(store, X, OWNER, cluster.lookup)
    writes, lookups = store.writes, cluster.lookups
    # A new process (nothing remembered) claims again for the same object.
    again = await claim(store, X, OWNER, cluster.lookup)
    assert isinstance(again, Held) and not again.created and again.event_message is None
    assert (store.writes, cluster.lookups) == (writes, lookups)


async def test_a_recreated_object_of_the_same_name_is_a_new_manager() -> None:
    store = InMemoryClaimStore()
    await claim(store, X, OWNER, Cluster(OWNER).lookup)
    reborn = ManagerRef("AuraInstance", "bars", "owner", "uid-owner-2")
    result = await claim(store, X, reborn, Cluster(reborn).lookup)
    assert isinstance(result, Held) and result.taken_over_from == OWNER
    assert [r.manager for r in store.records()] == [reborn]


async def test_a_stale_claim_is_taken_over_and_the_event_names_the_old_manager() -> None:
    store = InMemoryClaimStore()
    await claim(store, X, OWNER, Cluster(OWNER).lookup)
    # owner was deleted without releasing (e.g. force-finalized): its claim is stale.
    result = await claim(store, X, INTRUDER, Cluster(INTRUDER).lookup)
    assert isinstance(result, Held) and result.created and result.taken_over_from == OWNER
    assert result.event_message == (
        "took over instance 1fa1930f from AuraInstance bars/owner, which no longer exists "
        "(uid uid-owner)"
    )
    assert [r.manager for r in store.records()] == [INTRUDER]


async def test_release_deletes_only_the_holders_claim_and_then_the_next_claimant_takes_it() -> None:
    store, cluster = InMemoryClaimStore(), Cluster(OWNER, COPYCAT)
    await claim(store, X, OWNER, cluster.lookup)
    assert isinstance(await release(store, X, COPYCAT), NotHolder)
    assert [r.manager for r in store.records()] == [OWNER]
    released = await release(store, X, OWNER)
    assert isinstance(released, Released) and released.claim is not None
    assert await release(store, X, OWNER) == Released(None)
    result = await claim(store, X, COPYCAT, cluster.lookup)
    assert isinstance(result, Held) and result.created and result.taken_over_from is None


async def test_a_delete_precondition_protects_a_claim_written_since_it_was_read() -> None:
    store = InMemoryClaimStore()
    old = await store.create(ClaimRecord(X, OWNER, "t"))
    assert await store.delete(old)
    new = await store.create(ClaimRecord(X, COPYCAT, "t"))
    with pytest.raises(ClaimChanged):
        await store.delete(old)
    with pytest.raises(ClaimExists):
        await store.create(ClaimRecord(X, OWNER, "t"))
    assert store.records() == [new]


# --- races ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(200))
async def test_two_claimants_at_once_never_make_two_managers(seed: int) -> None:
    store, cluster = InMemoryClaimStore(shuffler(seed)), Cluster(OWNER, COPYCAT, INTRUDER)
    results = await asyncio.gather(
        claim(store, X, COPYCAT, cluster.lookup), claim(store, X, INTRUDER, cluster.lookup)
    )
    held = [r for r in results if isinstance(r, Held)]
    refused = [r for r in results if isinstance(r, AlreadyManaged)]
    assert len(held) == 1 and len(refused) == 1
    assert refused[0].manager == held[0].claim.manager
    assert [r.manager for r in store.records()] == [held[0].claim.manager]


@pytest.mark.parametrize("seed", range(200))
async def test_two_replicas_claiming_for_one_object_both_see_it_held_once(seed: int) -> None:
    store, cluster = InMemoryClaimStore(shuffler(seed)), Cluster(OWNER)
    results = await asyncio.gather(
        claim(store, X, OWNER, cluster.lookup), claim(store, X, OWNER, cluster.lookup)
    )
    assert all(isinstance(r, Held) for r in results)
    assert sorted(isinstance(r, Held) and r.created for r in results) == [False, True]
    assert store.writes == 1


@pytest.mark.parametrize("seed", range(200))
async def test_two_claimants_taking_over_a_stale_claim_make_one_manager(seed: int) -> None:
    store = InMemoryClaimStore(shuffler(seed))
    await claim(store, X, OWNER, Cluster(OWNER).lookup)
    cluster = Cluster(COPYCAT, INTRUDER)  # owner is gone
    results = await asyncio.gather(
        claim(store, X, COPYCAT, cluster.lookup), claim(store, X, INTRUDER, cluster.lookup)
    )
    held = [r for r in results if isinstance(r, Held)]
    # The winner took it over, or found it already deleted by the loser (then: a first claim).
    assert len(held) == 1 and held[0].taken_over_from in (OWNER, None)
    (other,) = [r for r in results if not isinstance(r, Held)]
    assert isinstance(other, AlreadyManaged) and other.manager == held[0].claim.manager
    assert [r.manager for r in store.records()] == [held[0].claim.manager]


@pytest.mark.parametrize("seed", range(100))
async def test_a_release_racing_a_claimant_leaves_at_most_the_claimants_claim(seed: int) -> None:
    store, cluster = InMemoryClaimStore(shuffler(seed)), Cluster(OWNER, COPYCAT)
    await claim(store, X, OWNER, cluster.lookup)
    released, claimed = await asyncio.gather(
        release(store, X, OWNER), claim(store, X, COPYCAT, cluster.lookup)
    )
    assert isinstance(released, Released)
    managers = [r.manager for r in store.records()]
    if isinstance(claimed, Held):
        assert managers == [COPYCAT]
    else:  # it looked before the release: told who managed it, and nothing stored
        assert isinstance(claimed, AlreadyManaged) and claimed.manager == OWNER
        assert managers == []


async def test_a_claim_that_keeps_changing_gives_up_as_contended() -> None:
    class Flapping(InMemoryClaimStore):
        """Every create loses to another claimant, who is gone again by the next look."""

        async def create(self, record: ClaimRecord) -> ClaimRecord:
            raise ClaimExists(record.name)

    with pytest.raises(ClaimContended, match="claim of instance 1fa1930f kept changing"):
        await claim(Flapping(), X, OWNER, Cluster(OWNER).lookup)
