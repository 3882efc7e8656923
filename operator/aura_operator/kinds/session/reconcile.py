"""One AuraGraphAnalyticsSession pass: get or create the session once, follow it, renew it.

- No session yet: create it once (create.py), or resolve an open create by its name first.
- A session: read it; `Creating` and `Ready` show as the phase (Ready=True once `Ready`), and
  the connection Secret holds its host. A spec the session does not match (Aura cannot change a
  session) is InvalidSpec listing the differences, as a 409 is.
- `Expired` (inactive for its TTL, or Aura's 7 days), or gone from Aura: phase `Expired`.
  `spec.renew: OnExpiry` deletes the expired session and creates a new one, once per expiry
  (the expired id is kept in `previousSessionId` and never taken for the new one); `Never`
  leaves it expired.
- `Failed`: phase `Failed`, nothing more is sent.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from aura_operator.aura import AuraNotFound, GdsSession
from aura_operator.aura.sessions import format_duration
from aura_operator.kinds.session.create import create, observed, phase_of, recover
from aura_operator.kinds.session.model import Phase
from aura_operator.kinds.session.placement import (
    Placement,
    SessionPass,
    SessionReason,
    memory,
    ready,
    resolve,
)
from aura_operator.kinds.session.secret import ensure_secret
from aura_operator.runtime.conditions import ConditionUpdate, SyncedReason
from aura_operator.runtime.outcome import Outcome, synced_false, synced_ok


async def reconcile_session(p: SessionPass) -> Outcome:
    """One pass (the controller's guard turns an error into an outcome)."""
    placed = await resolve(p)
    if isinstance(placed, Outcome):
        return placed
    p = p.with_client(placed.aura)
    st = p.obj.status
    if st.session_id:
        return await observe(p, placed, st.session_id)
    if st.creation is not None:
        return await recover(p, placed)
    return await create(p, placed)


async def observe(p: SessionPass, placed: Placement, session_id: str) -> Outcome:
    try:
        session = await p.client.get_session(session_id)
    except AuraNotFound:
        return await expired(p, session_id, None)
    phase = phase_of(session)
    if phase == Phase.EXPIRED:
        return await expired(p, session_id, session)
    size, sizing = await memory(p)
    status = {**observed(session), **({"sizing": sizing} if sizing else {})}
    conditions: list[ConditionUpdate] = []
    if phase != Phase.FAILED:
        conditions.append(await ensure_secret(p.ctx.kube, p.obj, session, placed.attached))
        status["connectionSecretName"] = p.obj.secret_name
    conditions.append(_ready(phase, session))
    differences = differing(p, session, size)
    if differences:
        message = (
            f"session {session.id} has other parameters than the spec: {', '.join(differences)}; "
            "Aura cannot change a session: revert the spec, or delete this object and create "
            "it again"
        )
        shown = p.obj.status.condition("Synced")
        if shown is None or shown.message != message:
            p.events.event("Warning", SyncedReason.INVALID_SPEC, message)
        # The session is still followed (its expiry, its deletion) until the spec is fixed.
        return Outcome(
            conditions=[*conditions, synced_false(SyncedReason.INVALID_SPEC, message)],
            status=status,
            requeue_after=_follow(p, phase, session),
        )
    if phase == Phase.FAILED:
        if p.obj.status.phase != Phase.FAILED:
            p.events.event("Warning", "SessionFailed", f"Aura reports session {session.id} Failed")
        done = synced_ok("the session failed; delete this object to try again")
        return Outcome(conditions=[*conditions, done], status=status, spec_applied=True)
    settled = phase == Phase.READY
    return Outcome(
        conditions=[*conditions, synced_ok(f"session {session.id} is {phase}")],
        status=status,
        spec_applied=settled,
        requeue_after=_follow(p, phase, session),
    )


def _follow(p: SessionPass, phase: str, session: GdsSession) -> float:
    return next_read(p, session) if phase == Phase.READY else p.settings.poll_interval


def next_read(p: SessionPass, session: GdsSession) -> float:
    """A Ready session is read again after the drift interval (an inactivity expiry cannot be
    foreseen), or when Aura's 7-day limit ends it, whichever comes first."""
    if session.expiry_date is None:
        return p.settings.drift_interval
    left = (session.expiry_date - p.now).total_seconds()
    return max(1.0, min(p.settings.drift_interval, left))


def _ready(phase: str, session: GdsSession) -> ConditionUpdate:
    if phase == Phase.READY:
        return ready("True", SessionReason.AVAILABLE, f"session {session.id} is Ready")
    if phase == Phase.FAILED:
        return ready("False", SessionReason.FAILED, f"Aura reports session {session.id} Failed")
    return ready("False", SessionReason.CREATING, f"Aura is creating session {session.id}")


def differing(p: SessionPass, session: GdsSession, size: str) -> list[str]:
    """The spec's parameters the session does not have, as a 409 lists them."""
    wanted = p.obj.ttl
    pairs = [
        ("name", session.name, p.obj.aura_name),
        ("memory", session.memory, size),
        ("ttl", session.ttl, wanted),
    ]
    return [
        f"{param} (is: {_text(is_)}, requested: {_text(want)})"
        for param, is_, want in pairs
        if is_ is not None and want is not None and is_ != want
    ]


def _text(value: object) -> str:
    return format_duration(value) if isinstance(value, timedelta) else str(value)


async def expired(p: SessionPass, session_id: str, session: GdsSession | None) -> Outcome:
    """Expired (or gone): renew once under OnExpiry, else show it and wait for a change."""
    st = p.obj.status
    why = "expired" if session is not None else "is gone from Aura (expired and removed)"
    if p.obj.spec.renew == "Never":
        message = f"session {session_id} {why}; spec.renew is Never, so no new one is created"
        if st.phase != Phase.EXPIRED:
            p.events.event("Normal", "Expired", message)
        status = observed(session) if session is not None else {"phase": Phase.EXPIRED}
        return Outcome(
            conditions=[ready("False", SessionReason.EXPIRED, message), synced_ok(message)],
            status={**status, "phase": Phase.EXPIRED},
            spec_applied=True,
        )
    if session is not None:
        with contextlib.suppress(AuraNotFound):
            await p.client.delete_session(session_id)
    message = f"session {session_id} {why}; creating a new one (spec.renew: OnExpiry)"
    p.events.event("Normal", "Renewing", message)
    return Outcome(
        conditions=[ready("False", SessionReason.EXPIRED, message), synced_ok(message)],
        status={
            "sessionId": None,
            "host": None,
            "expiryDate": None,
            "phase": Phase.EXPIRED,
            "creation": None,
            "previousSessionId": session_id,
            "renewals": (st.renewals or 0) + 1,
        },
        requeue_after=0.0,
    )
