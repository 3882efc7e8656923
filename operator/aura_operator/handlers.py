"""Every kopf decorator of the operator, kept thin: parse, call plain functions, apply.

- one daemon per AuraInstance runs its reconcile loop: the single writer of that object's
  status and the only code that calls Aura for it (besides deletion, under the same lock);
- watch events only wake that loop (a spec or annotation change, a deleted connection Secret);
- the deletion handler holds kopf's finalizer until the instance is deleted or released.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

import kopf

from aura_operator.apply import apply_outcome
from aura_operator.aura import SETTLED_STATUSES
from aura_operator.classify import classify
from aura_operator.context import OperatorContext
from aura_operator.credentials import CredentialsProblem
from aura_operator.deletion import finalize
from aura_operator.kube import KubeError
from aura_operator.loop import EXIT_TIMEOUT, KopfRecorder, run_daemon, wait
from aura_operator.objects import ObjectState
from aura_operator.outcome import backoff
from aura_operator.reconcile import reconcile
from aura_operator.resource import (
    ANNOTATION_FORCE_FINALIZE,
    ANNOTATION_RECONCILE,
    GROUP,
    KIND,
    PLURAL,
    VERSION,
    AuraInstance,
)
from aura_operator.secrets import MANAGED_BY, OPERATOR
from aura_operator.status import (
    READY,
    ConditionUpdate,
    ReadyReason,
    SyncedReason,
    merge_conditions,
)
from aura_operator.sweep import wanted_name

_WATCHED_ANNOTATIONS = (ANNOTATION_RECONCILE, ANNOTATION_FORCE_FINALIZE)

FORCE_HINT = (
    "if it can never succeed (credential gone), annotate the object with "
    f'{ANNOTATION_FORCE_FINALIZE}: "true"'
)


def _annotations(meta: Any) -> tuple[tuple[str, str], ...]:
    annotations = dict(meta.get("annotations") or {})
    return tuple((k, annotations[k]) for k in _WATCHED_ANNOTATIONS if k in annotations)


@kopf.daemon(
    GROUP,
    VERSION,
    PLURAL,
    cancellation_timeout=EXIT_TIMEOUT,
)
async def instance_loop(
    body: kopf.Body,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """The reconcile loop of one AuraInstance, from its appearance to its deletion (loop.py)."""
    ctx: OperatorContext = memo["context"]
    state = ctx.objects.get(body.metadata.uid or "")

    async def one_pass(
        fresh: dict[str, Any], recorder: KopfRecorder, background: bool
    ) -> tuple[float | None, bool]:
        obj = AuraInstance.from_body(fresh)
        state.last_generation = obj.ref.generation
        state.last_annotations = _annotations(fresh.get("metadata") or {})
        now = datetime.now(UTC)
        outcome = await reconcile(obj, ctx, recorder, now, background=background)
        if outcome.stale:
            return 0.0, False  # another writer was first: read the object again, write nothing
        delay = await apply_outcome(ctx, obj, outcome, state, now)
        return delay, outcome.spec_applied

    # The first pass after a (re)start is a re-examination, not a change.
    woken = await _startup_delay(ctx, body, state, stopped)
    await run_daemon(
        body, memo, stopped, logger, plural=PLURAL, one_pass=one_pass, background=not woken
    )


async def _startup_delay(
    ctx: OperatorContext, body: kopf.Body, state: ObjectState, stopped: kopf.DaemonStopped
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


@kopf.on.event(GROUP, VERSION, PLURAL)
def nudge_instance(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Wake the object's loop when its spec, its annotations or its deletion changed."""
    ctx: OperatorContext | None = memo.get("context")
    uid = body.metadata.uid
    if ctx is None or uid is None or uid not in ctx.objects:
        return
    state = ctx.objects.get(uid)
    meta = body.get("metadata") or {}
    if (
        meta.get("generation") != state.last_generation
        or _annotations(meta) != state.last_annotations
        or meta.get("deletionTimestamp")
    ):
        state.wake.set()


@kopf.on.event("", "v1", "secrets", labels={MANAGED_BY: OPERATOR})
def nudge_owner_of_deleted_secret(
    body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any
) -> None:
    """A connection Secret was deleted: wake its owner so it is restored at once."""
    ctx: OperatorContext | None = memo.get("context")
    if ctx is None or type != "DELETED":
        return
    for ref in body.metadata.get("ownerReferences") or []:
        if ref.get("kind") == KIND and ref.get("apiVersion", "").startswith(f"{GROUP}/"):
            ctx.objects.wake(ref.get("uid", ""))


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def finalize_instance(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    """Delete or release the Aura instance; raise TemporaryError until that is done."""
    ctx: OperatorContext = memo["context"]
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    uid = body.metadata.uid or ""
    state = ctx.objects.get(uid)
    recorder = KopfRecorder(body)
    await ctx.leadership.wait()  # a standby never deletes anything
    # The loop may be finishing a pass (e.g. a create) right now: wait for it to record its
    # outcome, so that the decision below sees the instance id or the open intent.
    async with state.lock:
        try:
            fresh = await ctx.kube.get_instance(namespace, name) or dict(body)
            obj = AuraInstance.from_body(fresh)
            result = await finalize(obj, ctx, recorder)
        except Exception as exc:  # every error is retried; classify says how it reads
            verdict = classify(exc)
            delay = max(
                verdict.retry_after or 0.0, backoff(retry, cap=ctx.settings.error_backoff_max)
            )
            message = f"cannot finish deleting: {verdict.message}"
            if verdict.reason == SyncedReason.CREDENTIALS_INVALID:
                message += f"; {FORCE_HINT}"
                recorder.event("Warning", verdict.reason, message)
            # kopf only logs a handler's failure: say on the object why it stays.
            with contextlib.suppress(Exception):
                await _show_deleting(ctx, AuraInstance.from_body(body), message)
            raise kopf.TemporaryError(message, delay=delay) from None
    if result.retry_after is not None:
        message = result.message or "waiting for Aura"
        await _show_deleting(ctx, obj, message)
        raise kopf.TemporaryError(message, delay=max(1.0, result.retry_after))
    ctx.forget(uid)


async def _show_deleting(ctx: OperatorContext, obj: AuraInstance, message: str) -> None:
    """Ready=False Deleting with why the finalizer is still held."""
    await ctx.kube.patch_status(
        obj.ref.namespace,
        obj.ref.name,
        {
            "conditions": merge_conditions(
                obj.status.conditions,
                [ConditionUpdate(READY, "False", ReadyReason.DELETING, message)],
                generation=obj.ref.generation,
            )
        },
    )
