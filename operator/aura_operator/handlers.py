"""Every kopf decorator of the operator, kept thin: parse, call plain functions, apply.

- one daemon per AuraInstance runs its reconcile loop: the single writer of that object's
  status and the only code that calls Aura for it (besides deletion, under the same lock);
- watch events only wake that loop (a spec or annotation change, a deleted connection Secret);
- the deletion handler holds kopf's finalizer until the instance is deleted or released.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf

from aura_operator.context import ObjectState, OperatorContext
from aura_operator.deletion import finalize
from aura_operator.errors import temporary
from aura_operator.outcome import Outcome, backoff
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
    SYNCED,
    ConditionUpdate,
    ReadyReason,
    merge_conditions,
    now_iso,
)

_WATCHED_ANNOTATIONS = (ANNOTATION_RECONCILE, ANNOTATION_FORCE_FINALIZE)


class KopfRecorder:
    """Posts events on the object through kopf's event queue."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def event(self, type_: str, reason: str, message: str) -> None:
        kopf.event(self._body, type=type_, reason=reason, message=message)


def _annotations(meta: Any) -> tuple[tuple[str, str], ...]:
    annotations = dict(meta.get("annotations") or {})
    return tuple((k, annotations[k]) for k in _WATCHED_ANNOTATIONS if k in annotations)


@kopf.daemon(GROUP, VERSION, PLURAL, cancellation_timeout=60.0)
async def instance_loop(
    body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, **_: Any
) -> None:
    """The reconcile loop of one AuraInstance, from its appearance to its deletion."""
    ctx: OperatorContext = memo["context"]
    namespace, name, uid = (
        body.metadata.namespace or "",
        body.metadata.name or "",
        body.metadata.uid,
    )
    state = ctx.state(uid or "")
    recorder = KopfRecorder(body)
    background = True  # the first pass after a (re)start is a re-examination, not a change
    while not stopped:
        fresh = await ctx.kube.get_instance(namespace, name)
        if fresh is None or (fresh.get("metadata") or {}).get("deletionTimestamp"):
            return
        obj = AuraInstance.from_body(fresh)
        if obj.ref.uid != uid:
            return  # a new object of the same name: its own daemon takes over
        state.last_generation = obj.ref.generation
        state.last_annotations = _annotations(fresh.get("metadata") or {})
        state.wake.clear()
        async with state.lock:
            now = datetime.now(UTC)
            outcome = await reconcile(obj, ctx, recorder, now, background=background)
            delay = await apply_outcome(ctx, obj, outcome, state, now)
        woken = await _wait(state.wake, stopped, delay)
        background = not woken and outcome.synced


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


async def apply_outcome(
    ctx: OperatorContext,
    obj: AuraInstance,
    outcome: Outcome,
    state: ObjectState,
    now: datetime,
) -> float | None:
    """Write the outcome into `.status` (only if it changed); return the delay to wait."""
    state.failures = state.failures + 1 if outcome.failed else 0
    delay = outcome.requeue_after
    if outcome.failed:
        floor = backoff(state.failures - 1, cap=ctx.settings.error_backoff_max)
        delay = max(delay or 0.0, floor)
    conditions = list(outcome.conditions)
    next_at: str | None = None
    if outcome.next_attempt and delay is not None:
        next_at = now_iso(now + timedelta(seconds=delay))
        conditions = [
            ConditionUpdate(c.type, c.status, c.reason, f"{c.message}; next attempt at {next_at}")
            if c.type == SYNCED and c.status == "False"
            else c
            for c in conditions
        ]
    patch: dict[str, Any] = dict(outcome.status)
    patch["conditions"] = merge_conditions(
        obj.status.conditions, conditions, generation=obj.ref.generation, now=now
    )
    patch["nextAttemptAt"] = next_at
    if outcome.synced:
        patch["observedGeneration"] = obj.ref.generation
    current = obj.status.model_dump(by_alias=True, exclude_none=True, mode="json")
    if any(current.get(k) != v for k, v in patch.items() if not (v is None and k not in current)):
        await ctx.kube.patch_status(obj.ref.namespace, obj.ref.name, patch)
    return delay


@kopf.on.event(GROUP, VERSION, PLURAL)
def nudge_instance(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Wake the object's loop when its spec, its annotations or its deletion changed."""
    ctx: OperatorContext | None = memo.get("context")
    uid = body.metadata.uid
    if ctx is None or uid is None or not ctx.has_state(uid):
        return
    state = ctx.state(uid)
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
            ctx.wake(ref.get("uid", ""))


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def finalize_instance(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    """Delete or release the Aura instance; raise TemporaryError until that is done."""
    ctx: OperatorContext = memo["context"]
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    uid = body.metadata.uid or ""
    state = ctx.state(uid)
    recorder = KopfRecorder(body)
    async with state.lock:  # the loop may be finishing a pass (e.g. a create) right now
        fresh = await ctx.kube.get_instance(namespace, name) or dict(body)
        obj = AuraInstance.from_body(fresh)
        try:
            result = await finalize(obj, ctx, recorder)
        except Exception as exc:  # mapped by type in errors.temporary; unknown ones re-raise
            raise temporary(exc, retry, ctx.settings.error_backoff_max) from None
    if result.retry_after is not None:
        message = result.message or "waiting for Aura"
        await ctx.kube.patch_status(
            namespace,
            name,
            {
                "conditions": merge_conditions(
                    obj.status.conditions,
                    [ConditionUpdate(READY, "False", ReadyReason.DELETING, message)],
                    generation=obj.ref.generation,
                )
            },
        )
        raise kopf.TemporaryError(message, delay=max(1.0, result.retry_after))
    ctx.forget(uid)
