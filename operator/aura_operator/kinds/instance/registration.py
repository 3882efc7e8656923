"""AuraInstance as the controller runs it: its decisions, its planning and what wakes it.

Besides its own watch (runtime/controller.py), a deleted connection Secret wakes its owner so
that it is restored at once; after a restart a settled instance waits for its drift slot.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import kopf

from aura_operator.aura import SETTLED_STATUSES
from aura_operator.kinds.instance.delete import finalize
from aura_operator.kinds.instance.model import KIND, PLURAL, AuraInstance, wanted_name
from aura_operator.kinds.instance.planning import observe, plan
from aura_operator.kinds.instance.reconcile import reconcile
from aura_operator.kube.api import KubeError
from aura_operator.runtime.claims import AuraObject
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.controller import Finalization, Kind, Pass, Watch
from aura_operator.runtime.credentials import CredentialsProblem
from aura_operator.runtime.deletion_protection import DeletionPolicy
from aura_operator.runtime.loop import wait
from aura_operator.runtime.model import GROUP, MANAGED_BY, OPERATOR
from aura_operator.runtime.object_state import ObjectState
from aura_operator.runtime.outcome import Outcome
from aura_operator.runtime.settings import Settings


def manages(obj: AuraInstance) -> AuraObject | None:
    """The instance it manages (created, or adopted by spec.instanceId); ObserveOnly manages
    nothing: it refers to the instance it observes."""
    if obj.observe_only or not obj.instance_id:
        return None
    return AuraObject("instance", obj.instance_id)


def released(obj: AuraInstance) -> AuraObject | None:
    """An adopted instance whose spec.instanceId was removed: let go of (a created instance
    has its create intent in status.creation and stays managed)."""
    status = obj.status
    if obj.observe_only or obj.spec.instance_id or not status.instance_id or status.creation:
        return None
    return AuraObject("instance", status.instance_id)


async def refers(p: Pass[AuraInstance]) -> list[AuraObject]:
    """What a pass uses without managing it: the observed instance (ObserveOnly), and before
    the create, the instance it clones (spec.source.instanceId) and the key it is encrypted
    with (spec.customerManagedKeyId). Same-namespace objects named by Ref were admitted
    themselves."""
    obj = p.obj
    if obj.observe_only:
        return [AuraObject("instance", obj.instance_id)] if obj.instance_id else []
    if obj.instance_id:
        return []
    found = []
    if obj.spec.source is not None and obj.spec.source.instance_id:
        found.append(AuraObject("instance", obj.spec.source.instance_id))
    if obj.spec.customer_managed_key_id:
        found.append(AuraObject("key", obj.spec.customer_managed_key_id))
    return found


def protection(obj: AuraInstance, settings: Settings) -> tuple[bool | None, DeletionPolicy]:
    return (
        obj.spec.deletion_protection,
        obj.spec.deletion_policy or settings.default_deletion_policy,
    )


async def decide(p: Pass[AuraInstance]) -> Outcome:
    return await reconcile(p)


async def finalize_instance(p: Pass[AuraInstance]) -> Finalization:
    return await finalize(p)


async def force_finalize(p: Pass[AuraInstance]) -> str:
    """The finalizer is released without deleting: the Secret is kept (owner reference off)."""
    await p.ctx.secrets.release(p.obj)
    return f"the Aura instance {p.obj.instance_id or '(none)'}"


async def startup_delay(
    ctx: OperatorContext, body: Mapping[str, Any], state: ObjectState, stopped: kopf.DaemonStopped
) -> bool:
    """After a (re)start, a settled instance whose spec has not changed is re-examined at
    drift pace, on its credential's drift line, while the list sweep confirms at once that it
    still exists and keeps its name (and wakes it if not). True if a change woke the object
    meanwhile. An object whose spec changed while the operator was away goes at once."""
    obj = AuraInstance.from_body(body)
    if (
        not obj.instance_id
        or obj.status.state not in SETTLED_STATUSES
        or obj.skip
        or obj.status.observed_generation != obj.ref.generation
    ):
        return False
    try:
        client_id, secret = await ctx.credentials.resolve(obj)
    except (CredentialsProblem, KubeError):
        return False
    state.credential = client_id
    client = ctx.credentials.client(client_id, secret)
    ctx.sweeps.track(obj.ref.uid, client, obj.instance_id, wanted_name(obj), obj.status.state)
    delay = ctx.drift.next_startup_read(
        client_id, obj.ref.uid, ctx.rate(client_id), time.monotonic()
    )
    return await wait(state.wake, stopped, delay) if delay > 0 else False


def owner_of_deleted_secret(
    ctx: OperatorContext, body: Mapping[str, Any], event_type: str | None
) -> Iterable[str]:
    """A connection Secret was deleted: its owner is woken so that it is restored at once."""
    if event_type != "DELETED":
        return []
    owners = (body.get("metadata") or {}).get("ownerReferences") or []
    return [
        ref.get("uid", "")
        for ref in owners
        if ref.get("kind") == KIND and ref.get("apiVersion", "").startswith(f"{GROUP}/")
    ]


INSTANCE: Kind[AuraInstance] = Kind(
    name=KIND,
    plural=PLURAL,
    short="instance",
    parse=AuraInstance.from_body,
    decide=decide,
    finalize=finalize_instance,
    force_finalize=force_finalize,
    uses_credential=True,
    plan=plan,
    observe=observe,
    startup=startup_delay,
    manages=manages,
    released=released,
    refers=refers,
    protection=protection,
    watches=(
        Watch(
            "nudge_owner_of_deleted_secret",
            "",
            "v1",
            "secrets",
            owner_of_deleted_secret,
            labels={MANAGED_BY: OPERATOR},
        ),
    ),
)
