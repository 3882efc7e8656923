"""Admission: the claim, the grants and deletion protection, checked once for every kind.

The pure pieces live in claims.py, grants.py and deletion_protection.py; this module wires them
into a pass (`admit`) and into the finalizer (`hold_deletion`, `may_delete`, `let_go`), so that
no kind carries its own copy. A kind only declares what it manages and what it refers to
(`Kind.manages`, `Kind.refers`, `Kind.protection` in controller.py).

- A pass of an object that manages an Aura object first takes (or finds) its claim: a second
  claimant gets Synced=False AlreadyManaged and its pass sends nothing. When the manager lets go,
  the claimants that were refused are woken and the first to claim takes over.
- A pass that is about to use Aura objects it does not manage (a clone source, an overwrite
  source, a restore target, an observed instance) checks each against its claim and the
  AuraReferenceGrants of the manager's namespace; a refused reference stops the pass with
  Synced=False ReferenceNotPermitted. Creating or changing a grant wakes the refused objects.
- The finalizer holds a protected object (Synced=False DeletionProtected) and never lets an
  object that does not hold the claim delete or release the Aura object.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aura_operator.kube.api import KubeApi
from aura_operator.runtime.claims import (
    ALREADY_MANAGED,
    AlreadyManaged,
    AuraObject,
    ClaimRecord,
    ClaimStore,
    Held,
    InMemoryClaimStore,
    ManagerRef,
    claim,
    release,
)
from aura_operator.runtime.conditions import SYNCED
from aura_operator.runtime.grants import (
    GRANT_PLURAL,
    AuraReferenceGrant,
    ReferenceRefused,
    UnmanagedPolicy,
    check_reference,
    unmanaged_policy,
)
from aura_operator.runtime.outcome import Outcome, Recorder, synced_false

#: (spec.unmanagedObjects in effect, the credential's name or None for the default one).
Policy = Callable[[], Awaitable[tuple[str, str | None]]]

#: How long a pass trusts that its object still holds the claim it found, before reading it again.
HELD_FRESH = 300.0

#: How long a refused object waits before it looks again by itself (a grant, or the manager
#: letting go in this process, wakes it at once).
REFUSED_RECHECK = 300.0


CREDENTIAL_PLURAL = "auracredentials"


def manager_plural(kind: str) -> str:
    """The resource name of a managing kind: AuraInstance -> aurainstances."""
    return kind.lower() + "s"


@dataclass
class Admission:
    """The claim store, and who waits for what: objects refused because another object
    manages their Aura object (woken when it is released here), and objects refused for a
    missing grant (woken by a grant event in the namespace they need one from)."""

    store: ClaimStore = field(default_factory=InMemoryClaimStore)
    waiting: dict[AuraObject, set[str]] = field(default_factory=dict)
    refused: dict[str, set[str]] = field(default_factory=dict)
    """uid -> the namespaces whose grant it lacks."""
    held: dict[str, tuple[AuraObject, float]] = field(default_factory=dict)
    """uid -> the claim it was found to hold, and when (time.monotonic()): while it is fresh
    (HELD_FRESH) a pass does not read the claim again. Nobody else removes a claim whose
    manager exists, so the only risk is a person deleting the ConfigMap by hand."""

    def holds(self, uid: str, target: AuraObject) -> bool:
        found = self.held.get(uid)
        return found is not None and found[0] == target and time.monotonic() - found[1] < HELD_FRESH

    def wait_for(self, target: AuraObject, uid: str) -> None:
        self.waiting.setdefault(target, set()).add(uid)

    def stop_waiting(self, uid: str) -> None:
        for uids in self.waiting.values():
            uids.discard(uid)
        self.refused.pop(uid, None)

    def forget(self, uid: str) -> None:
        self.stop_waiting(uid)
        self.held.pop(uid, None)

    def released(self, target: AuraObject) -> set[str]:
        """The claimants to wake now that `target`'s claim is gone."""
        return self.waiting.pop(target, set())

    def granted(self, namespace: str) -> list[str]:
        """The objects to wake after a grant in `namespace` appeared or changed."""
        return [uid for uid, spaces in self.refused.items() if namespace in spaces]


def me(kind: str, body: Mapping[str, Any]) -> ManagerRef:
    meta = body.get("metadata") or {}
    return ManagerRef(
        kind, meta.get("namespace") or "", meta.get("name") or "", meta.get("uid") or ""
    )


def _shown(body: Mapping[str, Any], reason: str, message: str) -> bool:
    """Synced already says this: no new event."""
    for c in (body.get("status") or {}).get("conditions") or []:
        if c.get("type") == SYNCED:
            return bool(c.get("reason") == reason and c.get("message") == message)
    return False


def _refusal(body: Mapping[str, Any], events: Recorder, reason: str, message: str) -> Outcome:
    if not _shown(body, reason, message):
        events.event("Warning", reason, message)
    return Outcome(conditions=[synced_false(reason, message)], requeue_after=REFUSED_RECHECK)


