"""The `/v1/customer-managed-keys` routes (docs/aura-api.md §3.4), apart from app.py to keep it
small.

Like the instance routes, they only translate HTTP to `SimState` calls: create (202, `pending`),
list (summaries, `?tenantId=`), get (full, `pending` then `ready`) and delete (204, no body).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aura_simulator.errors import json_body
from aura_simulator.oauth import CLIENT_ID, RUNTIME
from aura_simulator.state import SimState


def _state(request: web.Request) -> tuple[SimState, set[str]]:
    runtime = request.app[RUNTIME]
    return runtime.state, runtime.visible_tenants(request[CLIENT_ID])


def _data(payload: Any, status: int = 200) -> web.Response:
    return web.json_response({"data": payload}, status=status)


async def create_key(request: web.Request) -> web.Response:
    body = await json_body(request, required=True)
    state, visible = _state(request)
    key = state.create_key(body, visible)
    return _data(key.to_api(state.key_status(key)), 202)


async def list_keys(request: web.Request) -> web.Response:
    state, visible = _state(request)
    found = state.list_keys(visible, request.query.get("tenantId") or None)
    return _data([k.to_summary() for k in found])


async def get_key(request: web.Request) -> web.Response:
    state, visible = _state(request)
    key = state.key(request.match_info["keyId"], visible)
    return _data(key.to_api(state.key_status(key)))


async def delete_key(request: web.Request) -> web.Response:
    state, visible = _state(request)
    state.delete_key(request.match_info["keyId"], visible)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/customer-managed-keys", list_keys)
    r.add_post("/v1/customer-managed-keys", create_key)
    r.add_get("/v1/customer-managed-keys/{keyId}", get_key)
    r.add_delete("/v1/customer-managed-keys/{keyId}", delete_key)
