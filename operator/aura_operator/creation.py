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

from datetime import UTC, datetime, timedelta
from typing import Any

from aura_operator.aura import (
    AuraBadRequest,
    AuraConflict,
    AuraError,
    AuraNotFound,
    AuraNotPermitted,
    AuraOutcomeUnknown,
    AuraRateLimited,
    InstanceSummary,
)
from aura_operator.classify import classify
from aura_operator.clone import Wait, clone_source
from aura_operator.customer_keys import KeyWait, key_for_create
from aura_operator.kube import KubeConflict
from aura_operator.outcome import Outcome, Recorder, from_verdict, synced_false, synced_ok
from aura_operator.passes import Pass
from aura_operator.resource import CreationIntent
from aura_operator.secrets import ConnectionInfo
from aura_operator.settings import Settings
from aura_operator.status import (
    READY,
    SECRET_READY,
    ConditionUpdate,
    ReadyReason,
    SecretReason,
    SyncedReason,
    now_iso,
)
from aura_operator.validation import SpecProblem, check_configuration

#: Clock difference tolerated between this process and Aura when matching `created_at`.
CLOCK_SKEW = timedelta(minutes=2)


def invalid_spec(problem: SpecProblem, events: Recorder) -> Outcome:
    events.event("Warning", SyncedReason.INVALID_SPEC, problem.message)
    return Outcome(conditions=[synced_false(SyncedReason.INVALID_SPEC, problem.message)])


def unanswered(
    what: str,
    kind: str,
    exc: AuraOutcomeUnknown,
    intent: dict[str, Any],
    events: Recorder,
    settings: Settings,
    *,
    pending: bool,
) -> Outcome:
    """A create (of an instance, a key) got no answer: keep the intent, stamp when the outcome
    became unknown (the visibility window runs from then), and look before creating again."""
    message = (
        f"the create request for {what} got no answer ({exc.message}); the operator looks for "
        f"the {kind} by name before it creates anything again"
    )
    events.event("Warning", "CreateOutcomeUnknown", message)
    conditions = [synced_false(SyncedReason.ERROR, message)]
    if pending:
        conditions.append(_pending(message))
    return Outcome(
        conditions=conditions,
        status={"creation": {**intent, "unansweredAt": now_iso(datetime.now(UTC))}},
        requeue_after=settings.poll_interval,
        next_attempt=True,
    )


def refused(exc: AuraError, events: Recorder) -> Outcome:
    """Aura refused a create (400, 405, 429): definitely nothing was created, so the intent is
    forgotten and the next attempt starts clean."""
    outcome = from_verdict(classify(exc), events)
    outcome.status["creation"] = None
    return outcome


def _pending(message: str) -> ConditionUpdate:
    return ConditionUpdate(READY, "False", ReadyReason.PENDING, message)


async def resolve_tenant(p: Pass) -> str | SpecProblem:
    """spec.tenantId, the AuraCredential's defaultTenantId, or the only tenant it sees."""
    if p.obj.spec.tenant_id:
        return p.obj.spec.tenant_id
    default = await p.ctx.credentials.default_tenant_id(p.obj)
    if default:
        return default
    tenants = await p.ctx.tenants.tenant_list(p.aura)
    if len(tenants) == 1:
        return tenants[0].id
    ids = ", ".join(f"{t.id} ({t.name})" for t in tenants) or "none"
    return SpecProblem(
        "spec.tenantId",
        f"spec.tenantId is required: the credential sees {len(tenants)} tenants; allowed: {ids}",
    )


def find_matches(
    summaries: list[InstanceSummary], name: str, requested_at: datetime, discarded: list[str]
) -> list[InstanceSummary]:
    """Instances that the recorded intent may have created."""
    earliest = requested_at - CLOCK_SKEW
    return [
        s
        for s in summaries
        if s.name == name
        and s.id not in discarded
        and (s.created_at is None or s.created_at >= earliest)
    ]


def visibility_deadline(intent: CreationIntent, settings: Settings) -> datetime:
    """Until when an instance created by `intent` may still appear in Aura's list.

    The window runs from the moment the outcome became unknown (the POST timed out or failed),
    or, if the process died during the POST, from the latest moment the POST could have
    reached Aura (intent + HTTP timeout).
    """
    start = intent.unanswered_at or (intent.requested_at + timedelta(seconds=settings.http_timeout))
    return start.astimezone(UTC) + timedelta(seconds=settings.create_visibility_window)


