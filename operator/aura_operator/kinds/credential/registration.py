"""AuraCredential as the controller runs it (cluster-scoped).

- Its pass writes its status every `credential_status_interval` seconds (Ready when a token was
  fetched, tenants with their metrics endpoint (Prometheus) when Aura has one, requests and
  429s of the last minute and hour, drift interval, users) and applies `requestsPerMinute`
  to the client id's budget at once;
- its watch keeps the spec for resolution and wakes every object using it on a spec change;
- deleting a credential in use is held by the finalizer (with an event naming the users) until
  nothing names it: the users index is fed by the watch of every kind registered with
  `uses_credential` (runtime/controller.py);
- namespaces are watched for their labels (allowedNamespaces).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from aura_operator.aura import AuraBadRequest, AuraClient, AuraNotFound, Priority
from aura_operator.kinds.credential.model import KIND, PLURAL, AuraCredential
from aura_operator.runtime.classify import classify
from aura_operator.runtime.conditions import READY, ConditionUpdate, merge_conditions
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.controller import DONE, Finalization, Kind, Pass, Watch
from aura_operator.runtime.outcome import Outcome

#: Seconds after start-up before a credential's finalizer trusts the users index (the watches
#: list every existing object first).
USERS_WARMUP = 10.0
_MAX_USERS_SHOWN = 20


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


async def _tenants(ctx: OperatorContext, cred: AuraCredential) -> tuple[str, list[dict[str, str]]]:
    """The client id and the tenants the credential sees (the list cached a while)."""
    name = cred.ref.name
    resolved = await ctx.credentials.resolve_credential(name)  # applies the budget
    aura = ctx.credentials.client(resolved.client_id, resolved.client_secret)
    reads = ctx.credentials.memory.tenant_reads
    cached = reads.get(name)
    refresh = max(ctx.settings.tenant_cache_seconds, 60.0)
    if cached is None or cached[1] != cred.ref.generation or cached[0] < time.monotonic():
        with aura.priority(Priority.BACKGROUND):
            tenants = await aura.list_tenants()  # fetches a token first if it needs one
            listed = [{"id": t.id, "name": t.name, **await _metrics(aura, t.id)} for t in tenants]
        reads[name] = (time.monotonic() + refresh, cred.ref.generation, listed)
    return resolved.client_id, reads[name][2]


async def _metrics(aura: AuraClient, tenant_id: str) -> dict[str, str]:
    """The project's metrics endpoint (Prometheus), when Aura has one: a 400 says the project
    has no instance Aura exports metrics for (docs/aura-api.md §3.1)."""
    try:
        found = await aura.get_metrics_integration(tenant_id)
    except (AuraBadRequest, AuraNotFound):
        return {}
    return {"metricsIntegrationEndpoint": found.endpoint}


def _usage(ctx: OperatorContext, client_id: str) -> dict[str, Any]:
    counts = ctx.credentials.windows.counts(client_id)
    interval = ctx.drift.interval(client_id, ctx.rate(client_id))
    return {
        "requests": {"lastMinute": counts.sent_minute, "lastHour": counts.sent_hour},
        "throttled": {"lastMinute": counts.throttled_minute, "lastHour": counts.throttled_hour},
        "driftInterval": _duration(interval),
        "driftIntervalSeconds": round(interval),
    }


async def credential_outcome(ctx: OperatorContext, body: Mapping[str, Any]) -> Outcome:
    """The status of one AuraCredential now (one request at most: the tenant list, cached)."""
    cred = AuraCredential.from_body(body)
    name = cred.ref.name
    status: dict[str, Any] = {"requestsPerMinute": cred.spec.requests_per_minute}
    client_id: str | None = None
    try:
        client_id, listed = await _tenants(ctx, cred)
        ready = ConditionUpdate(
            READY,
            "True",
            "Available",
            f"a token was fetched; the credential sees {len(listed)} tenant(s)",
        )
        status.update(
            clientId=client_id, tenants=listed, tenantIds=",".join(t["id"] for t in listed)
        )
    except Exception as exc:  # every failure is shown on the object
        verdict = classify(exc)
        ready = ConditionUpdate(READY, "False", verdict.reason, verdict.message)
        ctx.credentials.memory.tenant_reads.pop(name, None)
    if client_id is not None:
        status.update(_usage(ctx, client_id))
    users = ctx.credentials.users.users(name)
    status["usedBy"] = len(users)
    status["users"] = [str(u) for u in users[:_MAX_USERS_SHOWN]]
    return Outcome(
        conditions=[ready],
        status=status,
        requeue_after=ctx.settings.credential_status_interval,
        spec_applied=True,
    )


async def credential_status(ctx: OperatorContext, body: Mapping[str, Any]) -> dict[str, Any]:
    """The status fields `credential_outcome` writes, with its conditions merged."""
    cred = AuraCredential.from_body(body)
    outcome = await credential_outcome(ctx, body)
    conditions = merge_conditions(
        cred.status.conditions, outcome.conditions, generation=cred.ref.generation
    )
    return {
        **outcome.status,
        "observedGeneration": cred.ref.generation,
        "conditions": conditions,
    }


async def decide(p: Pass[AuraCredential]) -> Outcome:
    p.ctx.credentials.remember_credential(p.body)
    return await credential_outcome(p.ctx, p.body)


async def finalize(p: Pass[AuraCredential]) -> Finalization:
    """Hold the finalizer while any object names this credential."""
    ctx, name = p.ctx, p.obj.ref.name
    users = ctx.credentials.users
    if not users.warm(USERS_WARMUP):
        return Finalization(2.0, "waiting for the watches to list every user", show=False)
    for user in users.users(name):  # a watch event may have been missed: read each one
        if not user.plural:
            continue
        current = await ctx.kube.get_object(user.plural, user.namespace, user.name)
        ref = ((current or {}).get("spec") or {}).get("credentialRef") or {}
        if current is None or ref.get("name") != name:
            users.drop(user)
    found = users.users(name)
    if found:
        shown = ", ".join(str(u) for u in found[:_MAX_USERS_SHOWN])
        more = f" and {len(found) - _MAX_USERS_SHOWN} more" if len(found) > _MAX_USERS_SHOWN else ""
        message = (
            f"AuraCredential {name} is still used by {len(found)} object(s): {shown}{more}; "
            "it is deleted once none names it in spec.credentialRef"
        )
        p.events.event("Warning", "CredentialInUse", message)
        return Finalization(ctx.settings.credential_status_interval, message)
    ctx.credentials.forget_credential(name)
    return DONE


def on_event(ctx: OperatorContext, body: Mapping[str, Any], event_type: str | None) -> None:
    """Keep the credential's spec for resolution; a spec change wakes every object using it."""
    meta = body.get("metadata") or {}
    name, uid = meta.get("name") or "", meta.get("uid") or ""
    if event_type == "DELETED":
        ctx.credentials.forget_credential(name)
        ctx.credentials.memory.forget(name)
        return
    ctx.credentials.remember_credential(dict(body))
    memory = ctx.credentials.memory
    memory.uids[name] = uid
    # Only a change of the spec (or the deletion) is news: the status the credential's own loop
    # writes every few seconds must not wake the objects using it.
    generation = (meta.get("generation"), bool(meta.get("deletionTimestamp")))
    if memory.generations.get(name) == generation:
        return
    memory.generations[name] = generation
    for user in ctx.credentials.users.uids(name):
        ctx.objects.wake(user)


def namespace_labels(
    ctx: OperatorContext, body: Mapping[str, Any], event_type: str | None
) -> Iterable[str]:
    """Keep namespace labels for allowedNamespaces."""
    meta = body.get("metadata") or {}
    name = meta.get("name") or ""
    if event_type == "DELETED":
        ctx.credentials.forget_namespace(name)
    else:
        ctx.credentials.remember_namespace(name, dict(meta.get("labels") or {}))
    return []


CREDENTIAL: Kind[AuraCredential] = Kind(
    name=KIND,
    plural=PLURAL,
    short="credential",
    parse=AuraCredential.from_body,
    decide=decide,
    finalize=finalize,
    namespaced=False,
    honours_skip=False,
    on_event=on_event,
    watches=(Watch("nudge_namespace_labels", "", "v1", "namespaces", namespace_labels),),
)
