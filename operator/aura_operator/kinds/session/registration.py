"""AuraGraphAnalyticsSession as the controller runs it: get or create once, follow, renew, and a
finalizer that deletes the session in Aura."""

from __future__ import annotations

from aura_operator.kinds.session.delete import finalize_session
from aura_operator.kinds.session.model import KIND, PLURAL, AuraGraphAnalyticsSession
from aura_operator.kinds.session.reconcile import reconcile_session
from aura_operator.runtime.claims import AuraObject
from aura_operator.runtime.controller import Finalization, Kind, Pass
from aura_operator.runtime.outcome import Outcome


def manages(obj: AuraGraphAnalyticsSession) -> AuraObject | None:
    """The session it follows: one object per session (issue 19). Aura's get-or-create answers
    with an existing session of the same name and project, so a second object naming it would
    otherwise delete another namespace's session."""
    session_id = obj.status.session_id
    return AuraObject("session", session_id) if session_id else None


async def decide(p: Pass[AuraGraphAnalyticsSession]) -> Outcome:
    return await reconcile_session(p)


async def finalize(p: Pass[AuraGraphAnalyticsSession]) -> Finalization:
    return await finalize_session(p)


async def force_finalize(p: Pass[AuraGraphAnalyticsSession]) -> str:
    return f"session {p.obj.status.session_id or '(none)'}"


SESSION: Kind[AuraGraphAnalyticsSession] = Kind(
    name=KIND,
    plural=PLURAL,
    short="session",
    parse=AuraGraphAnalyticsSession.from_body,
    decide=decide,
    finalize=finalize,
    force_finalize=force_finalize,
    uses_credential=True,
    manages=manages,
)
