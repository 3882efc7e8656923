"""Exactly once: the one primitive behind every Aura POST that has no idempotency key.

Instance create, upgrade, customer key create, snapshot, restore and overwrite all go through
these steps, and only these:

1. `new_record`: the intent (when, and the Aura name if the request names one);
2. `record`: written on the object *conditionally on the resourceVersion the pass read*, before
   the POST. Its one result (`Fence`) says whether the POST may be sent: `WRITTEN`; `LOST` (the
   object changed, maybe another process that believes it leads recorded its own intent); or
   `NOT_LEADING` (the lease went meanwhile: the next leader resolves the intent). `fenced` is
   the one reaction when it is not `WRITTEN`;
3. after the POST: `unanswered` keeps the intent and stamps when the outcome became unknown;
   `refused` (400/402/405/429) forgets it, since nothing was created;
4. a later pass that finds an open intent looks before it sends again: `recover` turns what it
   found into `Found`, `Ambiguous` (never guess), `Looking` (the visibility window is still
   open) or `NeverArrived`. The window runs from the unanswered time or, after a crash during
   the POST, from the latest moment the POST could have reached Aura (intent + HTTP timeout).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aura_operator.aura import AuraClient, AuraError
from aura_operator.kube.api import KubeConflict
from aura_operator.runtime.classify import classify
from aura_operator.runtime.conditions import ConditionUpdate, SyncedReason, now_iso
from aura_operator.runtime.model import Intent, ObjectRef
from aura_operator.runtime.outcome import Outcome, Recorder, from_verdict, synced_false
from aura_operator.runtime.settings import Settings

if TYPE_CHECKING:
    from aura_operator.runtime.context import OperatorContext

#: Clock difference tolerated between this process and Aura when matching creation times.
CLOCK_SKEW = timedelta(minutes=2)

T = TypeVar("T")

__all__ = ["Intent"]


def new_record(
    now: datetime, *, name: str | None = None, discarded: Sequence[str] = ()
) -> dict[str, Any]:
    """The intent as written on the object (wire form), before the POST."""
    record: dict[str, Any] = {
        "requestedAt": now_iso(now.astimezone(UTC).replace(microsecond=0)),
        "unansweredAt": None,
    }
    if name is not None:
        record["name"] = name
    if discarded:
        record["discardedIds"] = list(discarded)
    return record


class Fence(StrEnum):
    """The one result of the fenced intent write."""

    WRITTEN = "written"
    """The intent is on the object: the POST may be sent, once."""
    LOST = "lost"
    """The object changed since this pass read it (maybe another writer recorded its own
    intent): nothing may be sent."""
    NOT_LEADING = "not-leading"
    """The intent is recorded but this process no longer leads: the next leader resolves it."""


async def record(
    ctx: OperatorContext, plural: str, ref: ObjectRef, status: Mapping[str, Any]
) -> Fence:
    """Write `status` (which holds the intent) only if the object is still at the version this
    pass read. Of two processes that read the same object, only one records and sends.

    In plan mode nothing is written: the POST that follows is described, not sent, and an
    intent without its POST would make recovery look for a result that can never appear."""
    if AuraClient.is_planning():
        return Fence.WRITTEN
    try:
        await ctx.kube.patch_object_status(
            plural, ref.namespace, ref.name, status, resource_version=ref.resource_version
        )
    except KubeConflict:
        return Fence.LOST
    return Fence.WRITTEN if ctx.leadership.is_leading else Fence.NOT_LEADING


def fenced(fence: Fence) -> Outcome:
    """The one reaction when the intent was not written for this pass to send: write nothing
    more (a lost write means this pass's view is stale) and read the object again at once."""
    return Outcome(requeue_after=0.0, stale=fence is Fence.LOST)


def window_left(intent: Intent, settings: Settings, now: datetime) -> float:
    """Seconds left to look for the result of an open request before concluding that it never
    arrived: the visibility window from when it went unanswered, or from intent + HTTP timeout
    (the latest moment a request sent by a process that died could have reached Aura)."""
    return (visibility_deadline(intent, settings) - now).total_seconds()


def visibility_deadline(intent: Intent, settings: Settings) -> datetime:
    """Until when a result of `intent` may still appear in Aura."""
    start = intent.unanswered_at or (intent.requested_at + timedelta(seconds=settings.http_timeout))
    return start.astimezone(UTC) + timedelta(seconds=settings.create_visibility_window)


def look_again_in(left: float, settings: Settings) -> float:
    """When to look again while the window is open: at the poll interval, or when it closes."""
    return max(1.0, min(left, settings.poll_interval))


def since_request(intent: Intent) -> datetime:
    """The earliest creation time a result of `intent` can carry (allowing for clock skew)."""
    return intent.requested_at.astimezone(UTC) - CLOCK_SKEW


# ------------------------------------------------------------------ recovery by looking


@dataclass(frozen=True)
class Found(Generic[T]):
    """Exactly one candidate: it is this object's."""

    result: T


@dataclass(frozen=True)
class Ambiguous(Generic[T]):
    """Several candidates: stop with CreateAmbiguous and let a human choose."""

    candidates: list[T]


@dataclass(frozen=True)
class Looking:
    """Nothing yet, but it may still appear for `left` seconds."""

    left: float


@dataclass(frozen=True)
class NeverArrived:
    """Nothing, and the window has passed: the request never reached Aura; send it again."""


Recovery = Found[T] | Ambiguous[T] | Looking | NeverArrived


def recover(
    candidates: Sequence[T], intent: Intent, settings: Settings, now: datetime
) -> Recovery[T]:
    """What the results found by looking (after an open intent) mean."""
    if len(candidates) > 1:
        return Ambiguous(list(candidates))
    if candidates:
        return Found(candidates[0])
    left = window_left(intent, settings, now)
    return Looking(left) if left > 0 else NeverArrived()


def still_looking(
    message: str, left: float, settings: Settings, *extra: ConditionUpdate
) -> Outcome:
    """The outcome while the window is open: Synced=False saying so, looked at again soon."""
    return Outcome(
        conditions=[synced_false(SyncedReason.ERROR, message), *extra],
        requeue_after=look_again_in(left, settings),
        next_attempt=True,
    )


def ambiguous(message: str, events: Recorder, *extra: ConditionUpdate) -> Outcome:
    """Two candidates: the object stops with CreateAmbiguous; it never guesses."""
    events.event("Warning", SyncedReason.CREATE_AMBIGUOUS, message)
    return Outcome(conditions=[*extra, synced_false(SyncedReason.CREATE_AMBIGUOUS, message)])


# ------------------------------------------------------------- after the POST


def unanswered_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The intent, stamped with when its outcome became unknown (the window runs from then)."""
    return {**record, "unansweredAt": now_iso(datetime.now(UTC))}


def accepted_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """The intent, stamped with when Aura accepted it."""
    return {**record, "acceptedAt": now_iso(datetime.now(UTC))}


def unanswered(
    field: str,
    record: Mapping[str, Any],
    message: str,
    events: Recorder,
    settings: Settings,
    *,
    reason: str = "CreateOutcomeUnknown",
    conditions: Sequence[ConditionUpdate] = (),
) -> Outcome:
    """The POST got no answer: keep the intent (stamped), post `reason`, look before sending
    again. `conditions` replace the default Synced=False."""
    events.event("Warning", reason, message)
    return Outcome(
        conditions=list(conditions) or [synced_false(SyncedReason.ERROR, message)],
        status={field: unanswered_record(record)},
        requeue_after=settings.poll_interval,
        next_attempt=True,
    )


def refused(field: str, exc: AuraError, events: Recorder) -> Outcome:
    """Aura refused the POST (400, 402, 405, 429): nothing was created, so the intent is
    forgotten and the next attempt starts clean; the classifier says the rest."""
    outcome = from_verdict(classify(exc), events)
    outcome.status[field] = None
    return outcome
