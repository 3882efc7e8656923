"""Create exactly once: record intent, POST once, and recover without a second blind POST.

`POST /v1/instances` has no idempotency key, names are not unique and every instance costs
money. So before the POST the intent (`status.creation`: the Aura name and the time) is written
to the object; a later pass that finds intent but no instance id looks for an instance of that
name created after that time before it ever POSTs again:

- none, after the visibility window: nothing was created; create (with a new intent);
- one, whose password is in the connection Secret or its backup: that is ours; adopt it;
- one without a known password: brand new and empty, but unusable — delete it (once it has
  finished creating) and create a fresh one whose password we do receive;
- several: stop with `CreateAmbiguous` and let a human choose; never guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aura_operator.aura import (
    AuraBadRequest,
    AuraConflict,
    AuraNotFound,
    AuraNotPermitted,
    AuraOutcomeUnknown,
    AuraRateLimited,
    CreatedInstance,
    InstanceSummary,
)
from aura_operator.kinds.instance.clone import CloneSource as Source
from aura_operator.kinds.instance.clone import Wait, clone_source
from aura_operator.kinds.instance.connection_secret import ConnectionInfo
from aura_operator.kinds.instance.customer_key_ref import KeyWait, key_for_create
from aura_operator.kinds.instance.instance_pass import InstancePass
from aura_operator.kinds.instance.model import PLURAL
from aura_operator.kinds.instance.validation import check_configuration
from aura_operator.runtime import intents, tenants
from aura_operator.runtime.conditions import (
    READY,
    SECRET_READY,
    ConditionUpdate,
    ReadyReason,
    SecretReason,
    SyncedReason,
    now_iso,
)
from aura_operator.runtime.model import Intent, SpecProblem
from aura_operator.runtime.outcome import Outcome, Recorder, synced_false, synced_ok


def invalid_spec(problem: SpecProblem, events: Recorder) -> Outcome:
    events.event("Warning", SyncedReason.INVALID_SPEC, problem.message)
    return Outcome(conditions=[synced_false(SyncedReason.INVALID_SPEC, problem.message)])


def _pending(message: str) -> ConditionUpdate:
    return ConditionUpdate(READY, "False", ReadyReason.PENDING, message)


async def resolve_tenant(p: InstancePass) -> str | SpecProblem:
    """spec.tenantId, the AuraCredential's defaultTenantId, or the only tenant it sees."""
    return await tenants.resolve_tenant(p.ctx, p.client, p.obj, p.obj.spec.tenant_id)


def find_matches(summaries: list[InstanceSummary], intent: Intent) -> list[InstanceSummary]:
    """Instances that the recorded intent may have created."""
    earliest = intents.since_request(intent)
    return [
        s
        for s in summaries
        if s.name == intent.name
        and s.id not in intent.discarded_ids
        and (s.created_at is None or s.created_at >= earliest)
    ]


async def create_or_recover(p: InstancePass) -> Outcome:
    """No instance id yet: create, or resolve an open create first (recovery by looking)."""
    intent = p.obj.status.creation
    if intent is None:
        return await create(p, discarded=[])
    matches = find_matches(await p.client.list_instances(), intent)
    found = intents.recover(matches, intent, p.settings, p.now)
    requested = now_iso(intent.requested_at)
    match found:
        case intents.Ambiguous(candidates):
            ids = ", ".join(m.id for m in candidates)
            return intents.ambiguous(
                f"found {len(candidates)} Aura instances named {intent.name!r} created since the "
                f"request of {requested}: {ids}. The operator will not guess: set "
                "spec.instanceId to the one to keep and delete the others in the Aura console.",
                p.events,
            )
        case intents.Looking(left):
            message = (
                f"the create request for {intent.name!r} has an unknown outcome; looking for the "
                f"instance for {left:.0f}s more before creating it again"
            )
            return intents.still_looking(message, left, p.settings, _pending(message))
        case intents.NeverArrived():
            p.events.event(
                "Normal",
                "CreateNotFound",
                f"no instance named {intent.name!r} appeared after the unanswered create "
                "request; creating it now",
            )
            return await create(p, discarded=intent.discarded_ids)
        case intents.Found(instance):
            return await _adopt_or_replace(p, intent, instance)
    raise AssertionError(found)  # pragma: no cover


