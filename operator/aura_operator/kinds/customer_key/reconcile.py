"""AuraCustomerManagedKey passes: create once, wait for `ready`, delete only under Delete.

- Create exactly once, as for instances: the intent (name, time) is written on the object with a
  write conditional on its resourceVersion before the POST; a pass that finds intent but no key
  id looks for the key (by name, then by its `created` time) before it ever POSTs again; two
  candidates stop with `CreateAmbiguous`.
- A key that cannot exist (an instance type, cloud or region the tenant does not offer) is
  refused before any POST with InvalidSpec naming the field.
- Deletion: `Delete` sends DELETE; while Aura answers `encryption-key-is-active` the finalizer is
  kept with a message saying so. `Retain` (and adopted keys) leave the key in Aura.
"""

from __future__ import annotations

from typing import TypeAlias

from aura_operator.aura import (
    AuraBadRequest,
    AuraNotFound,
    AuraNotPermitted,
    AuraOutcomeUnknown,
    AuraRateLimited,
    CustomerManagedKey,
)
from aura_operator.kinds.customer_key.model import PLURAL, AuraCustomerManagedKey
from aura_operator.runtime import intents, tenants
from aura_operator.runtime.conditions import READY, ConditionUpdate, SyncedReason, now_iso
from aura_operator.runtime.controller import Finalization, Pass
from aura_operator.runtime.model import Intent, SpecProblem
from aura_operator.runtime.outcome import Outcome, synced_false, synced_ok

KEY_ACTIVE = "encryption-key-is-active"


#: The controller's one `Pass` type, of an AuraCustomerManagedKey.
KeyPass: TypeAlias = Pass[AuraCustomerManagedKey]


def _invalid(p: KeyPass, problem: SpecProblem) -> Outcome:
    p.events.event("Warning", SyncedReason.INVALID_SPEC, problem.message)
    return Outcome(
        conditions=[
            ConditionUpdate(READY, "False", "Pending", "no key in Aura yet"),
            synced_false(SyncedReason.INVALID_SPEC, problem.message),
        ]
    )


def _ready(state: str | None) -> ConditionUpdate:
    if state == "ready":
        return ConditionUpdate(READY, "True", "Available", "Aura reports the key as ready")
    return ConditionUpdate(
        READY, "False", "Pending", f"Aura reports the key as {state or 'not created yet'}"
    )


async def reconcile_key(p: KeyPass) -> Outcome:
    """One pass (the controller's guard turns an error into an outcome)."""
    p = p.with_client(await p.ctx.credentials.client_for(p.obj))
    if not p.obj.aura_id:
        return await _create_or_recover(p)
    return await _observe(p)


async def _observe(p: KeyPass) -> Outcome:
    key_id = p.obj.aura_id or ""
    try:
        key = await p.client.get_customer_managed_key(key_id)
    except AuraNotFound:
        if p.obj.spec.customer_managed_key_id:
            return _invalid(
                p,
                SpecProblem(
                    "spec.customerManagedKeyId",
                    f"spec.customerManagedKeyId: key {key_id} does not exist in Aura or is not "
                    "visible to this credential",
                ),
            )
        p.events.event(
            "Warning", "KeyGone", f"key {key_id} was deleted outside Kubernetes; creating it again"
        )
        return Outcome(
            conditions=[_ready(None), synced_ok("the key is gone; it will be created again")],
            status={"customerManagedKeyId": None, "state": None, "creation": None},
            requeue_after=0.0,
        )
    status = {"customerManagedKeyId": key.id, "state": key.status, "tenantId": key.tenant_id}
    spec = p.obj.spec
    for field, wanted, actual in (
        ("keyId", spec.key_id, key.key_id),
        ("cloudProvider", spec.cloud_provider, key.cloud_provider),
        ("region", spec.region, key.region),
        ("instanceType", spec.instance_type, key.instance_type),
    ):
        if wanted and actual and wanted != actual and not spec.customer_managed_key_id:
            outcome = _invalid(
                p,
                SpecProblem(
                    f"spec.{field}",
                    f'spec.{field} is "{wanted}" but key {key.id} has "{actual}"; it is fixed at '
                    f"creation (allowed: {actual})",
                ),
            )
            outcome.status = status
            outcome.conditions[0] = _ready(key.status)
            return outcome
    if key.is_ready:
        return Outcome(
            conditions=[_ready(key.status), synced_ok("the key is ready")],
            status=status,
            spec_applied=True,
            requeue_after=p.ctx.settings.drift_interval,
        )
    return Outcome(
        conditions=[_ready(key.status), synced_ok(f"waiting for Aura: the key is {key.status}")],
        status=status,
        requeue_after=p.ctx.settings.poll_interval,
    )


