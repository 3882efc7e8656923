"""kopf decorators of AuraCredential and AuraCustomerManagedKey, kept thin (as handlers.py).

- AuraCredential (cluster-scoped): a daemon writes its status every
  `credential_status_interval` seconds (Ready when a token was fetched, tenants, requests and
  429s of the last minute and hour, drift interval, users) and applies `requestsPerMinute` to the
  client id's budget at once; deleting a credential in use is held by the finalizer (with an
  event naming the users) until nothing names it.
- Namespaces are watched for their labels (allowedNamespaces); every kind that can name a
  credential feeds the users index from its watch events.
- AuraCustomerManagedKey: one daemon per key (run_loop), a finalizer that deletes under Delete.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

import kopf

from aura_operator.apply import changes, status_patch
from aura_operator.aura import Priority
from aura_operator.backup_resource import (
    RESTORE_KIND,
    RESTORE_PLURAL,
    SNAPSHOT_KIND,
    SNAPSHOT_PLURAL,
)
from aura_operator.classify import classify
from aura_operator.context import OperatorContext
from aura_operator.credential_resource import KIND as CREDENTIAL_KIND
from aura_operator.credential_resource import PLURAL as CREDENTIALS
from aura_operator.credential_resource import AuraCredential
from aura_operator.customer_keys import KIND as KEY_KIND
from aura_operator.customer_keys import PLURAL as KEYS
from aura_operator.customer_keys import AuraCustomerManagedKey
from aura_operator.key_reconcile import finalize_key, reconcile_key
from aura_operator.loop import EXIT_TIMEOUT, KopfRecorder, run_daemon
from aura_operator.outcome import Outcome, backoff
from aura_operator.resource import ANNOTATION_FORCE_FINALIZE, GROUP, VERSION
from aura_operator.resource import KIND as INSTANCE_KIND
from aura_operator.resource import PLURAL as INSTANCES
from aura_operator.status import READY, ConditionUpdate, merge_conditions
from aura_operator.usage import User

#: Kinds whose objects may name a credential in spec.credentialRef: (plural, kind).
USER_KINDS: list[tuple[str, str]] = [
    (INSTANCES, INSTANCE_KIND),
    (KEYS, KEY_KIND),
    (SNAPSHOT_PLURAL, SNAPSHOT_KIND),
    (RESTORE_PLURAL, RESTORE_KIND),
]
#: Seconds after start-up before a credential's finalizer trusts the users index (the watches
#: list every existing object first).
USERS_WARMUP = 10.0
_MAX_USERS_SHOWN = 20


def _ctx(memo: kopf.Memo) -> OperatorContext | None:
    return memo.get("context")


# ------------------------------------------------------------------ users index


def note_user(ctx: OperatorContext, kind: str, body: kopf.Body, event_type: str | None) -> None:
    """Record which credential an object names (or that it is gone) and wake the credential."""
    meta = body.metadata
    uid = meta.uid or ""
    users = ctx.credentials.users
    if event_type == "DELETED":
        before = users.forget(uid)
        touched = {before} if before else set()
    else:
        ref = (body.get("spec") or {}).get("credentialRef") or {}
        name = ref.get("name") if isinstance(ref, dict) else None
        known = uid in users.uids(name) if name else False
        previous = users.note(uid, name, User(kind, meta.namespace or "", meta.name or ""))
        # Only a change of who uses which credential is news (not every status write).
        touched = {n for n in (None if known else name, previous) if n}
    for credential in touched:
        ctx.objects.wake(ctx.credentials.memory.uids.get(credential, ""))


def watch_credential_users(plural: str, kind: str) -> None:
    """Feed the users index from the watch of `plural` (call at import time)."""
    if (plural, kind) not in USER_KINDS:
        USER_KINDS.append((plural, kind))

    @kopf.on.event(GROUP, VERSION, plural, id=f"nudge_users_of_{plural}")
    def _users(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
        ctx = _ctx(memo)
        if ctx is not None:
            note_user(ctx, kind, body, type)


for _plural, _kind in list(USER_KINDS):
    watch_credential_users(_plural, _kind)


@kopf.on.event("", "v1", "namespaces")
def nudge_namespace_labels(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
    """Keep namespace labels for allowedNamespaces; a change wakes the objects there."""
    ctx = _ctx(memo)
    if ctx is None:
        return
    name = body.metadata.name or ""
    if type == "DELETED":
        ctx.credentials.forget_namespace(name)
        return
    ctx.credentials.remember_namespace(name, dict(body.metadata.labels or {}))


# ---------------------------------------------------------------- credentials


@kopf.on.event(GROUP, VERSION, CREDENTIALS)
def nudge_credential(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
    """Keep the credential's spec for resolution; a change wakes it and every object using it."""
    ctx = _ctx(memo)
    if ctx is None:
        return
    name, uid = body.metadata.name or "", body.metadata.uid or ""
    if type == "DELETED":
        ctx.credentials.forget_credential(name)
        ctx.credentials.memory.forget(name)
        return
    ctx.credentials.remember_credential(dict(body))
    memory = ctx.credentials.memory
    memory.uids[name] = uid
    # Only a change of the spec (or the deletion) is news: the status the credential's own loop
    # writes every few seconds must not wake it, nor every object using it.
    generation = (body.metadata.get("generation"), bool(body.metadata.get("deletionTimestamp")))
    if memory.generations.get(name) == generation:
        return
    memory.generations[name] = generation
    if uid in ctx.objects:
        ctx.objects.wake(uid)
    for user in ctx.credentials.users.uids(name):
        ctx.objects.wake(user)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