async def _adopt_or_replace(p: InstancePass, intent: Intent, found: InstanceSummary) -> Outcome:
    """The one instance an open create made: kept if its password is known, else deleted (once
    it has finished creating) and created afresh."""
    password = p.state.pending_password(found.id)
    if password is None:
        password = await p.ctx.secrets.existing_password(p.obj, found.id)
    if password is not None:
        p.events.event(
            "Normal",
            "Recovered",
            f"found instance {found.id} created by an earlier attempt; its password is known, "
            "so it is kept",
        )
        return Outcome(
            status={"instanceId": found.id, "tenantId": found.tenant_id, "state": None},
            requeue_after=0.0,
        )
    try:
        await p.client.delete_instance(found.id)
    except AuraNotFound:
        pass
    except AuraConflict:
        message = (
            f"instance {found.id} was created by a request whose response was lost; its "
            "password cannot be recovered. Waiting for it to finish creating so that it can be "
            "deleted and replaced."
        )
        return Outcome(
            conditions=[synced_false(SyncedReason.ERROR, message), _pending(message)],
            requeue_after=p.settings.poll_interval,
        )
    p.events.event(
        "Warning",
        "OrphanDeleted",
        f"deleted instance {found.id}: it was created by a request whose response was lost and "
        "its password cannot be recovered; creating a fresh instance",
    )
    return await create(p, discarded=[*intent.discarded_ids, found.id])


async def _check_before_create(p: InstancePass) -> _Ready | Outcome:
    """Everything checked before a create is recorded: the tenant, the configuration, the
    clone source, the customer key and the Secret's name. An Outcome: nothing is sent."""
    tenant_id = await resolve_tenant(p)
    if isinstance(tenant_id, SpecProblem):
        return invalid_spec(tenant_id, p.events)
    try:
        tenant = await p.ctx.tenants.tenant(p.client, tenant_id)
    except AuraNotFound:
        known = ", ".join(t.id for t in await p.ctx.tenants.tenant_list(p.client)) or "none"
        return invalid_spec(
            SpecProblem(
                "spec.tenantId",
                f"spec.tenantId: tenant {tenant_id} does not exist or is not visible to this "
                f"credential; allowed: {known}",
            ),
            p.events,
        )
    problem = check_configuration(p.obj.spec, tenant.instance_configurations, tenant_id)
    if problem is not None:
        return invalid_spec(problem, p.events)
    source = await clone_source(p)
    if isinstance(source, SpecProblem):
        return invalid_spec(source, p.events)
    if isinstance(source, Wait):
        return _waiting(p, source.message)
    key_id = await key_for_create(p, tenant_id)
    if isinstance(key_id, SpecProblem):
        return invalid_spec(key_id, p.events)
    if isinstance(key_id, KeyWait):
        return _waiting(p, key_id.message)
    if await p.ctx.secrets.conflict(p.obj, None):
        return _secret_conflict(p)
    return _Ready(tenant_id, source, key_id)


@dataclass(frozen=True)
class _Ready:
    """What a create sends, once every check passed."""

    tenant_id: str
    source: Source
    key_id: str | None


def _waiting(p: InstancePass, message: str) -> Outcome:
    return Outcome(
        conditions=[synced_ok(message), _pending(message)],
        requeue_after=p.settings.poll_interval,
    )


def _secret_conflict(p: InstancePass) -> Outcome:
    message = (
        f"Secret {p.obj.connection_secret_name} exists and is not owned by this AuraInstance; "
        "no instance is created until the operator can write its password there"
    )
    p.events.event("Warning", SecretReason.CONFLICT, message)
    return Outcome(
        conditions=[
            synced_false(SyncedReason.ERROR, message),
            ConditionUpdate(SECRET_READY, "False", SecretReason.CONFLICT, message),
        ],
        failed=True,
        next_attempt=True,
    )