async def _check_offered(p: KeyPass, tenant_id: str) -> SpecProblem | None:
    """A key is usable only where the tenant offers its instance type (tier) and region."""
    spec = p.obj.spec
    tenant = await p.ctx.tenants.tenant(p.client, tenant_id)
    of_type = [c for c in tenant.instance_configurations if c.type == spec.instance_type]
    if not of_type:
        offered = sorted(
            {c.type for c in tenant.instance_configurations} & {"enterprise-db", "enterprise-ds"}
        )
        return SpecProblem(
            "spec.instanceType",
            f'spec.instanceType "{spec.instance_type}" is not offered by tenant {tenant_id}, so no '
            f"key can be used for it; allowed: {', '.join(offered) or '(none)'}",
        )
    regions = {c.region for c in of_type if c.cloud_provider == spec.cloud_provider}
    if spec.region not in regions:
        return SpecProblem(
            "spec.region",
            f'spec.region "{spec.region}" is not offered for {spec.instance_type} on '
            f"{spec.cloud_provider} by tenant {tenant_id}; allowed: "
            f"{', '.join(sorted(regions)) or '(none)'}",
        )
    return None


async def _find(p: KeyPass, intent: Intent, tenant_id: str | None) -> list[CustomerManagedKey]:
    """Keys the recorded intent may have created: same name, created since the request."""
    earliest = intents.since_request(intent)
    found = []
    for summary in await p.client.list_customer_managed_keys(tenant_id):
        if summary.name != intent.name:
            continue
        try:
            key = await p.client.get_customer_managed_key(summary.id)
        except AuraNotFound:
            continue
        if key.created is None or key.created >= earliest:
            found.append(key)
    return found


async def _create_or_recover(p: KeyPass) -> Outcome:
    """No key id yet: create, or resolve an open create first (recovery by looking)."""
    intent = p.obj.status.creation
    if intent is None:
        return await _create(p)
    matches = await _find(p, intent, p.obj.spec.tenant_id)
    found = intents.recover(matches, intent, p.ctx.settings, p.now)
    match found:
        case intents.Ambiguous(candidates):
            ids = ", ".join(k.id for k in candidates)
            return intents.ambiguous(
                f"found {len(candidates)} keys named {intent.name!r} created since the request "
                f"of {now_iso(intent.requested_at)}: {ids}. The operator will not guess: set "
                "spec.customerManagedKeyId to the one to keep and delete the others.",
                p.events,
            )
        case intents.Found(key):
            p.events.event(
                "Normal", "Recovered", f"found key {key.id} created by an earlier attempt"
            )
            return Outcome(
                status={"customerManagedKeyId": key.id, "state": key.status},
                requeue_after=0.0,
            )
        case intents.Looking(left):
            message = (
                f"the create request for key {intent.name!r} has an unknown outcome; looking for "
                f"it for {left:.0f}s more before creating it again"
            )
            return intents.still_looking(message, left, p.ctx.settings)
        case intents.NeverArrived():
            p.events.event(
                "Normal", "CreateNotFound", f"no key named {intent.name!r} appeared; creating it"
            )
            return await _create(p)
    raise AssertionError(found)  # pragma: no cover