async def credential_status(ctx: OperatorContext, body: dict[str, Any]) -> dict[str, Any]:
    """The status of one AuraCredential now (one request at most: the tenant list, cached)."""
    cred = AuraCredential.from_body(body)
    name = cred.ref.name
    rate = cred.spec.requests_per_minute
    status: dict[str, Any] = {"requestsPerMinute": rate, "observedGeneration": cred.ref.generation}
    client_id: str | None = None
    try:
        resolved = await ctx.credentials.resolve_credential(name)  # applies the budget
        client_id = resolved.client_id
        aura = ctx.credentials.client(resolved.client_id, resolved.client_secret)
        reads = ctx.credentials.memory.tenant_reads
        cached = reads.get(name)
        refresh = max(ctx.settings.tenant_cache_seconds, 60.0)
        if cached is None or cached[1] != cred.ref.generation or cached[0] < time.monotonic():
            with aura.priority(Priority.BACKGROUND):
                tenants = await aura.list_tenants()  # fetches a token first if it needs one
            listed = [{"id": t.id, "name": t.name} for t in tenants]
            reads[name] = (time.monotonic() + refresh, cred.ref.generation, listed)
        listed = reads[name][2]
        ready = ConditionUpdate(
            READY,
            "True",
            "Available",
            f"a token was fetched; the credential sees {len(listed)} tenant(s)",
        )
        status.update(
            clientId=client_id,
            tenants=listed,
            tenantIds=",".join(t["id"] for t in listed),
        )
    except Exception as exc:  # every failure is shown on the object
        verdict = classify(exc)
        ready = ConditionUpdate(READY, "False", verdict.reason, verdict.message)
        ctx.credentials.memory.tenant_reads.pop(name, None)
    if client_id is not None:
        counts = ctx.credentials.windows.counts(client_id)
        interval = ctx.drift.interval(client_id, ctx.rate(client_id))
        status.update(
            requests={"lastMinute": counts.sent_minute, "lastHour": counts.sent_hour},
            throttled={"lastMinute": counts.throttled_minute, "lastHour": counts.throttled_hour},
            driftInterval=_duration(interval),
            driftIntervalSeconds=round(interval),
        )
    users = ctx.credentials.users.users(name)
    status["usedBy"] = len(users)
    status["users"] = [str(u) for u in users[:_MAX_USERS_SHOWN]]
    status["conditions"] = merge_conditions(
        cred.status.conditions, [ready], generation=cred.ref.generation
    )
    return status


