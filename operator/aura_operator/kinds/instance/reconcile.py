"""One reconcile pass: observe the Aura instance, compare it with the spec, act once.

Level-triggered: each pass starts from what the object and Aura say now, does at most one
change (a PATCH, a pause, a resume, a create), and returns an `Outcome` saying when to look
again. Transient states are polled at `poll_interval`; settled instances are re-read for drift
at `drift_interval` with jitter. Errors become conditions with the time of the next attempt.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from pydantic.alias_generators import to_camel

from aura_operator.aura import (
    AuraConflict,
    AuraNotFound,
    Instance,
    Priority,
)
from aura_operator.kinds.instance import scrape_config
from aura_operator.kinds.instance.connection_secret import info_of
from aura_operator.kinds.instance.create import create_or_recover, invalid_spec
from aura_operator.kinds.instance.instance_pass import InstancePass
from aura_operator.kinds.instance.model import AuraInstance, wanted_name
from aura_operator.kinds.instance.pause_schedule import Wanted, schedule_of, wanted, why
from aura_operator.kinds.instance.pause_schedule import status as uptime_status
from aura_operator.kinds.instance.pause_schedule import wake_within as uptime_wake
from aura_operator.kinds.instance.upgrade import finished as upgrade_finished
from aura_operator.kinds.instance.upgrade import upgrade, wants_upgrade
from aura_operator.kinds.instance.validation import (
    check_fixed_fields,
    check_required,
    check_resize,
    check_template,
    check_tier_rules,
)
from aura_operator.runtime.conditions import (
    READY,
    ConditionUpdate,
    ReadyReason,
    SyncedReason,
    ready_for_state,
)
from aura_operator.runtime.model import SpecProblem
from aura_operator.runtime.outcome import Outcome, synced_false, synced_ok

logger = logging.getLogger(__name__)


async def reconcile(p: InstancePass) -> Outcome:
    """Run one pass and return what to write and when to come back (the controller skips
    objects annotated `reconcile: skip` and turns an error into an outcome)."""
    obj, ctx, events = p.obj, p.ctx, p.events
    schedule = schedule_of(obj)
    problem = check_required(obj.spec) or check_tier_rules(obj.spec) or check_template(obj.spec)
    if problem is None and isinstance(schedule, SpecProblem):
        problem = schedule
    if problem is None and obj.observe_only and not obj.instance_id:
        problem = SpecProblem(
            "spec.instanceId",
            "spec.managementPolicy ObserveOnly needs spec.instanceId (the instance to observe)",
        )
    if problem is not None:
        return invalid_spec(problem, events)
    aura = await ctx.credentials.client_for(obj)
    ctx.objects.get(obj.ref.uid).credential = aura.client_id
    p = p.with_client(aura)
    outcome = await create_or_recover(p) if not obj.instance_id else await observe(p)
    return _with_uptime(p, outcome)


def _with_uptime(p: InstancePass, outcome: Outcome) -> Outcome:
    """status.uptime (the schedule's next transition), and a pass no later than it. A due
    transition that had to wait for Aura (the instance busy) stays recorded as due, so that
    the pass that carries it out still knows it for the schedule's own, not drift."""
    waiting = outcome.transient is not None and not outcome.initiated
    if not (waiting and wanted(p.obj, p.now).due):
        outcome.status = {**uptime_status(p.obj, p.now), **outcome.status}
    outcome.wake_within = uptime_wake(p.obj, p.now)
    return outcome


def _observed_status(instance: Instance, obj: AuraInstance) -> dict[str, Any]:
    return {
        "instanceId": instance.id,
        "state": instance.status,
        "connectionUrl": instance.connection_url,
        "tenantId": instance.tenant_id,
        "type": instance.type,
        "memory": instance.memory,
        "storage": instance.storage,
        "connectionSecretName": obj.connection_secret_name,
        "metricsIntegrationUrl": instance.metrics_integration_url,
    }


def _ready(state: str | None) -> ConditionUpdate:
    status, reason, message = ready_for_state(state)
    return ConditionUpdate(READY, status, reason, message)


async def observe(p: InstancePass) -> Outcome:
    """Read the instance and act on what was read; the outcome says when the read answered."""
    instance_id = p.obj.instance_id or ""
    priority = Priority.BACKGROUND if p.background else Priority.TRANSIENT
    if wanted(p.obj, p.now).due:
        priority = Priority.CHANGE  # the read of a scheduled pause or resume is part of it
    with p.client.priority(priority):
        asked = time.monotonic()
        try:
            instance = await p.client.get_instance(instance_id)
        except AuraNotFound:
            gone_at = datetime.now(UTC)
            outcome = await _gone(p, instance_id)
            outcome.observed_at = gone_at
            return outcome
    observed_at = datetime.now(UTC)
    p.state.read_at = time.monotonic()
    p.state.read_took = p.state.read_at - asked
    outcome = await _observed(p, instance)
    outcome.observed_at = observed_at
    return outcome


async def _observed(p: InstancePass, instance: Instance) -> Outcome:
    obj, ctx, events = p.obj, p.ctx, p.events
    # The list sweep watches this instance's existence and name from now on (sweep.py).
    ctx.sweeps.track(obj.ref.uid, p.client, instance.id, wanted_name(obj), instance.status)

    status = {**_observed_status(instance, obj), **upgrade_finished(p, instance)}
    conditions = [_ready(instance.status)]
    state = p.state
    secret = await ctx.secrets.ensure(
        obj,
        info_of(instance, obj),
        state.pending_password(instance.id),
        from_backup=not p.managed_elsewhere,
    )
    if secret.password_known:
        state.forget_password()
    for event in secret.all_events():
        events.event(*event)
    conditions.append(secret.condition)
    status.update(secret.status)
    metrics = await scrape_config.reconcile(p, instance)
    if metrics is not None:
        conditions.append(metrics)

    problem = check_fixed_fields(obj.spec, instance)
    if problem is not None:
        outcome = invalid_spec(problem, events)
        outcome.status.update(status)
        outcome.conditions[:0] = conditions
        return outcome

    if obj.observe_only:
        conditions.append(synced_ok("ObserveOnly: the instance is observed, never changed"))
        return Outcome(
            conditions=conditions,
            status=status,
            spec_applied=True,
            transient=instance.status if instance.is_transient else None,
            drift=not instance.is_transient,
        )

    restoring = ctx.restores.active(obj.ref.namespace, obj.ref.name)
    if restoring is not None:
        # An AuraRestore is acting on this instance: nothing here may fight it (kinds/restore).
        reason = ReadyReason.OVERWRITING if restoring[1] == "Overwriting" else ReadyReason.RESTORING
        message = f"AuraRestore {restoring[0]} is in phase {restoring[1]}; changes wait for it"
        conditions[0] = ConditionUpdate(READY, "False", reason, message)
        conditions.append(synced_ok(message))
        return Outcome(
            conditions=conditions,
            status=status,
            transient=instance.status if instance.is_transient else None,
            drift=not instance.is_transient,
        )

    if instance.is_transient:
        conditions.append(synced_ok(f"waiting for Aura: the instance is {instance.status}"))
        return Outcome(conditions=conditions, status=status, transient=instance.status)

    outcome = await _act(p, instance)
    outcome.status = {**status, **outcome.status}
    # Ready follows the state written with it: a resize, pause or resume just accepted has
    # moved the instance on (to updating, pausing, resuming) from what the GET saw.
    conditions[0] = _ready(outcome.status.get("state"))
    outcome.conditions[:0] = conditions
    return outcome


async def _gone(p: InstancePass, instance_id: str) -> Outcome:
    """The instance answers 404."""
    obj, ctx, events = p.obj, p.ctx, p.events
    creating = obj.status.state in (None, "creating") and obj.status.instance_id == instance_id
    if creating and obj.status.creation is not None:
        # Just created: Aura may not show it for a few seconds (eventual consistency).
        return Outcome(
            conditions=[synced_ok("waiting for Aura to show the new instance")],
            requeue_after=ctx.settings.poll_interval,
        )
    ctx.sweeps.untrack(obj.ref.uid)
    ready = ConditionUpdate(READY, "False", "Unavailable", f"instance {instance_id} not found")
    if obj.spec.instance_id or obj.observe_only:
        # A spec problem, not an error: nothing to retry at error pace. Checked again at the
        # drift interval, in case the id appears (e.g. a tenant the credential gains).
        message = (
            f"spec.instanceId: instance {instance_id} does not exist in Aura or is not visible "
            "to this credential; set it to the id of an existing instance"
        )
        events.event("Warning", SyncedReason.INVALID_SPEC, message)
        return Outcome(
            conditions=[ready, synced_false(SyncedReason.INVALID_SPEC, message)],
            status={"state": None},
            requeue_after=ctx.settings.drift_interval,
            next_attempt=True,
        )
    events.event(
        "Warning",
        "InstanceGone",
        f"instance {instance_id} was deleted outside Kubernetes; creating a replacement",
    )
    await ctx.secrets.delete_backup(instance_id)
    return Outcome(
        conditions=[ready, synced_ok("instance gone; a replacement will be created")],
        status={"instanceId": None, "state": None, "connectionUrl": None, "creation": None},
        requeue_after=0.0,
    )


def _patch_fields(obj: AuraInstance, instance: Instance) -> dict[str, Any]:
    """PATCH body fields whose spec value differs from what Aura (or our last PATCH) has."""
    spec = obj.spec
    applied = obj.status.applied
    fields: dict[str, Any] = {}
    # The derived default name is for instances the operator creates: an adopted instance
    # (spec.instanceId) keeps its own name unless spec.name asks for another.
    wanted_name = spec.name if spec.instance_id else obj.aura_name
    if wanted_name and instance.name is not None and wanted_name != instance.name:
        fields["name"] = wanted_name
    if spec.memory and instance.memory and spec.memory != instance.memory:
        fields["memory"] = spec.memory
    if spec.storage and instance.storage and spec.storage != instance.storage:
        fields["storage"] = spec.storage
    for attr in (
        "vector_optimized",
        "graph_analytics_plugin",
        "secondaries_count",
        "cdc_enrichment_mode",
    ):
        wanted = getattr(spec, attr)
        if wanted is None:
            continue
        observed = getattr(instance, attr)
        if observed is None and applied is not None:
            observed = getattr(applied, attr)
        if observed != wanted:
            fields[attr] = wanted
    return fields


def _describe(fields: dict[str, Any], instance: Instance) -> str:
    parts = []
    for key, value in fields.items():
        before = getattr(instance, key, None)
        parts.append(f"{key} {before}→{value}" if before is not None else f"{key} →{value}")
    return ", ".join(parts)


_APPLIED = (
    "vector_optimized",
    "graph_analytics_plugin",
    "secondaries_count",
    "cdc_enrichment_mode",
)


async def _act(p: InstancePass, instance: Instance) -> Outcome:
    """The instance is settled: make at most one change towards the spec."""
    want = wanted(p.obj, p.now)
    try:
        if instance.status == "paused":
            return await _while_paused(p, instance, want)
        if instance.status != "running":
            message = f"the instance is {instance.status}; the operator cannot act on it"
            return Outcome(conditions=[synced_false(SyncedReason.ERROR, message)], drift=True)
        if wants_upgrade(p, instance):
            return await upgrade(p, instance)
        fields = _patch_fields(p.obj, instance)
        if fields:
            return await _update(p, instance, fields)
        if want.paused:
            return await _pause(p, instance, want)
    except AuraConflict as exc:
        return Outcome(
            conditions=[synced_ok(f"Aura is busy with another operation ({exc.message})")],
            requeue_after=p.ctx.settings.poll_interval,
        )
    return Outcome(
        conditions=[synced_ok("the instance matches the spec")], spec_applied=True, drift=True
    )


def _note(p: InstancePass, reason: str, message: str, *, scheduled: bool = False) -> None:
    """The event of a change; a change of a spec already applied is drift, said first (unless
    it is the uptime schedule's own transition)."""
    if p.obj.status.observed_generation == p.obj.ref.generation and not scheduled:
        p.events.event("Warning", "DriftDetected", f"{message} (changed outside Kubernetes)")
    p.events.event("Normal", reason, message)


async def _while_paused(p: InstancePass, instance: Instance, want: Wanted) -> Outcome:
    """Paused in Aura: resume it if the spec says so; other changes wait for the resume."""
    if not want.paused:
        message = f"resuming instance {instance.id}"
        if want.schedule is not None:
            message += f" (spec.uptime {p.obj.spec.uptime!r})"
        _note(p, "Resuming", message, scheduled=want.due)
        with p.client.priority(Priority.CHANGE):
            resumed = await p.client.resume_instance(instance.id)
        return Outcome(
            conditions=[synced_ok("resume requested")],
            status={"state": resumed.status or "resuming"},
            transient=resumed.status or "resuming",
            initiated=True,
        )
    pending = _patch_fields(p.obj, instance)
    message = f"the instance is paused as {why(p.obj, want)} says"
    if pending:
        message += f"; {', '.join(pending)} will change after it is resumed"
    return Outcome(conditions=[synced_ok(message)], spec_applied=not pending, drift=True)


async def _update(p: InstancePass, instance: Instance, fields: dict[str, Any]) -> Outcome:
    """One PATCH of the fields that differ (a resize checked against the tenant first)."""
    spec = p.obj.spec
    if "memory" in fields or "storage" in fields:
        tenant = await p.ctx.tenants.tenant(p.client, instance.tenant_id or spec.tenant_id or "")
        problem = check_resize(spec, tenant.instance_configurations, instance)
        if problem is not None:
            return invalid_spec(problem, p.events)
    _note(p, "Updating", f"updating instance {instance.id}: {_describe(fields, instance)}")
    result = await p.client.update_instance(instance.id, **fields)
    applied = {to_camel(k): v for k, v in fields.items() if k in _APPLIED}
    status: dict[str, Any] = {"state": "updating" if result.accepted else instance.status}
    if result.instance is not None and result.instance.name:
        status["state"] = result.instance.status or status["state"]
    if applied:
        status["applied"] = applied
    return Outcome(
        conditions=[synced_ok(f"update requested: {', '.join(fields)}")],
        status=status,
        requeue_after=None if result.accepted else 0.0,
        transient="updating" if result.accepted else None,
        initiated=result.accepted,
    )


#: The states an instance that stays paused was last seen in: running now, with the spec
#: unchanged, it was resumed by someone else, most likely Aura itself (it resumes an instance
#: that has been paused for 30 days).
_PAUSED_STATES = ("paused", "pausing", "resuming")


async def _pause(p: InstancePass, instance: Instance, want: Wanted) -> Outcome:
    message = f"pausing instance {instance.id} as {why(p.obj, want)} says"
    unchanged = p.obj.status.observed_generation == p.obj.ref.generation
    if p.obj.status.state in _PAUSED_STATES and unchanged and not want.due:
        p.events.event(
            "Warning",
            "ResumedOutside",
            f"instance {instance.id} was resumed outside Kubernetes (Aura resumes an instance "
            f"paused for 30 days by itself); pausing it again as {why(p.obj, want)} says",
        )
        p.events.event("Normal", "Pausing", message)
    else:
        _note(p, "Pausing", message, scheduled=want.due)
    with p.client.priority(Priority.CHANGE):
        paused = await p.client.pause_instance(instance.id)
    return Outcome(
        conditions=[synced_ok("pause requested")],
        status={"state": paused.status or "pausing"},
        transient=paused.status or "pausing",
        initiated=True,
    )
