"""Every kopf decorator of the operator, kept thin: parse, call plain functions, apply.

- one daemon per AuraInstance runs its reconcile loop: the single writer of that object's
  status and the only code that calls Aura for it (besides deletion, under the same lock);
- watch events only wake that loop (a spec or annotation change, a deleted connection Secret);
- the deletion handler holds kopf's finalizer until the instance is deleted or released.
"""

from __future__ import annotations

import asyncio
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

_WATCHED_ANNOTATIONS = (ANNOTATION_RECONCILE, ANNOTATION_FORCE_FINALIZE)

FORCE_HINT = (
    "if it can never succeed (credential gone), annotate the object with "
    f'{ANNOTATION_FORCE_FINALIZE}: "true"'
)


class KopfRecorder:
    """Posts events on the object through kopf's event queue."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def event(self, type_: str, reason: str, message: str) -> None:
        kopf.event(self._body, type=type_, reason=reason, message=message)


def _annotations(meta: Any) -> tuple[tuple[str, str], ...]:
    annotations = dict(meta.get("annotations") or {})
    return tuple((k, annotations[k]) for k in _WATCHED_ANNOTATIONS if k in annotations)


#: How long a stopping loop (object deleted, operator shutting down) may take to finish the pass
#: in flight before kopf cancels it: longer than one pass can take (a POST and a Secret write).
PASS_GRACE = 120.0


@kopf.daemon(
    GROUP,
    VERSION,
    PLURAL,
    cancellation_backoff=PASS_GRACE,
    cancellation_timeout=10.0,
)
async def instance_loop(
    body: kopf.Body,
    memo: kopf.Memo,
    stopped: kopf.DaemonStopped,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """The reconcile loop of one AuraInstance, from its appearance to its deletion.

    Nothing escapes it: a pass turns every error into an outcome (classify.py), and a failure
    to read or write the object (API server down) waits and tries again. A pass in flight is
    shielded from cancellation, and the finalizer waits for it (same lock).
    """
    ctx: OperatorContext = memo["context"]
    namespace, name, uid = (
        body.metadata.namespace or "",
        body.metadata.name or "",
        body.metadata.uid or "",
    )
    state = ctx.objects.get(uid)
    recorder = KopfRecorder(body)
    background = True  # the first pass after a (re)start is a re-examination, not a change
    if await _startup_delay(ctx, body, state, stopped):
        background = False  # woken by a change while waiting for the startup slot
    failures = 0
    while not stopped:
        if not await _lead(ctx, stopped):
            return
        try:
            fresh = await ctx.kube.get_instance(namespace, name)
        except KubeError as exc:
            failures += 1
            logger.warning("cannot read the object (%s); trying again", exc)
            await _wait(state.wake, stopped, backoff(failures - 1, cap=30.0))
            continue
        failures = 0
        if fresh is None or (fresh.get("metadata") or {}).get("deletionTimestamp"):
            return
        obj = AuraInstance.from_body(fresh)
        if obj.ref.uid != uid:
            return  # a new object of the same name: its own daemon takes over
        state.last_generation = obj.ref.generation
        state.last_annotations = _annotations(fresh.get("metadata") or {})
        state.wake.clear()
        run = asyncio.ensure_future(_one_pass(ctx, obj, state, recorder, background, logger))
        # Shielded: a cancelled loop (deletion, shutdown) lets the pass finish and record its
        # outcome; the finalizer waits for it through the object's lock.
        delay, spec_applied = await asyncio.shield(run)
        woken = await _wait(state.wake, stopped, delay)
        background = not woken and spec_applied


async def _one_pass(
    ctx: OperatorContext,
    obj: AuraInstance,
    state: ObjectState,
    recorder: KopfRecorder,
    background: bool,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> tuple[float | None, bool]:
    """One pass and the write of its outcome: (delay before the next, spec applied)."""
    async with state.lock:
        now = datetime.now(UTC)
        outcome = await reconcile(obj, ctx, recorder, now, background=background)
        try:
            delay = await apply_outcome(ctx, obj, outcome, state, now)
        except Exception as exc:  # the status write failed (API server down, conflict)
            state.failures += 1
            logger.warning("cannot write the status (%s); trying again", exc)
            return backoff(state.failures - 1, cap=ctx.settings.error_backoff_max), False
        return delay, outcome.spec_applied


async def _lead(ctx: OperatorContext, stopped: kopf.DaemonStopped) -> bool:
    """Wait until this process leads (standbys do no reconciling); False if stopped first."""
    if ctx.leadership.is_leading:
        return True
    leading = asyncio.ensure_future(ctx.leadership.wait())
    stopping = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({leading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        leading.cancel()
        stopping.cancel()
    return ctx.leadership.is_leading and not stopped


async def _startup_delay(
    ctx: OperatorContext, body: kopf.Body, state: ObjectState, stopped: kopf.DaemonStopped
) -> bool:
    """After a (re)start, settled instances are re-examined one slot after another at the
    credential's full rate, not all at once. True if a change woke the object meanwhile."""
    obj = AuraInstance.from_body(body)
    if not obj.instance_id or obj.status.state not in SETTLED_STATUSES or obj.skip:
        return False
    try:
        client_id, _ = await ctx.credentials.resolve(obj)
    except (CredentialsProblem, KubeError):
        return False
    delay = ctx.drift.next_startup_read(client_id, ctx.rate(client_id), time.monotonic())
    return await _wait(state.wake, stopped, delay) if delay > 0 else False


async def _wait(wake: asyncio.Event, stopped: kopf.DaemonStopped, delay: float | None) -> bool:
    """Wait for a wake-up, the stop flag or the delay; True if woken by a change."""
    if delay is not None and delay <= 0:
        return False

    async def until_stopped() -> None:
        await stopped.wait()

    waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(until_stopped())}
    try:
        await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return wake.is_set()


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
