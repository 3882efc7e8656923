"""Grants: a reference into another namespace's Aura object needs that namespace's consent.

Cloning an instance, overwriting from it, snapshotting or observing it copies or reveals data
that its manager's namespace owns. Following Gateway API's ReferenceGrant, the consent is an
`AuraReferenceGrant` in the namespace of the object that manages the target: it names who may
refer (`from`: namespace and kind of the referring object) and to what (`to`: kind of the
managing object, optionally its name). The people who review that namespace review its grants;
a Role in the referring namespace alone never reaches across.

`check_reference` is the pure decision, made before a pass sends anything that uses the
target. Same-namespace references need no grant. A target that no object manages (created in
the console, say) follows the credential's `spec.unmanagedObjects` (`Allow` by default, see
docs/tenancy.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aura_operator.runtime.claims import AuraObject, ClaimRecord

GRANT_KIND = "AuraReferenceGrant"
GRANT_PLURAL = "aurareferencegrants"

#: The Synced reason of an object whose reference is refused (nothing is sent).
REFERENCE_NOT_PERMITTED = "ReferenceNotPermitted"

ReferrerKind = Literal[
    "AuraInstance",
    "AuraRestore",
    "AuraSnapshot",
    "AuraCustomerManagedKey",
    "AuraGraphAnalyticsSession",
]
ManagerKind = Literal[
    "AuraInstance", "AuraSnapshot", "AuraCustomerManagedKey", "AuraGraphAnalyticsSession"
]
UnmanagedPolicy = Literal["Allow", "Deny"]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class GrantFrom(_Model):
    """Who may refer: objects of `kind` in `namespace`."""

    namespace: str
    kind: ReferrerKind


class GrantTo(_Model):
    """To what: the Aura objects managed by objects of `kind` in the grant's namespace (only
    the one called `name`, when set)."""

    kind: ManagerKind
    name: str | None = None


class AuraReferenceGrantSpec(_Model):
    from_: tuple[GrantFrom, ...] = Field(alias="from", min_length=1)
    to: tuple[GrantTo, ...] = Field(min_length=1)


class AuraReferenceGrant(_Model):
    namespace: str
    name: str
    spec: AuraReferenceGrantSpec

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuraReferenceGrant:
        metadata = body.get("metadata") or {}
        return cls.model_validate(
            {
                "namespace": metadata.get("namespace", ""),
                "name": metadata.get("name", ""),
                "spec": body.get("spec") or {},
            }
        )

    def allows(
        self, referrer_namespace: str, referrer_kind: str, manager_kind: str, name: str
    ) -> bool:
        return any(
            f.namespace == referrer_namespace and f.kind == referrer_kind for f in self.spec.from_
        ) and any(t.kind == manager_kind and t.name in (None, name) for t in self.spec.to)


@dataclass(frozen=True)
class ReferenceAllowed:
    """The reference may be followed; `via` says why (for logs and events)."""

    via: str
    allowed: Literal[True] = True


@dataclass(frozen=True)
class ReferenceRefused:
    """Send nothing that uses the target; set Synced=False with `reason` and `message`."""

    message: str
    reason: str = REFERENCE_NOT_PERMITTED
    allowed: Literal[False] = False


ReferenceDecision = ReferenceAllowed | ReferenceRefused


def unmanaged_policy(
    credential_spec: Mapping[str, Any] | None, default: UnmanagedPolicy
) -> UnmanagedPolicy:
    """The policy for unmanaged targets: an AuraCredential's `spec.unmanagedObjects` (the schema
    defaults it to Allow; an object stored before the field existed has none: Allow too), or
    `default` (the AURA_OPERATOR_UNMANAGED_OBJECTS setting) for the operator's default
    credential (`credential_spec` None)."""
    if credential_spec is None:
        return default
    return "Deny" if credential_spec.get("unmanagedObjects") == "Deny" else "Allow"


def missing_grant_message(
    referrer_namespace: str, referrer_kind: str, manager_namespace: str, manager: str
) -> str:
    """`manager` is "<Kind> <name>", e.g. "AuraInstance prod"."""
    return (
        f"no {GRANT_KIND} in namespace {manager_namespace} allows {referrer_kind} "
        f"from namespace {referrer_namespace} to {manager}"
    )


def check_reference(
    referrer_namespace: str,
    referrer_kind: str,
    target: AuraObject,
    manager: ClaimRecord | None,
    grants: Iterable[AuraReferenceGrant],
    unmanaged: UnmanagedPolicy,
    *,
    credential: str | None = None,
) -> ReferenceDecision:
    """May an object (`referrer_kind` in `referrer_namespace`) use `target`, whose claim is
    `manager` (None: no object manages it)? `grants`: the AuraReferenceGrants of the
    manager's namespace (others are ignored). `unmanaged`: the setting of the credential the
    referrer uses (`credential`: its name, None for the operator's default credential)."""
    if manager is None:
        if unmanaged == "Allow":
            return ReferenceAllowed(f"{target} is managed by no object; unmanagedObjects: Allow")
        where = (
            f"AuraCredential {credential} sets spec.unmanagedObjects: Deny"
            if credential
            else "the default credential's AURA_OPERATOR_UNMANAGED_OBJECTS is Deny"
        )
        return ReferenceRefused(
            f"{target} is managed by no object, and {where}: create an object that manages it "
            f"(spec.instanceId) in the namespace that should own it, then grant this reference "
            f"there if it is another namespace"
        )
    owner = manager.manager
    if owner.namespace == referrer_namespace:
        return ReferenceAllowed("same namespace")
    for grant in grants:
        if grant.namespace == owner.namespace and grant.allows(
            referrer_namespace, referrer_kind, owner.kind, owner.name
        ):
            return ReferenceAllowed(f"{GRANT_KIND} {grant.namespace}/{grant.name}")
    return ReferenceRefused(
        missing_grant_message(
            referrer_namespace, referrer_kind, owner.namespace, f"{owner.kind} {owner.name}"
        )
    )