class Checker:
    """The checks of one pass (or finalizer attempt) of one object."""

    def __init__(
        self,
        admission: Admission,
        kube: KubeApi,
        kind: str,
        body: Mapping[str, Any],
        events: Recorder,
    ) -> None:
        self.admission = admission
        self.kube = kube
        self.me = me(kind, body)
        self.body = body
        self.events = events
        self.managed_elsewhere = False

    async def lookup(self, ref: ManagerRef) -> str | None:
        found = await self.kube.get_object(manager_plural(ref.kind), ref.namespace, ref.name)
        uid = ((found or {}).get("metadata") or {}).get("uid")
        return str(uid) if uid else None

    async def take(self, target: AuraObject) -> Outcome | None:
        """Claim `target`: None if this object manages it, else the refusal."""
        if self.admission.holds(self.me.uid, target):
            return None
        result = await claim(self.admission.store, target, self.me, self.lookup)
        if isinstance(result, AlreadyManaged):
            self.admission.held.pop(self.me.uid, None)
            self.admission.wait_for(target, self.me.uid)
            return _refusal(self.body, self.events, result.reason, result.message)
        self.admission.stop_waiting(self.me.uid)
        self.admission.held[self.me.uid] = (target, time.monotonic())
        self._say_claimed(result)
        return None

    def _say_claimed(self, held: Held) -> None:
        if held.event_message is None:
            return
        if held.taken_over_from is None and _was(self.body, ALREADY_MANAGED):
            message = f"took over {held.claim.target}: its manager let go"
            self.events.event("Normal", "TookOver", message)
        elif held.taken_over_from is not None:
            self.events.event("Normal", "TookOver", held.event_message)
        else:
            self.events.event("Normal", "Claimed", held.event_message)

    async def holder(self, target: AuraObject) -> ClaimRecord | None:
        """The live claim of `target` (None: nobody, or a manager that no longer exists)."""
        record = await self.admission.store.get(target)
        if record is None or record.manager.uid == self.me.uid:
            return record
        if await self.lookup(record.manager) != record.manager.uid:
            return None
        return record

    async def refer(self, targets: Sequence[AuraObject], policy: Policy) -> Outcome | None:
        """May this object use `targets`? None if so, else the refusal (nothing is sent).
        `policy` gives (unmanagedObjects, the credential's name) when a target is unmanaged.
        Sets `managed_elsewhere` when another object manages one of them."""
        missing: set[str] = set()
        refusal: ReferenceRefused | None = None
        for target in targets:
            record = await self.holder(target)
            if record is not None and record.manager.uid == self.me.uid:
                continue
            if record is not None:
                self.managed_elsewhere = True
            unmanaged, credential = await policy() if record is None else ("Allow", None)
            decision = check_reference(
                self.me.namespace,
                self.me.kind,
                target,
                record,
                await self.grants(record),
                "Deny" if unmanaged == "Deny" else "Allow",
                credential=credential,
            )
            if isinstance(decision, ReferenceRefused) and refusal is None:
                refusal = decision
                if record is not None:
                    missing.add(record.manager.namespace)
        if refusal is None:
            self.admission.refused.pop(self.me.uid, None)
            return None
        self.admission.refused[self.me.uid] = missing
        return _refusal(self.body, self.events, refusal.reason, refusal.message)

    async def grants(self, record: ClaimRecord | None) -> list[AuraReferenceGrant]:
        """The grants of the manager's namespace (none needed in the referrer's own)."""
        if record is None or record.manager.namespace == self.me.namespace:
            return []
        bodies = await self.kube.list_objects(GRANT_PLURAL, record.manager.namespace)
        return list(_parsed(bodies))

    async def let_go(self, target: AuraObject) -> list[str]:
        """Release `target` if this object holds it; the uids of the claimants to wake."""
        await release(self.admission.store, target, self.me)
        self.admission.forget(self.me.uid)
        return sorted(self.admission.released(target))


def _parsed(bodies: Iterable[Mapping[str, Any]]) -> Iterable[AuraReferenceGrant]:
    for body in bodies:
        try:
            yield AuraReferenceGrant.from_body(body)
        except ValueError:
            continue  # an invalid grant grants nothing (the CRD schema keeps them rare)


def _was(body: Mapping[str, Any], reason: str) -> bool:
    for c in (body.get("status") or {}).get("conditions") or []:
        if c.get("type") == SYNCED:
            return bool(c.get("reason") == reason)
    return False


async def unmanaged_objects(
    kube: KubeApi, credential: str | None, default: str
) -> tuple[str, str | None]:
    """The unmanagedObjects policy of the credential an object names (None: the default
    credential, which follows AURA_OPERATOR_UNMANAGED_OBJECTS)."""
    fallback: UnmanagedPolicy = "Deny" if default == "Deny" else "Allow"
    if not credential:
        return unmanaged_policy(None, fallback), None
    body = await kube.get_object(CREDENTIAL_PLURAL, "", credential)
    return unmanaged_policy(dict((body or {}).get("spec") or {}), fallback), credential
