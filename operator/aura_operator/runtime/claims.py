"""Claims: exactly one managing object per Aura object (DESIGN principle 9, issue 19).

Without them any object that names an instance id manages it: two AuraInstances resize one
instance back and forth, each receives its password, and deleting either deletes it. A claim is a
record, one per Aura object, of which Kubernetes object manages it. It is kept as a ConfigMap in
the operator's namespace named `aura-claim-<type>-<auraId>`; creating it is atomic (the second
create of a name gets 409 AlreadyExists), so the API server arbitrates between two claimants in the
same second, two replicas, or a process that restarted between its claim and its first write.

A claim is held by the manager whose uid it records (a restart finds its own claim by uid; a
deleted and recreated object of the same name is a new manager). A claim whose manager no longer
exists, or exists with another uid, is stale: the next claimant deletes it with a precondition on
its uid and resourceVersion, then creates its own; if someone else was faster, the create fails
and the claimant looks again. Any other claimant is told `AlreadyManaged`, naming the manager,
and must send nothing for that Aura object.

This module holds the pure decision (`decide`), the store interface (`ClaimStore`), the
`claim`/`release` flows over it, and an in-memory store for tests; the Kubernetes store is
`aura_operator.kube.claim_store`. The flows keep no state between calls.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

AuraType = Literal["instance", "snapshot", "key", "session"]
AURA_TYPES: tuple[AuraType, ...] = ("instance", "snapshot", "key", "session")

#: Labels of every claim ConfigMap (select them with `-l aura-operator.dev/claim`).
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "aura-operator"
CLAIM_LABEL = "aura-operator.dev/claim"
NAME_PREFIX = "aura-claim-"

#: The Synced reason of an object that names an Aura object another object manages.
ALREADY_MANAGED = "AlreadyManaged"

#: How often `claim`/`release` look again after losing a race before giving up (transient).
ATTEMPTS = 5

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MAX_ID_IN_NAME = 253 - len(NAME_PREFIX) - len("snapshot-")


class ClaimError(Exception):
    """A claim could not be read or decided; transient unless said otherwise."""


class ClaimExists(ClaimError):
    """`ClaimStore.create`: a claim of that name exists already (409 AlreadyExists)."""


class ClaimChanged(ClaimError):
    """`ClaimStore.delete`: the claim is no longer the one that was read (uid or
    resourceVersion precondition failed)."""


class ClaimContended(ClaimError):
    """`claim`/`release` lost the race `ATTEMPTS` times in a row: try again on the next pass."""


class ClaimUnreadable(ClaimError):
    """A claim ConfigMap lacks a field: someone edited it. Nobody may act on that Aura object
    until a person deletes the ConfigMap (the message says which)."""


@dataclass(frozen=True)
class AuraObject:
    """An object in Aura: its type and its Aura id."""

    type: AuraType
    id: str

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


@dataclass(frozen=True)
class ManagerRef:
    """The Kubernetes object that manages (or wants to manage) an Aura object."""

    kind: str
    namespace: str
    name: str
    uid: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def manager_ref(body: Mapping[str, Any]) -> ManagerRef:
    """The `ManagerRef` of a Kubernetes object as the API server returns it (wire form)."""
    metadata = body.get("metadata") or {}
    return ManagerRef(
        str(body.get("kind", "")),
        str(metadata.get("namespace", "")),
        str(metadata.get("name", "")),
        str(metadata.get("uid", "")),
    )


@dataclass(frozen=True)
class ClaimRecord:
    """One claim. `uid` and `resource_version` are the store's (empty before it is stored):
    the preconditions of a delete, so that a delete never removes a claim written since."""

    target: AuraObject
    manager: ManagerRef
    claimed_at: str
    uid: str = ""
    resource_version: str = ""

    @property
    def name(self) -> str:
        return claim_name(self.target)


def claim_name(target: AuraObject) -> str:
    """`aura-claim-<type>-<auraId>`. An id that is not a lowercase DNS label (or too long) is
    replaced by a hash of it, so that two ids never share a name by lowercasing."""
    ident = target.id
    if not _DNS_LABEL.match(ident) or len(ident) > _MAX_ID_IN_NAME:
        ident = "h-" + hashlib.sha256(target.id.encode()).hexdigest()[:40]
    return f"{NAME_PREFIX}{target.type}-{ident}"


def claim_labels(target: AuraObject) -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGED_BY, CLAIM_LABEL: target.type}


def claim_data(record: ClaimRecord) -> dict[str, str]:
    """The ConfigMap `data` of a claim."""
    m = record.manager
    return {
        "type": record.target.type,
        "auraId": record.target.id,
        "managerKind": m.kind,
        "managerNamespace": m.namespace,
        "managerName": m.name,
        "managerUid": m.uid,
        "claimedAt": record.claimed_at,
    }


def record_from_data(
    name: str, data: Mapping[str, str], *, uid: str = "", resource_version: str = ""
) -> ClaimRecord:
    """The inverse of `claim_data`; `ClaimUnreadable` when a field is missing or wrong."""
    fields = ("type", "auraId", "managerKind", "managerNamespace", "managerName", "managerUid")
    missing = [f for f in fields if not data.get(f)]
    aura_type = data.get("type", "")
    if missing or aura_type not in AURA_TYPES:
        wrong = ", ".join(missing) if missing else f"type {aura_type!r}"
        raise ClaimUnreadable(
            f"claim ConfigMap {name} is unreadable ({wrong}); nothing is sent for that Aura "
            f"object until it is repaired or deleted (the next claimant then takes it)"
        )
    record = ClaimRecord(
        target=AuraObject(aura_type, data["auraId"]),
        manager=ManagerRef(
            data["managerKind"], data["managerNamespace"], data["managerName"], data["managerUid"]
        ),
        claimed_at=data.get("claimedAt", ""),
        uid=uid,
        resource_version=resource_version,
    )
    if record.name != name:
        raise ClaimUnreadable(f"claim ConfigMap {name} records {record.target}, not its own")
    return record


# ------------------------------------------------------------------------------- the store


class ClaimStore(Protocol):
    """Where claims live. Every method is one atomic call of the backing store."""

    async def get(self, target: AuraObject) -> ClaimRecord | None:
        """The claim of `target`, None if there is none."""
        ...

    async def create(self, record: ClaimRecord) -> ClaimRecord:
        """Store a new claim and return it with its uid and resourceVersion; `ClaimExists`
        if a claim of that Aura object exists (whoever holds it)."""
        ...

    async def delete(self, record: ClaimRecord) -> bool:
        """Delete `record` only if the stored claim still has its uid and resourceVersion
        (else `ClaimChanged`); False if there is no claim any more."""
        ...


#: The current uid of the object a `ManagerRef` names (same kind, namespace and name), None if
#: no such object exists. Backed by a read from the API server, not a cache.
ManagerLookup = Callable[[ManagerRef], Awaitable[str | None]]


# ----------------------------------------------------------------------------- decisions


class Step(enum.Enum):
    CREATE = "create"  # no claim: create one
    HELD = "held"  # the claim is ours
    TAKE_OVER = "take-over"  # the claim is stale: delete it (precondition), then create
    REFUSE = "refuse"  # another object that exists manages it


def is_stale(existing: ClaimRecord, holder_uid: str | None) -> bool:
    """The recorded manager is gone (None) or is another object now (a different uid)."""
    return holder_uid != existing.manager.uid


def decide(existing: ClaimRecord | None, me: ManagerRef, holder_uid: str | None) -> Step:
    """What a claimant does, given the stored claim and the recorded manager's current uid
    (only read when the claim exists and is not the claimant's)."""
    if existing is None:
        return Step.CREATE
    if existing.manager.uid == me.uid:
        return Step.HELD
    if is_stale(existing, holder_uid):
        return Step.TAKE_OVER
    return Step.REFUSE


@dataclass(frozen=True)
class Held:
    """The claimant manages the Aura object. `created`: this call wrote the claim (a first
    claim, or a takeover when `taken_over_from` is set); else it found its own."""

    claim: ClaimRecord
    created: bool
    taken_over_from: ManagerRef | None = None

    @property
    def event_message(self) -> str | None:
        """What to say in an event, None when nothing changed."""
        if not self.created:
            return None
        if self.taken_over_from is not None:
            return (
                f"took over {self.claim.target} from {self.taken_over_from}, which no longer "
                f"exists (uid {self.taken_over_from.uid})"
            )
        return f"claimed {self.claim.target}: this object manages it"


@dataclass(frozen=True)
class AlreadyManaged:
    """Another existing object manages the Aura object: send nothing for it."""

    claim: ClaimRecord
    reason: str = ALREADY_MANAGED

    @property
    def manager(self) -> ManagerRef:
        return self.claim.manager

    @property
    def message(self) -> str:
        return (
            f"{self.claim.target} is managed by {self.manager}; this object sends no change "
            f"for it and gets no password. To hand it over, delete {self.manager.kind} "
            f"{self.manager.namespace}/{self.manager.name} with deletionPolicy Retain"
        )


ClaimResult = Held | AlreadyManaged


@dataclass(frozen=True)
class Released:
    """The claimant's claim is gone (`claim` None: there was none)."""

    claim: ClaimRecord | None


@dataclass(frozen=True)
class NotHolder:
    """Someone else holds the claim: release left it alone."""

    claim: ClaimRecord


ReleaseResult = Released | NotHolder


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------- flows


async def claim(
    store: ClaimStore,
    target: AuraObject,
    me: ManagerRef,
    lookup: ManagerLookup,
    *,
    now: datetime | None = None,
) -> ClaimResult:
    """Claim `target` for `me`, or learn who manages it. Call it before every pass that may
    change the Aura object or hand out its password; only `Held` may act.

    Safe under any interleaving with other claimants and replicas: `create` is the arbiter,
    and a takeover deletes only the exact stale claim it read. Raises `ClaimContended` after
    `ATTEMPTS` lost races, `ClaimUnreadable`, and whatever the store raises (transient).
    """
    taken_from: ManagerRef | None = None
    for _ in range(ATTEMPTS):
        existing = await store.get(target)
        holder_uid = None
        if existing is not None and existing.manager.uid != me.uid:
            holder_uid = await lookup(existing.manager)
        step = decide(existing, me, holder_uid)
        if step is Step.HELD:
            assert existing is not None
            return Held(existing, created=False)
        if step is Step.REFUSE:
            assert existing is not None
            return AlreadyManaged(existing)
        if step is Step.TAKE_OVER:
            assert existing is not None
            try:
                await store.delete(existing)
            except ClaimChanged:
                continue  # rewritten since we read it: look again
            taken_from = existing.manager
        record = ClaimRecord(target=target, manager=me, claimed_at=now_text(now))
        try:
            created = await store.create(record)
        except ClaimExists:
            continue  # someone else created it first: look again
        return Held(created, created=True, taken_over_from=taken_from)
    raise ClaimContended(f"the claim of {target} kept changing; trying again on the next pass")


async def release(store: ClaimStore, target: AuraObject, me: ManagerRef) -> ReleaseResult:
    """Let go of `target` (the manager was deleted with Retain, or stopped naming it, or the
    Aura object was deleted): delete the claim if `me` holds it, never anyone else's."""
    for _ in range(ATTEMPTS):
        existing = await store.get(target)
        if existing is None:
            return Released(None)
        if existing.manager.uid != me.uid:
            return NotHolder(existing)
        try:
            await store.delete(existing)
        except ClaimChanged:
            continue
        return Released(existing)
    raise ClaimContended(f"the claim of {target} kept changing; trying again on the next pass")


# ------------------------------------------------------------------------ in-memory store


class InMemoryClaimStore:
    """A `ClaimStore` in a dict, with the Kubernetes store's semantics (atomic create, delete
    preconditions), for the in-process tests. `interleave`, when given, is awaited before and
    after every call: tests pass one that yields to other tasks a random number of times."""

    def __init__(self, interleave: Callable[[], Awaitable[None]] | None = None) -> None:
        self._claims: dict[str, ClaimRecord] = {}
        self._version = 0
        self._interleave = interleave
        self.writes = 0

    async def _yield(self) -> None:
        if self._interleave is not None:
            await self._interleave()
        else:
            await asyncio.sleep(0)

    def records(self) -> list[ClaimRecord]:
        return list(self._claims.values())

    async def get(self, target: AuraObject) -> ClaimRecord | None:
        await self._yield()
        found = self._claims.get(claim_name(target))
        await self._yield()
        return found

    async def create(self, record: ClaimRecord) -> ClaimRecord:
        await self._yield()
        if record.name in self._claims:  # check and insert with no await between: atomic
            raise ClaimExists(f"{record.name} exists")
        self._version += 1
        self.writes += 1
        stored = replace(record, uid=str(uuid.uuid4()), resource_version=str(self._version))
        self._claims[record.name] = stored
        await self._yield()
        return stored

    async def delete(self, record: ClaimRecord) -> bool:
        await self._yield()
        current = self._claims.get(record.name)
        if current is None:
            return False
        if (current.uid, current.resource_version) != (record.uid, record.resource_version):
            raise ClaimChanged(f"{record.name} changed since it was read")
        self.writes += 1
        del self._claims[record.name]
        await self._yield()
        return True