async def create_or_recover(p: Pass) -> Outcome:
    obj, events, now = p.obj, p.events, p.now
    intent = obj.status.creation
    if intent is None:
        return await create(p, discarded=[])
    requested = intent.requested_at.astimezone(UTC)
    matches = find_matches(
        await p.aura.list_instances(), intent.name, requested, intent.discarded_ids
    )
    if len(matches) > 1:
        ids = ", ".join(m.id for m in matches)
        message = (
            f"found {len(matches)} Aura instances named {intent.name!r} created since the "
            f"request of {now_iso(requested)}: {ids}. The operator will not guess: set "
            "spec.instanceId to the one to keep and delete the others in the Aura console."
        )
        events.event("Warning", SyncedReason.CREATE_AMBIGUOUS, message)
        return Outcome(conditions=[synced_false(SyncedReason.CREATE_AMBIGUOUS, message)])
    if not matches:
        left = (visibility_deadline(intent, p.settings) - now).total_seconds()
        if left > 0:
            message = (
                f"the create request for {intent.name!r} has an unknown outcome; looking for the "
                f"instance for {left:.0f}s more before creating it again"
            )
            return Outcome(
                conditions=[synced_false(SyncedReason.ERROR, message), _pending(message)],
                requeue_after=max(1.0, min(left, p.settings.poll_interval)),
                next_attempt=True,
            )
        events.event(
            "Normal",
            "CreateNotFound",
            f"no instance named {intent.name!r} appeared after the unanswered create request; "
            "creating it now",
        )
        return await create(p, discarded=intent.discarded_ids)
    found = matches[0]
    password = p.state.pending_password(found.id)
    if password is None:
        password = await p.ctx.secrets.existing_password(obj, found.id)
    if password is not None:
        events.event(
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
        await p.aura.delete_instance(found.id)
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
    events.event(
        "Warning",
        "OrphanDeleted",
        f"deleted instance {found.id}: it was created by a request whose response was lost and "
        "its password cannot be recovered; creating a fresh instance",
    )
    return await create(p, discarded=[*intent.discarded_ids, found.id])


async def create(p: Pass, *, discarded: list[str]) -> Outcome:
    """Validate, record intent, POST once, write the Secret from the response."""
    obj, ctx, events, now = p.obj, p.ctx, p.events, p.now
    spec = obj.spec
    tenant_id = await resolve_tenant(p)
    if isinstance(tenant_id, SpecProblem):
        return invalid_spec(tenant_id, events)
    try:
        tenant = await ctx.tenants.tenant(p.aura, tenant_id)
    except AuraNotFound:
        known = ", ".join(t.id for t in await ctx.tenants.tenant_list(p.aura)) or "none"
        return invalid_spec(
            SpecProblem(
                "spec.tenantId",
                f"spec.tenantId: tenant {tenant_id} does not exist or is not visible to this "
                f"credential; allowed: {known}",
            ),
            events,
        )
    problem = check_configuration(spec, tenant.instance_configurations, tenant_id)
    if problem is not None:
        return invalid_spec(problem, events)
    source = await clone_source(p)
    if isinstance(source, SpecProblem):
        return invalid_spec(source, events)
    if isinstance(source, Wait):
        return Outcome(
            conditions=[synced_ok(source.message), _pending(source.message)],
            requeue_after=p.settings.poll_interval,
        )
    key_id = await key_for_create(p, tenant_id)
    if isinstance(key_id, SpecProblem):
        return invalid_spec(key_id, events)
    if isinstance(key_id, KeyWait):
        return Outcome(
            conditions=[synced_ok(key_id.message), _pending(key_id.message)],
            requeue_after=p.settings.poll_interval,
        )
    if await ctx.secrets.conflict(obj, None):
        message = (
            f"Secret {obj.connection_secret_name} exists and is not owned by this AuraInstance; "
            "no instance is created until the operator can write its password there"
        )
        events.event("Warning", SecretReason.CONFLICT, message)
        return Outcome(
            conditions=[
                synced_false(SyncedReason.ERROR, message),
                ConditionUpdate(SECRET_READY, "False", SecretReason.CONFLICT, message),
            ],
            failed=True,
            next_attempt=True,
        )

    name = obj.aura_name
    requested_at = now.astimezone(UTC).replace(microsecond=0)
    intent: dict[str, Any] = {
        "name": name,
        "requestedAt": now_iso(requested_at),
        "unansweredAt": None,
    }
    if discarded:
        intent["discardedIds"] = discarded
    # The intent must be on the object before the POST: if this write fails, nothing is sent.
    # It is conditional on the version this pass read: of two processes that read the same
    # object (two replicas that both believe they lead), only one records it and POSTs.
    try:
        await ctx.kube.patch_status(
            obj.ref.namespace,
            obj.ref.name,
            {"creation": intent},
            resource_version=obj.ref.resource_version,
        )
    except KubeConflict:
        # Another writer (maybe another replica that recorded its own intent) was first.
        return Outcome(requeue_after=0.0, stale=True)
    if not ctx.leadership.is_leading:
        # Lost the lease since the pass started: the intent is recorded, the next leader
        # resolves it (by name and time) without a second POST.
        return Outcome(requeue_after=0.0)

    fields: dict[str, Any] = {
        "storage": spec.storage,
        "vector_optimized": spec.vector_optimized,
        "graph_analytics_plugin": spec.graph_analytics_plugin,
        "customer_managed_key_id": key_id,
    }
    if source.instance_id is not None:
        fields["source_instance_id"] = source.instance_id
        fields["source_snapshot_id"] = source.snapshot_id
    try:
        created = await p.aura.create_instance(
            name=name,
            version=spec.version,
            region=spec.region or "",
            memory=spec.memory or "",
            type=spec.type or "",
            tenant_id=tenant_id,
            cloud_provider=spec.cloud_provider or "",
            **fields,
        )
    except AuraOutcomeUnknown as exc:
        return unanswered(f"{name!r}", "instance", exc, intent, events, p.settings, pending=True)
    except (AuraBadRequest, AuraNotPermitted, AuraRateLimited) as exc:
        return refused(exc, events)

    info = ConnectionInfo(
        created.id, created.name or name, created.connection_url or "", created.username or "neo4j"
    )
    state = p.state
    state.remember_password(created.id, created.password)
    # The password exists only in this response: the Secret is written before anything else.
    secret = await ctx.secrets.ensure(obj, info, created.password)
    if secret.password_known:
        state.forget_password()
    if secret.event:
        events.event(*secret.event)
    replacing = f" (replacing {', '.join(discarded)})" if discarded else ""
    events.event(
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
        },
        conditions=[
            ConditionUpdate(READY, "False", ReadyReason.CREATING, "Aura is creating the instance"),
            synced_ok(f"create request accepted for instance {created.id}"),
            secret.condition,
        ],
        transient="creating",
        initiated=True,
    )
