"""Get-or-create a session exactly once, and resolve a lost answer by the session's name.

`POST /v1/graph-analytics/sessions` has no idempotency key, so it goes through
runtime/intents.py like every such POST: the intent (the name, the time, the sessions an
earlier renewal deleted) is written on the object, fenced on the resourceVersion the pass read,
before the POST. A pass that finds an open intent lists the project's sessions and takes the one
of that name (sessions are unique by name and project) before it ever sends again; nothing in
the window means the request never arrived. A 409 (the name is taken with other parameters)
creates nothing: the intent is dropped and the object says which parameters differ.
"""

from __future__ import annotations

from typing import Any

from aura_operator.aura import (
    AuraBadRequest,
    AuraNotPermitted,
    AuraOutcomeUnknown,
    AuraPaymentRequired,
    AuraRateLimited,
    AuraSessionConflict,
    GdsSession,
)
from aura_operator.aura.sessions import format_duration
from aura_operator.kinds.session.model import DEFAULT_TTL, PLURAL, Phase
from aura_operator.kinds.session.placement import (
    Placement,
    SessionPass,
    SessionReason,
    memory,
    ready,
)
from aura_operator.runtime import intents
from aura_operator.runtime.conditions import SyncedReason, now_iso
from aura_operator.runtime.outcome import Outcome, synced_false, synced_ok


def observed(session: GdsSession) -> dict[str, Any]:
    """The status fields that mirror Aura's session."""
    return {
        "sessionId": session.id,
        "phase": phase_of(session),
        "host": session.host or None,
        "expiryDate": now_iso(session.expiry_date) if session.expiry_date else None,
        "memory": session.memory,
        "ttl": format_duration(session.ttl) if session.ttl else None,
        "tenantId": session.tenant_id,
        "instanceId": session.instance_id,
    }


def phase_of(session: GdsSession) -> str:
    known = (Phase.CREATING, Phase.READY, Phase.EXPIRED, Phase.FAILED)
    return session.status if session.status in known else Phase.CREATING


def pending(message: str) -> Any:
    return ready("False", SessionReason.PENDING, message)


async def create(p: SessionPass, placed: Placement) -> Outcome:
    """Size it, record the intent, POST once."""
    obj, st = p.obj, p.obj.status
    size, sizing = await memory(p)
    name = obj.aura_name
    discarded = [st.previous_session_id] if st.previous_session_id else []
    record = intents.new_record(p.now, name=name, discarded=discarded)
    attached = placed.attached
    intent: dict[str, Any] = {
        "creation": record,
        "phase": Phase.CREATING,
        "memory": size,
        "tenantId": placed.tenant_id,
        "instanceId": attached.instance_id if attached else None,
        **({"sizing": sizing} if sizing else {}),
    }
    fence = await intents.record(p.ctx, PLURAL, obj.ref, intent)
    if fence is not intents.Fence.WRITTEN:
        return intents.fenced(fence)
    try:
        result = await p.client.get_or_create_session(
            name=name,
            memory=size,
            ttl=obj.ttl or DEFAULT_TTL,
            instance_id=attached.instance_id if attached else None,
            tenant_id=None if attached else placed.tenant_id,
            cloud_provider=placed.cloud_provider,
            region=placed.region,
        )
    except AuraSessionConflict as exc:
        return conflict(p, name, exc)
    except AuraOutcomeUnknown as exc:
        message = (
            f"the request for session {name!r} got no answer ({exc.message}); the operator "
            "looks for the session by its name before it asks again"
        )
        return intents.unanswered(
            "creation",
            record,
            message,
            p.events,
            p.settings,
            conditions=[pending(message), synced_false(SyncedReason.ERROR, message)],
        )
    except (AuraBadRequest, AuraNotPermitted, AuraRateLimited, AuraPaymentRequired) as exc:
        outcome = intents.refused("creation", exc, p.events)
        outcome.status["phase"] = None
        return outcome
    session = result.session
    if session.id in discarded:
        # Aura answered with the expired session a renewal deleted (its delete has not taken
        # effect yet): not this object's; ask again once it is gone.
        message = f"waiting for Aura to finish deleting expired session {session.id}"
        return Outcome(
            conditions=[pending(message), synced_ok(message)],
            status={"creation": None},
            requeue_after=p.settings.poll_interval,
        )
    if result.created:
        p.events.event("Normal", "Created", f"Aura is creating session {session.id} ({size})")
    else:
        p.events.event(
            "Normal", "Found", f"session {name!r} exists with these parameters: {session.id}"
        )
    return Outcome(
        conditions=[
            pending(f"session {session.id} is {phase_of(session)}"),
            synced_ok(f"get-or-create answered session {session.id}"),
        ],
        status={**observed(session), "creation": intents.accepted_record(record)},
        requeue_after=0.0,
    )


def conflict(p: SessionPass, name: str, exc: AuraSessionConflict) -> Outcome:
    """409: a session of this name exists with other parameters; nothing was created."""
    listed = ", ".join(
        f"{param} (is: {is_}, requested: {want})" for param, is_, want in exc.differences
    )
    message = (
        f"session {name!r} exists in Aura with other parameters: {listed or exc.message}; "
        "change the spec to match it, choose another spec.name, or delete that session"
    )
    p.events.event("Warning", SyncedReason.INVALID_SPEC, message)
    return Outcome(
        conditions=[pending("no session"), synced_false(SyncedReason.INVALID_SPEC, message)],
        status={"creation": None, "phase": None},
    )


async def recover(p: SessionPass, placed: Placement) -> Outcome:
    """An open intent: find the session by its name before asking again."""
    intent = p.obj.status.creation
    assert intent is not None
    found = await find(p, placed, intent.name, intent.discarded_ids)
    match intents.recover(found, intent, p.settings, p.now):
        case intents.Ambiguous(candidates):
            ids = ", ".join(s.id for s in candidates)
            return intents.ambiguous(
                f"found {len(candidates)} sessions named {intent.name!r}: {ids}; delete the "
                "extra ones in Aura",
                p.events,
                pending("no session yet"),
            )
        case intents.Found(session):
            p.events.event(
                "Normal", "Recovered", f"found session {session.id} by its name {intent.name!r}"
            )
            return Outcome(
                conditions=[pending(f"session {session.id} found"), synced_ok("recovered")],
                status=observed(session),
                requeue_after=0.0,
            )
        case intents.Looking(left):
            message = (
                f"the request for session {intent.name!r} has an unknown outcome; looking for "
                f"it for {left:.0f}s more before asking again"
            )
            return intents.still_looking(message, left, p.settings, pending(message))
        case intents.NeverArrived():
            p.events.event(
                "Normal",
                "CreateNotFound",
                f"no session named {intent.name!r} appeared; asking again",
            )
            return await create(p, placed)
    raise AssertionError("unreachable")  # pragma: no cover


async def find(
    p: SessionPass, placed: Placement, name: str, discarded: list[str]
) -> list[GdsSession]:
    """The project's sessions of that name, less those an earlier renewal deleted."""
    listed = await p.client.list_sessions(tenant_id=placed.tenant_id)
    return [s for s in listed if s.name == name and s.id not in discarded]
