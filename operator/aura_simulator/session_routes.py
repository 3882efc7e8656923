"""The `/v1/graph-analytics/sessions` routes (docs/aura-api.md §3.5), apart from app.py to keep
it small.

Like the instance routes they only translate HTTP to `SimState` calls: get-or-create (200 when
the session exists with the same parameters, 202 when it is created, 409 otherwise), list
(`?tenantId=`, `?instanceId=`, `?organizationId=`), get, delete (202 `{"id"}`) and sizing.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aura_simulator.errors import json_body
from aura_simulator.oauth import CLIENT_ID, RUNTIME
from aura_simulator.sessions import estimate
from aura_simulator.state import SimState

BASE = "/v1/graph-analytics/sessions"


def _state(request: web.Request) -> tuple[SimState, set[str]]:
    runtime = request.app[RUNTIME]
    return runtime.state, runtime.visible_tenants(request[CLIENT_ID])


def _data(payload: Any, status: int = 200) -> web.Response:
    return web.json_response({"data": payload}, status=status)


async def get_or_create(request: web.Request) -> web.Response:
    body = await json_body(request, required=True)
    state, visible = _state(request)
    # The SPEC's `user_id` is the Aura user; the simulator's users are its client ids.
    session, created = state.get_or_create_session(body, visible, request[CLIENT_ID])
    return _data(state.session_view(session), 202 if created else 200)


async def list_sessions(request: web.Request) -> web.Response:
    state, visible = _state(request)
    found = state.list_sessions(
        visible,
        tenant_id=request.query.get("tenantId") or None,
        instance_id=request.query.get("instanceId") or None,
    )
    return _data([state.session_view(s) for s in found])


async def get_session(request: web.Request) -> web.Response:
    state, visible = _state(request)
    return _data(state.session_view(state.session(request.match_info["sessionId"], visible)))


async def delete_session(request: web.Request) -> web.Response:
    state, visible = _state(request)
    session = state.delete_session(request.match_info["sessionId"], visible)
    return _data({"id": session.id}, 202)


async def sizing(request: web.Request) -> web.Response:
    return _data(estimate(await json_body(request, required=True)))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(BASE, list_sessions)
    r.add_post(BASE, get_or_create)
    r.add_post(f"{BASE}/sizing", sizing)
    r.add_get(f"{BASE}/{{sessionId}}", get_session)
    r.add_delete(f"{BASE}/{{sessionId}}", delete_session)