@kopf.daemon(GROUP, VERSION, CREDENTIALS, cancellation_timeout=EXIT_TIMEOUT)
async def credential_loop(
    body: kopf.Body,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    ctx: OperatorContext = memo["context"]
    name = body.metadata.name or ""
    ctx.credentials.memory.uids[name] = body.metadata.uid or ""

    async def one_pass(
        fresh: dict[str, Any], recorder: KopfRecorder, background: bool
    ) -> tuple[float | None, bool]:
        ctx.credentials.remember_credential(fresh)
        current = dict(fresh.get("status") or {})
        patch = await credential_status(ctx, fresh)
        if changes(current, patch):
            await ctx.kube.patch_object_status(CREDENTIALS, "", name, patch)
        return ctx.settings.credential_status_interval, True

    await run_daemon(body, memo, stopped, logger, plural=CREDENTIALS, one_pass=one_pass)


@kopf.on.delete(GROUP, VERSION, CREDENTIALS)
async def finalize_credential(
    body: kopf.Body,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """Hold the finalizer while any object names this credential."""
    ctx: OperatorContext = memo["context"]
    await ctx.leadership.wait()
    name = body.metadata.name or ""
    users = ctx.credentials.users
    if not users.warm(USERS_WARMUP):
        raise kopf.TemporaryError("waiting for the watches to list every user", delay=2.0)
    plurals = {kind: plural for plural, kind in USER_KINDS}
    for user in users.users(name):  # a watch event may have been missed: read each one
        plural = plurals.get(user.kind)
        if plural is None:
            continue
        current = await ctx.kube.get_object(plural, user.namespace, user.name)
        ref = ((current or {}).get("spec") or {}).get("credentialRef") or {}
        if current is None or ref.get("name") != name:
            users.drop(user)
        logger.debug("credential %s: %s read again (%s)", name, user, current is not None)
    found = users.users(name)
    if found:
        shown = ", ".join(str(u) for u in found[:_MAX_USERS_SHOWN])
        more = f" and {len(found) - _MAX_USERS_SHOWN} more" if len(found) > _MAX_USERS_SHOWN else ""
        message = (
            f"AuraCredential {name} is still used by {len(found)} object(s): {shown}{more}; "
            "it is deleted once none names it in spec.credentialRef"
        )
        # A cluster-scoped object's events go to the operator's namespace (kopf would pick
        # "default" outside a pod, where the chart grants nothing).
        where = {"namespace": ctx.settings.namespace} if ctx.settings.namespace else {}
        ref = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": CREDENTIAL_KIND,
            "metadata": {"name": name, "uid": body.metadata.uid, **where},
        }
        KopfRecorder(ref).event("Warning", "CredentialInUse", message)
        with contextlib.suppress(Exception):
            held = AuraCredential.from_body(body)
            conditions = merge_conditions(
                held.status.conditions,
                [ConditionUpdate(READY, "False", "Deleting", message)],
                generation=held.ref.generation,
            )
            await ctx.kube.patch_object_status(CREDENTIALS, "", name, {"conditions": conditions})
        raise kopf.TemporaryError(message, delay=ctx.settings.credential_status_interval)
    ctx.credentials.forget_credential(name)
    ctx.forget(body.metadata.uid or "")


# ----------------------------------------------------------- customer-managed keys


async def apply_key_outcome(
    ctx: OperatorContext, obj: AuraCustomerManagedKey, outcome: Outcome, failures: int
) -> float | None:
    now = datetime.now(UTC)
    delay = outcome.requeue_after
    if outcome.failed:
        delay = max(delay or 0.0, backoff(failures, cap=ctx.settings.error_backoff_max))
    patch = status_patch(outcome, obj.status.conditions, obj.ref.generation, delay, now)
    current = obj.status.model_dump(by_alias=True, exclude_none=True, mode="json")
    if changes(current, patch):
        await ctx.kube.patch_object_status(KEYS, obj.ref.namespace, obj.ref.name, patch)
    return delay


@kopf.daemon(GROUP, VERSION, KEYS, cancellation_timeout=EXIT_TIMEOUT)
async def key_loop(
    body: kopf.Body,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    ctx: OperatorContext = memo["context"]
    state = ctx.objects.get(body.metadata.uid or "")

    async def one_pass(
        fresh: dict[str, Any], recorder: KopfRecorder, background: bool
    ) -> tuple[float | None, bool]:
        obj = AuraCustomerManagedKey.from_body(fresh)
        state.last_generation = obj.ref.generation
        outcome = await reconcile_key(obj, ctx, recorder, datetime.now(UTC))
        if outcome.stale:
            return 0.0, False  # another writer was first: read the object again, write nothing
        state.failures = state.failures + 1 if outcome.failed else 0
        delay = await apply_key_outcome(ctx, obj, outcome, state.failures - 1)
        return delay, outcome.spec_applied

    await run_daemon(body, memo, stopped, logger, plural=KEYS, one_pass=one_pass)


@kopf.on.event(GROUP, VERSION, KEYS)
def nudge_key(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    ctx = _ctx(memo)
    uid = body.metadata.uid
    if ctx is None or uid is None or uid not in ctx.objects:
        return
    state = ctx.objects.get(uid)
    meta = body.get("metadata") or {}
    if meta.get("generation") != state.last_generation or meta.get("deletionTimestamp"):
        state.wake.set()


@kopf.on.delete(GROUP, VERSION, KEYS)
async def finalize_customer_key(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    ctx: OperatorContext = memo["context"]
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    uid = body.metadata.uid or ""
    state = ctx.objects.get(uid)
    recorder = KopfRecorder(body)
    await ctx.leadership.wait()
    async with state.lock:
        fresh = await ctx.kube.get_object(KEYS, namespace, name) or dict(body)
        obj = AuraCustomerManagedKey.from_body(fresh)
        force = (body.metadata.annotations or {}).get(ANNOTATION_FORCE_FINALIZE, "") == "true"
        try:
            if force:
                recorder.event(
                    "Warning",
                    "ForceFinalized",
                    f"finalizer released without deleting key {obj.aura_id or '(none)'}",
                )
                result = None
            else:
                result = await finalize_key(obj, ctx, recorder)
        except Exception as exc:
            verdict = classify(exc)
            delay = max(
                verdict.retry_after or 0.0, backoff(retry, cap=ctx.settings.error_backoff_max)
            )
            message = f"cannot finish deleting: {verdict.message}"
            with contextlib.suppress(Exception):
                await _show_deleting(ctx, obj, message)
            raise kopf.TemporaryError(message, delay=delay) from None
    if result is not None and result.retry_after is not None:
        await _show_deleting(ctx, obj, result.message)
        raise kopf.TemporaryError(result.message, delay=max(1.0, result.retry_after))
    ctx.forget(uid)


async def _show_deleting(ctx: OperatorContext, obj: AuraCustomerManagedKey, message: str) -> None:
    conditions = merge_conditions(
        obj.status.conditions,
        [ConditionUpdate(READY, "False", "Deleting", message)],
        generation=obj.ref.generation,
    )
    await ctx.kube.patch_object_status(
        KEYS, obj.ref.namespace, obj.ref.name, {"conditions": conditions}
    )


__all__ = ["CREDENTIAL_KIND", "USER_KINDS", "credential_status", "watch_credential_users"]