async def create(p: InstancePass, *, discarded: list[str]) -> Outcome:
    """Validate, record intent, POST once, write the Secret from the response."""
    ready = await _check_before_create(p)
    if isinstance(ready, Outcome):
        return ready
    name = p.obj.aura_name
    record = intents.new_record(p.now, name=name, discarded=discarded)
    # The intent must be on the object before the POST: if this write fails, nothing is sent.
    fence = await intents.record(p.ctx, PLURAL, p.obj.ref, {"creation": record})
    if fence is not intents.Fence.WRITTEN:
        return intents.fenced(fence)
    try:
        created = await _post(p, name, ready)
    except AuraOutcomeUnknown as exc:
        message = (
            f"the create request for {name!r} got no answer ({exc.message}); the operator looks "
            "for the instance by name before it creates anything again"
        )
        return intents.unanswered(
            "creation",
            record,
            message,
            p.events,
            p.settings,
            conditions=[synced_false(SyncedReason.ERROR, message), _pending(message)],
        )
    except (AuraBadRequest, AuraNotPermitted, AuraRateLimited) as exc:
        return intents.refused("creation", exc, p.events)
    return await _created(p, created, discarded)


async def _post(p: InstancePass, name: str, ready: _Ready) -> CreatedInstance:
    """`POST /v1/instances`, once (the intent is recorded)."""
    spec = p.obj.spec
    fields: dict[str, Any] = {
        "storage": spec.storage,
        "vector_optimized": spec.vector_optimized,
        "graph_analytics_plugin": spec.graph_analytics_plugin,
        "customer_managed_key_id": ready.key_id,
    }
    if ready.source.instance_id is not None:
        fields["source_instance_id"] = ready.source.instance_id
        fields["source_snapshot_id"] = ready.source.snapshot_id
    return await p.client.create_instance(
        name=name,
        version=spec.version,
        region=spec.region or "",
        memory=spec.memory or "",
        type=spec.type or "",
        tenant_id=ready.tenant_id,
        cloud_provider=spec.cloud_provider or "",
        **fields,
    )


async def _created(p: InstancePass, created: CreatedInstance, discarded: list[str]) -> Outcome:
    """Aura accepted the create: the password, which exists only in this response, goes into
    the Secret before anything else."""
    obj, spec = p.obj, p.obj.spec
    info = ConnectionInfo(
        created.id,
        created.name or obj.aura_name,
        created.connection_url or "",
        created.username or "neo4j",
        tenant_id=created.tenant_id,
        cloud_provider=created.cloud_provider,
        region=created.region,
    )
    state = p.state
    state.remember_password(created.id, created.password)
    secret = await p.ctx.secrets.ensure(obj, info, created.password)
    if secret.password_known:
        state.forget_password()
    for event in secret.all_events():
        p.events.event(*event)
    replacing = f" (replacing {', '.join(discarded)})" if discarded else ""
    p.events.event(
        "Normal",
        "Created",
        f"Aura accepted instance {created.id} ({spec.type}, {spec.memory}, "
        f"{spec.cloud_provider}/{spec.region}){replacing}; waiting for it to run",
    )
    return Outcome(
        status={
            "instanceId": created.id,
            "tenantId": created.tenant_id,
            "connectionUrl": created.connection_url,
            "type": created.type,
            "memory": spec.memory,
            "state": "creating",
            "connectionSecretName": obj.connection_secret_name,
            **secret.status,
        },
        conditions=[
            ConditionUpdate(READY, "False", ReadyReason.CREATING, "Aura is creating the instance"),
            synced_ok(f"create request accepted for instance {created.id}"),
            secret.condition,
        ],
        transient="creating",
        initiated=True,
    )
