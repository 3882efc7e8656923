"""AuraCustomerManagedKey as the controller runs it: create once, wait for `ready`, and a
finalizer that deletes the key in Aura under `deletionPolicy: Delete`."""

from __future__ import annotations

from aura_operator.kinds.customer_key.model import KIND, PLURAL, AuraCustomerManagedKey
from aura_operator.kinds.customer_key.reconcile import finalize_key, reconcile_key
from aura_operator.runtime.claims import AuraObject
from aura_operator.runtime.controller import Finalization, Kind, Pass
from aura_operator.runtime.deletion_protection import DeletionPolicy
from aura_operator.runtime.outcome import Outcome
from aura_operator.runtime.settings import Settings


def manages(obj: AuraCustomerManagedKey) -> AuraObject | None:
    return AuraObject("key", obj.aura_id) if obj.aura_id else None


def protection(
    obj: AuraCustomerManagedKey, settings: Settings
) -> tuple[bool | None, DeletionPolicy]:
    return (
        obj.spec.deletion_protection,
        obj.spec.deletion_policy or settings.default_deletion_policy,
    )


async def decide(p: Pass[AuraCustomerManagedKey]) -> Outcome:
    return await reconcile_key(p)


async def finalize(p: Pass[AuraCustomerManagedKey]) -> Finalization:
    return await finalize_key(p)


async def force_finalize(p: Pass[AuraCustomerManagedKey]) -> str:
    return f"key {p.obj.aura_id or '(none)'}"


CUSTOMER_KEY: Kind[AuraCustomerManagedKey] = Kind(
    name=KIND,
    plural=PLURAL,
    short="key",
    parse=AuraCustomerManagedKey.from_body,
    decide=decide,
    finalize=finalize,
    force_finalize=force_finalize,
    uses_credential=True,
    manages=manages,
    protection=protection,
)
