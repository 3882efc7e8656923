"""The finalizer decision of an AuraGraphAnalyticsSession: deleting the object deletes the
session. A create whose answer was lost is looked for by name first (for the visibility
window), so that a session made by it is not left running and billed."""

from __future__ import annotations

from aura_operator.aura import AuraNotFound
from aura_operator.kinds.session.create import find
from aura_operator.kinds.session.placement import Placement, SessionPass, client_of
from aura_operator.runtime import intents
from aura_operator.runtime.controller import DONE, Finalization


async def finalize_session(p: SessionPass) -> Finalization:
    """One attempt; raises on trouble (the controller retries through classify.py)."""
    st = p.obj.status
    if st.session_id is None and st.creation is None:
        return DONE
    p = p.with_client(await client_of(p))
    ids = [st.session_id] if st.session_id else []
    if not ids and st.creation is not None:
        placed = Placement(p.client, st.tenant_id, None)
        intent = st.creation
        ids = [s.id for s in await find(p, placed, intent.name, intent.discarded_ids)]
        left = intents.window_left(intent, p.settings, p.now)
        if not ids and left > 0:
            return Finalization(
                intents.look_again_in(left, p.settings),
                f"looking for session {intent.name!r}, whose create got no answer, for "
                f"{left:.0f}s more before letting go",
            )
    for session_id in ids:
        try:
            await p.client.delete_session(session_id)
        except AuraNotFound:
            continue
        p.events.event("Normal", "Deleted", f"deleted session {session_id} in Aura")
    return DONE
