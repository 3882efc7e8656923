"""The one kind controller: what every kind's objects get from the operator, built in one place.

A kind declares a `Kind`: its model (`parse`), its decisions (`decide`: one pass; `finalize`:
one finalizer attempt), whether it names a credential, and what else wakes it. `register`
builds its kopf handlers from that; nothing else in the operator registers a kopf handler for a
kind. So skip, force-finalize, the failure backoff, the stale-pass rule, the never-raises guard
and the credential users index behave the same for every kind, because only this module does
them:

- `run_pass`: one pass on the object as read now. In order: the per-object mode
  (`reconcile: skip`; `reconcile: plan` or `--dry-run`: the pass runs with the Aura client
  planning, so GETs are sent and the first mutating request is described instead, shown as
  Synced=False Planned), the admission checks (`admit`), the kind's decision under the
  never-raises guard, then the one status write (`write_status`): a stale outcome writes
  nothing; a failed one counts towards the object's backoff; the patch is written only if it
  changes something;
- `finalize_once`: one finalizer attempt under the object's lock, on the object read fresh:
  force-finalize, the kind's decision, errors classified and retried with backoff, the reason
  shown as Ready=False Deleting;
- `register`: the kopf daemon (one loop per object, runtime/loop.py), the watch that wakes it (spec,
  the controller's annotations, deletion), the finalizer, and the kind's other watches.

The in-process tests (tests/inprocess/harness.py) call `run_pass` and `finalize_once` exactly
as the kopf handlers built here do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import kopf

from aura_operator.aura import AuraClient, AuraError, AuraPlanned
from aura_operator.kube.api import KubeError
from aura_operator.runtime import plan as plans
from aura_operator.runtime.admission import Checker, unmanaged_objects
from aura_operator.runtime.claims import AlreadyManaged, AuraObject, claim
from aura_operator.runtime.classify import Verdict, classify
from aura_operator.runtime.conditions import (
    READY,
    SYNCED,
    ConditionUpdate,
    ReadyReason,
    SyncedReason,
    merge_conditions,
    micro_iso,
)
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.credential_usage import User
from aura_operator.runtime.deletion_protection import DeletionPolicy, Hold, deletion_decision
from aura_operator.runtime.grants import GRANT_PLURAL
from aura_operator.runtime.loop import EXIT_TIMEOUT, KopfRecorder, run_loop
from aura_operator.runtime.model import (
    ANNOTATION_FORCE_FINALIZE,
    ANNOTATION_RECONCILE,
    GROUP,
    VERSION,
    StatusModel,
    annotation,
    force_finalized,
    object_ref,
    skipped,
)
from aura_operator.runtime.object_state import ObjectState
from aura_operator.runtime.outcome import Outcome, Recorder, backoff, from_verdict, synced_false
from aura_operator.runtime.planning import (
    compare_with_plan,
    nothing_planned,
    planned,
    planning_hint,
    shown_plan,
)
from aura_operator.runtime.settings import Settings
from aura_operator.runtime.status_write import changes, status_patch

M = TypeVar("M")
Logger = logging.Logger | logging.LoggerAdapter[Any]
Body = Mapping[str, Any]

log = logging.getLogger(__name__)

FORCE_HINT = (
    "if it can never succeed (credential gone), annotate the object with "
    f'{ANNOTATION_FORCE_FINALIZE}: "true"'
)
PAUSED = f"reconciliation is paused by the annotation {ANNOTATION_RECONCILE}: skip"


@dataclass
class Pass(Generic[M]):
    """What one pass (or one finalizer attempt) of one object works with: the object as read
    at its start (parsed, and the body it came from), the process context, where events go,
    the time it started, and the Aura client once resolved. The one pass type of every kind
    (each names its own: `InstancePass`, `KeyPass`, `BackupPass`)."""

    obj: M
    body: Body
    ctx: OperatorContext
    events: Recorder
    now: datetime
    background: bool = False
    """A re-examination nobody asked for (drift, restart): reads go at background priority."""
    aura: AuraClient | None = None
    """The Aura client of the object's credential, once the decision resolved it
    (`with_client`); `client` is it."""
    managed_elsewhere: bool = False
    """Admission found that another object manages an Aura object this pass refers to (an
    observed instance): the pass may read it, but never hands out its password."""

    def with_client(self, aura: AuraClient) -> Pass[M]:
        return replace(self, aura=aura)

    @property
    def client(self) -> AuraClient:
        assert self.aura is not None, "the decision resolves the client first (with_client)"
        return self.aura

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def state(self) -> ObjectState:
        return self.ctx.objects.get((self.body.get("metadata") or {}).get("uid") or "")


@dataclass(frozen=True)
class Finalization:
    """One finalizer decision. None of `retry_after` means done: the finalizer may go.
    `show`: say `message` on the object (Ready=False Deleting) while it is held."""

    retry_after: float | None
    message: str = ""
    show: bool = True
    status: dict[str, Any] = field(default_factory=dict)
    """Status fields to record while the finalizer is held (written with the condition)."""
    synced: ConditionUpdate | None = None
    """A Synced condition to show while held (deletion protection)."""
    protected: bool = False
    """Held by deletion protection: only a change of the object lets it go (the handler
    watches for one instead of retrying)."""


DONE = Finalization(None)


@dataclass(frozen=True)
class Watch:
    """Another resource whose events concern a kind: `react` keeps what it must and returns
    the uids of the objects to wake."""

    id: str
    group: str
    version: str
    plural: str
    react: Callable[[OperatorContext, Body, str | None], Iterable[str]]
    labels: Mapping[str, str] | None = None


#: (delay, extra status fields) of a pass, planned by the kind (AuraInstance: transitions, drift).
Plan = Callable[
    [OperatorContext, Any, Outcome, ObjectState, float | None], tuple[float | None, dict[str, Any]]
]


@dataclass(frozen=True)
class Kind(Generic[M]):
    """Everything the controller needs to know about a kind."""

    name: str
    """The Kubernetes kind (AuraInstance)."""
    plural: str
    short: str
    """Names its kopf handlers: `<short>_loop`, `nudge_<short>`, `finalize_<short>`."""
    parse: Callable[[Body], M]
    decide: Callable[[Pass[M]], Awaitable[Outcome]]
    finalize: Callable[[Pass[M]], Awaitable[Finalization]] | None = None
    """None: no finalizer (deleting the object never waits)."""
    force_finalize: Callable[[Pass[M]], Awaitable[str]] | None = None
    """Run when force-finalize releases the finalizer; returns what stays in Aura."""
    uses_credential: bool = False
    """Its objects may name an AuraCredential (spec.credentialRef): the credential's
    finalizer waits for them."""
    namespaced: bool = True
    honours_skip: bool = True
    watches: tuple[Watch, ...] = ()
    on_event: Callable[[OperatorContext, Body, str | None], None] | None = None
    """Every watch event of the kind (before the wake-up), e.g. to keep the spec in memory."""
    on_deleted: Callable[[OperatorContext, Body, Recorder], None] | None = None
    """The object is gone (kinds without a finalizer: what stays in Aura is said here)."""
    plan: Plan | None = None
    observe: Callable[[OperatorContext, M, dict[str, Any], datetime], None] | None = None
    """Sees each status patch before it is written (metrics)."""
    startup: (
        Callable[[OperatorContext, Body, ObjectState, kopf.DaemonStopped], Awaitable[bool]] | None
    ) = None
    """Runs once when the daemon starts; True if a change woke the object meanwhile."""
    manages: Callable[[M], AuraObject | None] | None = None
    """The Aura object an object of this kind manages (None: none yet). The runtime claims it
    before every pass (one manager per Aura object, runtime/admission.py): a second claimant
    sends nothing, and its deletion leaves the Aura object alone."""
    refers: Callable[[Pass[M]], Awaitable[Sequence[AuraObject]]] | None = None
    """The Aura objects a pass is about to use without managing them (clone or overwrite
    sources, a restore's target, an observed instance): each needs a grant when an object in
    another namespace manages it."""
    released: Callable[[M], AuraObject | None] | None = None
    """The Aura object an object still names but has let go of (an AuraInstance whose
    spec.instanceId was removed): its claim is released, its passes send nothing for it, and
    its deletion leaves it alone."""
    protection: Callable[[M, Settings], tuple[bool | None, DeletionPolicy]] | None = None
    """(spec.deletionProtection, the deletionPolicy in effect): the finalizer holds a
    protected object that manages something in Aura."""


# ---------------------------------------------------------------------------- one pass


@dataclass
class Step:
    """One pass as run: its outcome, the delay before the next pass, whether the next is a
    background re-examination, and the error that kept the status from being written."""

    outcome: Outcome
    delay: float | None
    settled: bool
    write_error: Exception | None = None


async def run_pass(
    kind: Kind[M],
    ctx: OperatorContext,
    body: Body,
    events: Recorder,
    *,
    now: datetime | None = None,
    background: bool = False,
    logger: Logger = log,
) -> Step:
    """One pass on `body` (the object as read now); the caller holds the object's lock."""
    now = now or datetime.now(UTC)
    obj = kind.parse(body)
    meta = body.get("metadata") or {}
    state = ctx.objects.get(meta.get("uid") or "")
    state.last_generation = int(meta.get("generation") or 0)
    state.last_annotations = watched_annotations(meta)
    p = Pass(obj, body, ctx, events, now, background)
    outcome = await decide(kind, p, logger)
    if outcome.stale:
        return Step(outcome, 0.0, False)  # another writer was first: write nothing, read again
    try:
        delay = await write_status(kind, p, outcome, state)
    except Exception as exc:  # the status write failed (API server down, conflict)
        state.failures += 1
        logger.warning("cannot write the status (%s); trying again", exc)
        delay = backoff(state.failures - 1, cap=ctx.settings.error_backoff_max)
        return Step(outcome, delay, False, exc)
    return Step(outcome, delay, outcome.spec_applied)


def mode(kind: Kind[Any], body: Body, settings: Settings | None = None) -> str:
    """The per-object mode: "skip" (`reconcile: skip`: nothing is read or sent), "plan"
    (`reconcile: plan`, or every object under `--dry-run`: read, and describe instead of send
    the first request that would change something) or "act". A kind that does not honour
    skip (credentials) sends nothing but GETs anyway; `--dry-run` holds it too, in the client."""
    if not kind.honours_skip:
        return "act"
    if skipped(body):
        return "skip"
    if annotation(body, ANNOTATION_RECONCILE) == "plan" or (
        settings is not None and settings.dry_run
    ):
        return "plan"
    return "act"


async def admit(kind: Kind[M], p: Pass[M]) -> Outcome | None:
    """Per-object admission checks that run before a pass acts; an Outcome stops the pass.

    Issue 19, for every kind that declares them (runtime/admission.py): the claim of the Aura
    object the object manages (`Kind.manages`), then the grants its references into other
    namespaces need (`Kind.refers`).
    """
    if kind.manages is None and kind.refers is None:
        return None
    checker = Checker(p.ctx.admission, p.ctx.kube, kind.name, p.body, p.events)
    gone = kind.released(p.obj) if kind.released is not None else None
    if gone is not None:
        return await _let_go(p, checker, gone)
    target = kind.manages(p.obj) if kind.manages is not None else None
    if target is not None:
        stopped = await checker.take(target)
        if stopped is not None:
            return stopped
    targets = await kind.refers(p) if kind.refers is not None else ()
    if not targets:
        return None
    credential = ((p.body.get("spec") or {}).get("credentialRef") or {}).get("name")

    async def policy() -> tuple[str, str | None]:
        return await unmanaged_objects(p.ctx.kube, credential, p.settings.unmanaged_objects)

    stopped = await checker.refer(targets, policy)
    p.managed_elsewhere = checker.managed_elsewhere
    return stopped


async def _let_go(p: Pass[Any], checker: Checker, target: AuraObject) -> Outcome:
    """The object stopped naming `target`: release it (the claimants refused meanwhile look
    again at once) and send nothing for it."""
    held = await checker.holder(target)
    for uid in await checker.let_go(target):
        p.ctx.objects.wake(uid)
    if held is not None and held.manager.uid == checker.me.uid:
        p.events.event("Normal", "Released", f"let go of {target}: another object may claim it")
    message = (
        f"spec.instanceId was removed: this object let go of {target} and sends nothing for "
        "it; its deletion leaves it alone. Set spec.instanceId again to manage it"
    )
    return Outcome(conditions=[synced_false(SyncedReason.INVALID_SPEC, message)])


async def decide(kind: Kind[M], p: Pass[M], logger: Logger = log) -> Outcome:
    """The kind's decision, after the mode and the admission checks. Never raises: every error
    becomes an outcome through the one classifier; an unexpected one is logged."""
    current = mode(kind, p.body, p.settings)
    if current == "skip":
        return Outcome(conditions=[synced_false(SyncedReason.PAUSED, PAUSED)])
    shown = shown_plan(p.body) if current == "act" else None
    try:
        with AuraClient.planning(
            current == "plan" or shown is not None, send=shown is not None
        ) as plan:
            stopped = await admit(kind, p)
            if stopped is not None:
                return stopped
            outcome = await kind.decide(p)
        if current == "plan":
            return nothing_planned(p.settings, outcome)
        if shown is not None and plan is not None:
            compare_with_plan(p.events, shown, plan.sent)
        return outcome
    except AuraPlanned as signal:
        return planned(p.body, p.settings, p.events, signal)
    except Exception as exc:  # nothing escapes a pass (classify.py)
        verdict = classify(exc)
        if verdict.reason == SyncedReason.ERROR and not isinstance(exc, AuraError | KubeError):
            meta = p.body.get("metadata") or {}
            logger.exception(
                "%s %s/%s: unexpected error in a pass",
                kind.name,
                meta.get("namespace", ""),
                meta.get("name", ""),
            )
        return from_verdict(verdict, p.events)


async def write_status(
    kind: Kind[M], p: Pass[M], outcome: Outcome, state: ObjectState
) -> float | None:
    """The one status write of a pass: the outcome into `.status` (only if it changes
    something), after counting a failure and planning the next pass; returns the delay."""
    ctx = p.ctx
    state.failures = state.failures + 1 if outcome.failed else 0
    delay = outcome.requeue_after
    if outcome.failed:
        floor = backoff(state.failures - 1, cap=ctx.settings.error_backoff_max)
        delay = max(delay or 0.0, floor)
    extra: dict[str, Any] = {}
    if kind.plan is not None:
        delay, extra = kind.plan(ctx, p.obj, outcome, state, delay)
    ref = object_ref(p.body)
    current = dict(p.body.get("status") or {})
    conditions = StatusModel.model_validate(current).conditions
    patch = status_patch(outcome, conditions, ref.generation, delay, p.now)
    patch.update(extra)
    if kind.observe is not None:
        kind.observe(ctx, p.obj, patch, p.now)
    changed = changes(current, patch)
    # observedAt moves with every change, and with this process's first observation of the
    # object: a status from before a restart then stays recognisably old until the new leader
    # has read the object (issue 17). Drift reads that find nothing new write nothing (at N
    # objects, a write per read would be N status writes per drift interval for no news).
    if outcome.observed_at is not None and (changed or not state.observed):
        patch["observedAt"] = micro_iso(outcome.observed_at)
        state.observed = True
        changed = True
    if changed:
        await ctx.kube.patch_object_status(kind.plural, ref.namespace, ref.name, patch)
    return delay


def watched_annotations(meta: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The annotations whose change wakes an object."""
    annotations = dict(meta.get("annotations") or {})
    keys = (ANNOTATION_RECONCILE, ANNOTATION_FORCE_FINALIZE)
    return tuple((k, annotations[k]) for k in keys if k in annotations)


# ---------------------------------------------------------------------------- finalizer


@dataclass
class FinalizeStep:
    """One finalizer attempt: the decision, or the error (classified) that ended it."""

    result: Finalization | None
    verdict: Verdict | None = None
    delay: float = 0.0
    message: str = ""

    @property
    def done(self) -> bool:
        return self.result is not None and self.result.retry_after is None

    @property
    def protected(self) -> bool:
        return self.result is not None and self.result.protected


#: How often a protected object's finalizer reads the object, looking for the change that
#: lets it go (kopf delivers no events to an object while its handler runs or is delayed).
PROTECTED_POLL = 2.0


async def changed_within(ctx: OperatorContext, kind: Kind[Any], body: Body, wait: float) -> bool:
    """Whether the object's spec or the controller's annotations change within `wait` seconds
    (read every PROTECTED_POLL): what lets a protected object's deletion go on at once."""
    meta = body.get("metadata") or {}
    namespace, name = meta.get("namespace") or "", meta.get("name") or ""
    fresh = await ctx.kube.get_object(kind.plural, namespace, name)
    if fresh is None:
        return False
    seen = _version(fresh)
    waited = 0.0
    while waited < wait:
        await asyncio.sleep(PROTECTED_POLL)
        waited += PROTECTED_POLL
        fresh = await ctx.kube.get_object(kind.plural, namespace, name)
        if fresh is None:
            return False
        if _version(fresh) != seen:
            return True
    return False


def _version(body: Body) -> tuple[Any, ...]:
    meta = body.get("metadata") or {}
    return (meta.get("generation"), watched_annotations(meta))


async def finalize_once(
    kind: Kind[M],
    ctx: OperatorContext,
    body: Body,
    events: Recorder,
    *,
    retry: int = 0,
    now: datetime | None = None,
) -> FinalizeStep:
    """One finalizer attempt, under the object's lock (a pass in flight, e.g. a create,
    records its outcome first), on the object read fresh."""
    assert kind.finalize is not None
    meta = body.get("metadata") or {}
    namespace, name = meta.get("namespace") or "", meta.get("name") or ""
    state = ctx.objects.get(meta.get("uid") or "")
    shown: Body = body
    async with state.lock:
        try:
            fresh = await ctx.kube.get_object(kind.plural, namespace, name) or dict(body)
            shown = fresh
            p = Pass(kind.parse(fresh), fresh, ctx, events, now or datetime.now(UTC))
            if force_finalized(fresh):
                result = await _force(kind, p)
            else:
                with AuraClient.planning(mode(kind, fresh, ctx.settings) == "plan"):
                    result = await _finalize(kind, p)
        except AuraPlanned as signal:  # plan mode holds the finalizer, saying what it would send
            request = plans.plan_request(signal.method, signal.path, signal.body, signal.current)
            message = f"{plans.describe(request)} ({planning_hint(ctx.settings)})"
            with contextlib.suppress(Exception):
                await show_deleting(kind, ctx, shown, message)
            return FinalizeStep(None, None, ctx.settings.poll_interval, message)
        except Exception as exc:  # every error is retried; classify says how it reads
            verdict = classify(exc)
            delay = max(
                verdict.retry_after or 0.0, backoff(retry, cap=ctx.settings.error_backoff_max)
            )
            message = f"cannot finish deleting: {verdict.message}"
            if verdict.reason == SyncedReason.CREDENTIALS_INVALID:
                message += f"; {FORCE_HINT}"
                events.event("Warning", verdict.reason, message)
            # kopf only logs a handler's failure: say on the object why it stays.
            with contextlib.suppress(Exception):
                await show_deleting(kind, ctx, shown, message)
            return FinalizeStep(None, verdict, delay, message)
    if result.retry_after is not None:
        message = result.message or "waiting for Aura"
        if result.show or result.status:
            await show_deleting(
                kind, ctx, fresh, message if result.show else "", result.status, result.synced
            )
        return FinalizeStep(result, None, max(1.0, result.retry_after), message)
    ctx.forget(meta.get("uid") or "")
    return FinalizeStep(result)


#: How long a protected object's finalizer waits for a change before kopf retries it.
PROTECTED_WAIT = 60.0


async def _finalize(kind: Kind[M], p: Pass[M]) -> Finalization:
    """The kind's finalizer decision, inside the runtime's checks (runtime/admission.py):
    deletion protection holds the object; an object that does not hold the claim of its Aura
    object leaves it alone; the manager releases its claim once done, waking the claimants."""
    gone = kind.released(p.obj) if kind.released is not None else None
    if gone is not None:
        p.events.event("Normal", "LeftAlone", f"this object let go of {gone}: not touched")
        return DONE
    target = kind.manages(p.obj) if kind.manages is not None else None
    if target is None:
        return await kind.finalize(p) if kind.finalize is not None else DONE
    if kind.protection is not None:
        value, policy = kind.protection(p.obj, p.settings)
        decision = deletion_decision(
            kind.name, value, p.settings.default_deletion_protection, policy, str(target)
        )
        if isinstance(decision, Hold):
            return _hold(p, decision)
    checker = Checker(p.ctx.admission, p.ctx.kube, kind.name, p.body, p.events)
    held = await claim(p.ctx.admission.store, target, checker.me, checker.lookup)
    if isinstance(held, AlreadyManaged):
        p.events.event(
            "Normal",
            "LeftAlone",
            f"{target} is managed by {held.manager}: deleting this object does not touch it",
        )
        return DONE
    result = await kind.finalize(p) if kind.finalize is not None else DONE
    if result.retry_after is None:
        for uid in await checker.let_go(target):
            p.ctx.objects.wake(uid)
    return result


def _hold(p: Pass[Any], decision: Hold) -> Finalization:
    synced = ConditionUpdate(SYNCED, "False", decision.reason, decision.message)
    current = [
        c for c in (p.body.get("status") or {}).get("conditions") or [] if c.get("type") == SYNCED
    ]
    if not current or current[0].get("reason") != decision.reason:
        p.events.event("Warning", decision.reason, decision.message)
    return Finalization(PROTECTED_WAIT, decision.message, synced=synced, protected=True)


async def _force(kind: Kind[M], p: Pass[M]) -> Finalization:
    """`force-finalize: "true"`: release the finalizer without acting, saying what stays."""
    left = await kind.force_finalize(p) if kind.force_finalize is not None else "it"
    p.events.event(
        "Warning",
        "ForceFinalized",
        f"finalizer released by {ANNOTATION_FORCE_FINALIZE} without deleting {left}; check the "
        "Aura console for it",
    )
    return DONE


async def show_deleting(
    kind: Kind[Any],
    ctx: OperatorContext,
    body: Body,
    message: str,
    status: Mapping[str, Any] | None = None,
    synced: ConditionUpdate | None = None,
) -> None:
    """Ready=False Deleting with why the finalizer is still held (no message: no condition),
    the Synced condition of a hold, and the status fields the finalizer decision records."""
    ref = object_ref(body)
    patch = dict(status or {})
    updates = [ConditionUpdate(READY, "False", ReadyReason.DELETING, message)] if message else []
    updates += [synced] if synced is not None else []
    if updates:
        current = StatusModel.model_validate(dict(body.get("status") or {}))
        merged = merge_conditions(current.conditions, updates, generation=ref.generation)
        if merged == [c.model_dump(by_alias=True, exclude_none=True) for c in current.conditions]:
            if not patch:
                return  # nothing new to say (a hold re-checked)
        else:
            patch["conditions"] = merged
    await ctx.kube.patch_object_status(kind.plural, ref.namespace, ref.name, patch)


# ---------------------------------------------------------------------------- wake-ups


def nudge(kind: Kind[Any], ctx: OperatorContext, body: Body, event_type: str | None) -> None:
    """A watch event of the kind: feed the users index, let the kind keep what it needs, and
    wake the object's loop when its spec, the controller's annotations or its deletion
    changed. A kind without a finalizer forgets the object once it is gone."""
    meta = body.get("metadata") or {}
    uid = meta.get("uid") or ""
    if kind.uses_credential:
        note_user(ctx, kind, body, event_type)
    if kind.on_event is not None:
        kind.on_event(ctx, body, event_type)
    if uid in ctx.objects:
        state = ctx.objects.get(uid)
        if (
            meta.get("generation") != state.last_generation
            or watched_annotations(meta) != state.last_annotations
            or meta.get("deletionTimestamp")
        ):
            state.wake.set()
    if event_type == "DELETED" and kind.finalize is None:
        if kind.on_deleted is not None:
            kind.on_deleted(ctx, body, recorder(kind, ctx, body))
        ctx.forget(uid)


def note_user(ctx: OperatorContext, kind: Kind[Any], body: Body, event_type: str | None) -> None:
    """Record which credential an object names (or that it is gone) and wake the credential."""
    meta = body.get("metadata") or {}
    uid = meta.get("uid") or ""
    users = ctx.credentials.users
    if event_type == "DELETED":
        before = users.forget(uid)
        touched = {before} if before else set()
    else:
        ref = (body.get("spec") or {}).get("credentialRef") or {}
        name = ref.get("name") if isinstance(ref, dict) else None
        known = uid in users.uids(name) if name else False
        user = User(kind.name, meta.get("namespace") or "", meta.get("name") or "", kind.plural)
        previous = users.note(uid, name, user)
        # Only a change of who uses which credential is news (not every status write).
        touched = {n for n in (None if known else name, previous) if n}
    for credential in touched:
        ctx.objects.wake(ctx.credentials.memory.uids.get(credential, ""))


# ---------------------------------------------------------------------------- kopf


def recorder(kind: Kind[Any], ctx: OperatorContext, body: Body) -> KopfRecorder:
    """Events on the object; a cluster-scoped object's go to the operator's namespace (kopf
    would pick "default" outside a pod, where the chart grants nothing)."""
    if kind.namespaced:
        return KopfRecorder(body)
    meta = body.get("metadata") or {}
    where = {"namespace": ctx.settings.namespace} if ctx.settings.namespace else {}
    return KopfRecorder(
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": kind.name,
            "metadata": {"name": meta.get("name"), "uid": meta.get("uid"), **where},
        }
    )


async def run_daemon(
    kind: Kind[Any],
    ctx: OperatorContext,
    body: Body,
    stopped: kopf.DaemonStopped,
    logger: Logger,
) -> None:
    """The loop of one object (loop.run_loop), each pass a `run_pass` on the fresh object."""
    meta = body.get("metadata") or {}
    namespace, name, uid = (
        meta.get("namespace") or "",
        meta.get("name") or "",
        meta.get("uid") or "",
    )
    state = ctx.objects.get(uid)
    events = recorder(kind, ctx, body)
    woken = await kind.startup(ctx, body, state, stopped) if kind.startup is not None else None

    async def read() -> dict[str, Any] | None:
        return await ctx.kube.get_object(kind.plural, namespace, name)

    async def step(fresh: dict[str, Any], background: bool) -> tuple[float | None, bool]:
        done = await run_pass(kind, ctx, fresh, events, background=background, logger=logger)
        return done.delay, done.settled

    await run_loop(
        uid=uid,
        read=read,
        step=step,
        state=state,
        leadership=ctx.leadership,
        stopped=stopped,
        logger=logger,
        background=True if woken is None else not woken,
    )


#: The plurals `register` built handlers for: what `--selector` narrows (lifecycle.py).
REGISTERED: set[str] = set()


def register(kind: Kind[Any], registry: kopf.OperatorRegistry | None = None) -> None:
    """Build the kopf handlers of `kind`: its daemon, its wake-ups, its finalizer, its watches."""
    registry = registry or kopf.get_default_registry()
    REGISTERED.add(kind.plural)

    async def daemon(
        body: kopf.Body, memo: kopf.Memo, stopped: kopf.DaemonStopped, logger: Logger, **_: Any
    ) -> None:
        await run_daemon(kind, memo["context"], body, stopped, logger)

    def event(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
        ctx: OperatorContext | None = memo.get("context")
        if ctx is not None:
            nudge(kind, ctx, body, type)

    async def finalizer(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
        ctx: OperatorContext = memo["context"]
        await ctx.leadership.wait()  # a standby never deletes anything
        events = recorder(kind, ctx, body)
        step = await finalize_once(kind, ctx, body, events, retry=retry)
        while step.protected and await changed_within(ctx, kind, body, PROTECTED_WAIT):
            step = await finalize_once(kind, ctx, body, events, retry=retry)
        if not step.done:
            # A protected object was watched for PROTECTED_WAIT already: look again at once.
            raise kopf.TemporaryError(step.message, delay=1.0 if step.protected else step.delay)

    kopf.daemon(
        GROUP,
        VERSION,
        kind.plural,
        id=f"{kind.short}_loop",
        cancellation_timeout=EXIT_TIMEOUT,
        registry=registry,
    )(daemon)
    kopf.on.event(GROUP, VERSION, kind.plural, id=f"nudge_{kind.short}", registry=registry)(event)
    if kind.finalize is not None:
        kopf.on.delete(GROUP, VERSION, kind.plural, id=f"finalize_{kind.short}", registry=registry)(
            finalizer
        )
    for watch in kind.watches:
        _register_watch(watch, registry)


def woken_by_grant(ctx: OperatorContext, body: Body, event_type: str | None) -> Iterable[str]:
    """An AuraReferenceGrant appeared, changed or went: the objects refused for want of a grant
    in its namespace look again at once (runtime/admission.py)."""
    return ctx.admission.granted((body.get("metadata") or {}).get("namespace") or "")


#: The watches of the runtime itself, for every kind (`register_shared`).
SHARED_WATCHES = (Watch("wake_on_reference_grant", GROUP, VERSION, GRANT_PLURAL, woken_by_grant),)


def register_shared(registry: kopf.OperatorRegistry | None = None) -> None:
    """The handlers every kind shares, registered once: the AuraReferenceGrant watch."""
    registry = registry or kopf.get_default_registry()
    for watch in SHARED_WATCHES:
        _register_watch(watch, registry)


def _register_watch(watch: Watch, registry: kopf.OperatorRegistry) -> None:
    def event(body: kopf.Body, memo: kopf.Memo, type: str | None, **_: Any) -> None:
        ctx: OperatorContext | None = memo.get("context")
        if ctx is None:
            return
        for uid in watch.react(ctx, body, type):
            ctx.objects.wake(uid)

    kopf.on.event(
        watch.group,
        watch.version,
        watch.plural,
        id=watch.id,
        labels=dict(watch.labels) if watch.labels else None,
        registry=registry,
    )(event)