async def _create(p: KeyPass) -> Outcome:
    """Check the tenant offers the key, record intent, POST once."""
    obj, ctx, events = p.obj, p.ctx, p.events
    spec = obj.spec
    tenant_id = await tenants.resolve_tenant(p.ctx, p.client, p.obj, p.obj.spec.tenant_id)
    if isinstance(tenant_id, SpecProblem):
        return _invalid(p, tenant_id)
    problem = await _check_offered(p, tenant_id)
    if problem is not None:
        return _invalid(p, problem)
    name = obj.aura_name
    record = intents.new_record(p.now, name=name)
    # The intent is on the object before the POST, conditional on the version this pass read.
    fence = await intents.record(ctx, PLURAL, obj.ref, {"creation": record, "tenantId": tenant_id})
    if fence is not intents.Fence.WRITTEN:
        return intents.fenced(fence)
    try:
        created = await p.client.create_customer_managed_key(
            name=name,
            key_id=spec.key_id,
            instance_type=spec.instance_type,
            region=spec.region,
            tenant_id=tenant_id,
            cloud_provider=spec.cloud_provider,
        )
    except AuraOutcomeUnknown as exc:
        message = (
            f"the create request for key {name!r} got no answer ({exc.message}); the operator "
            "looks for the key by name before it creates anything again"
        )
        return intents.unanswered("creation", record, message, events, ctx.settings)
    except (AuraBadRequest, AuraNotPermitted, AuraRateLimited) as exc:
        return intents.refused("creation", exc, events)
    events.event(
        "Normal",
        "Created",
        f"Aura accepted key {created.id} ({spec.instance_type}, {spec.cloud_provider}/"
        f"{spec.region}); waiting for it to be ready",
    )
    return Outcome(
        status={"customerManagedKeyId": created.id, "state": created.status or "pending"},
        conditions=[_ready(created.status), synced_ok(f"create accepted for key {created.id}")],
        requeue_after=ctx.settings.poll_interval,
    )


# ------------------------------------------------------------------ deletion


async def finalize_key(p: KeyPass) -> Finalization:
    """One attempt; raises on trouble (the controller retries through classify.py)."""
    obj, ctx, events = p.obj, p.ctx, p.events
    policy = obj.spec.deletion_policy or ctx.settings.default_deletion_policy
    if policy == "Retain" or obj.spec.customer_managed_key_id:
        events.event(
            "Normal", "Retained", f"kept key {obj.aura_id or '(none)'} in Aura (deletionPolicy)"
        )
        return Finalization(None)
    aura = await ctx.credentials.client_for(obj)
    key_id = obj.aura_id
    if key_id is None and obj.status.creation is not None:
        p = p.with_client(aura)
        matches = await _find(p, obj.status.creation, obj.status.tenant_id)
        if len(matches) > 1:
            return Finalization(
                ctx.settings.error_backoff_max,
                f"several keys may belong to this object ({', '.join(k.id for k in matches)}); "
                'delete them in Aura and set aura-operator.dev/force-finalize: "true"',
            )
        key_id = matches[0].id if matches else None
    if key_id is None:
        return Finalization(None)
    try:
        await aura.delete_customer_managed_key(key_id)
    except AuraNotFound:
        pass
    except AuraBadRequest as exc:
        if exc.reason != KEY_ACTIVE:
            raise
        message = (
            f"Aura keeps key {key_id}: it encrypts an instance that still exists "
            f"({KEY_ACTIVE}); delete the instances it encrypts first, the key is deleted then"
        )
        events.event("Warning", "KeyInUse", message)
        return Finalization(ctx.settings.error_backoff_max, message)
    events.event("Normal", "Deleted", f"deleted key {key_id} in Aura")
    return Finalization(None)
