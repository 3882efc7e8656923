"""The simulated Aura API as an `aiohttp.web` application: `/oauth/token` and `/v1/...`.

One middleware does what Aura's gateway does, in this order: log the request, apply injected
faults, authenticate the bearer token (401 missing/malformed, 403 expired), count the request
against its client id's rate limit (429 + `Retry-After`), require `Content-Type:
application/json` on POST/PATCH (415), then run the route and stamp `X-Request-Id`. The routes
themselves only translate HTTP to `SimState` calls and wrap results in `{"data": ...}`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from aura_simulator import admin, key_routes, session_routes
from aura_simulator.errors import ApiError, error_body, json_body
from aura_simulator.faults import Fault
from aura_simulator.gateway import RequestRecord, request_id
from aura_simulator.model import METRICS_TYPES
from aura_simulator.oauth import CLIENT_ID, RUNTIME, basic, bearer, token
from aura_simulator.runtime import Runtime

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def data(payload: Any, status: int = 200) -> web.Response:
    return web.json_response({"data": payload}, status=status)


def api_error(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=error.headers)


def _runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def _visible(request: web.Request) -> set[str]:
    return _runtime(request).visible_tenants(request[CLIENT_ID])


# ------------------------------------------------------------------- gateway


def _authenticate(runtime: Runtime, request: web.Request) -> str:
    token = bearer(request)
    issued = runtime.tokens.lookup(token) if token else None
    config = runtime.config
    if issued is None or config.credential(issued.client_id) is None:
        raise ApiError(
            config.invalid_token_status,
            "The request could not be authenticated: missing or invalid bearer token",
            "unauthorized",
        )
    request[CLIENT_ID] = issued.client_id
    if runtime.tokens.is_expired(issued):
        raise ApiError(
            config.expired_token_status,
            "The access token has expired; request a new one from /oauth/token",
            "forbidden",
        )
    return issued.client_id


def _identify(runtime: Runtime, request: web.Request) -> str | None:
    """The client id a request claims (for the log only; nothing is verified here)."""
    token = bearer(request)
    issued = runtime.tokens.lookup(token) if token else None
    if issued is not None:
        return issued.client_id
    credentials = basic(request)
    return credentials[0] if credentials else None


def _gate(runtime: Runtime, request: web.Request) -> None:
    client_id = _authenticate(runtime, request)
    config = runtime.config
    wait = runtime.limiter.check(
        client_id, config.rate_limit_for(client_id), config.rate_limit_window
    )
    if wait is not None:
        raise ApiError(
            429,
            "API rate limit exceeded",
            shape="gateway",
            headers={"Retry-After": str(wait)},
        )
    if (
        request.method in ("POST", "PATCH")
        and config.require_content_type
        and request.content_type != "application/json"
    ):
        raise ApiError(
            415,
            "Please specify the Content-Type header with a valid media type",
            "unsupported-media-type",
        )


def _fault_response(fault: Fault) -> web.Response:
    message = fault.message or f"Injected fault: HTTP {fault.status}"
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    body = error_body(message, "injected-fault", shape=fault.body)
    return web.json_response(body, status=fault.status or 500, headers=headers)


def _body_of(response: web.StreamResponse) -> Any:
    if isinstance(response, web.Response) and response.body is not None:
        try:
            return json.loads(bytes(response.body))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
    return None


@web.middleware
async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
    runtime = _runtime(request)
    rid = request_id()
    if request.path.startswith("/_sim"):
        admin_response = await _run(request, handler)
        admin_response.headers["X-Request-Id"] = rid
        return admin_response
    record = RequestRecord(
        method=request.method,
        path=request.path,
        query=request.query_string,
        status=None,
        client_id=_identify(runtime, request),
        time=time.time(),
        request_id=rid,
    )
    runtime.log(record)
    latency, fault = runtime.faults.before(request.method, request.path)
    if latency:
        await _hold(request, latency)
    if fault is not None:
        record.fault = fault.describe()
        if fault.drop:
            _drop(request)
            return web.Response(status=502)  # never reaches the client
        response: web.StreamResponse = _fault_response(fault)
    else:
        if request.path.startswith("/v1/"):
            try:
                _gate(runtime, request)
            except ApiError as error:
                record.client_id = request.get(CLIENT_ID, record.client_id)
                return _finish(record, api_error(error), rid)
        response = await _run(request, handler)
        record.client_id = request.get(CLIENT_ID, record.client_id)
        if response.status < 300:
            if request.method in ("POST", "PATCH", "DELETE") and request.path.startswith("/v1/"):
                runtime.save()
            after = runtime.faults.after(request.method, request.path)
            if after is not None:
                record.fault = after.describe()
                if after.latency:
                    await _hold(request, after.latency)
                if after.drop:
                    _drop(request)
                    return web.Response(status=502)
                if after.status is not None:
                    response = _fault_response(after)
    return _finish(record, response, rid)


def _finish(record: RequestRecord, response: web.StreamResponse, rid: str) -> web.StreamResponse:
    record.status = response.status
    record.response_body = _body_of(response)
    response.headers["X-Request-Id"] = rid
    return response


async def _hold(request: web.Request, seconds: float) -> None:
    """Wait `seconds` (real time), or less if the client has gone: a client that timed out
    cannot tell, and a held request then does not keep the simulator from stopping."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(min(left, 0.05))


def _drop(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def _run(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return api_error(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        reason = "not-found" if error.status == 404 else "http-error"
        headers = {k: v for k, v in error.headers.items() if k.lower() != "content-type"}
        return web.json_response(
            error_body(error.reason, reason), status=error.status, headers=headers
        )


# ------------------------------------------------------------------- tenants


async def list_tenants(request: web.Request) -> web.Response:
    tenants = _runtime(request).config.visible_tenants(request[CLIENT_ID])
    return data([{"id": t.id, "name": t.name} for t in tenants])


async def get_tenant(request: web.Request) -> web.Response:
    tenant = _runtime(request).state.tenant(request.match_info["tenantId"], _visible(request))
    configurations = [c.model_dump() for c in tenant.instance_configurations]
    return data({"id": tenant.id, "name": tenant.name, "instance_configurations": configurations})


async def metrics_integration(request: web.Request) -> web.Response:
    state = _runtime(request).state
    tenant = state.tenant(request.match_info["tenantId"], _visible(request))
    eligible = [i for i in state.list_instances(None, tenant.id) if i.type in METRICS_TYPES]
    if not eligible:  # CLI tenant get.go: 400 when no instance is eligible (not in the SPEC)
        raise ApiError(
            400,
            "This tenant has no instances eligible for metrics integration",
            "tenant-incapable-of-action",
        )
    url = f"https://customer-metrics-api.neo4j.io/api/v1/{tenant.id}/metrics"
    return data({"endpoint": url})


# ----------------------------------------------------------------- instances


async def list_instances(request: web.Request) -> web.Response:
    tenant_id = request.query.get("tenantId") or None
    found = _runtime(request).state.list_instances(_visible(request), tenant_id)
    return data([i.to_summary() for i in found])


async def create_instance(request: web.Request) -> web.Response:
    body = await json_body(request, required=True)
    instance = _runtime(request).state.create_instance(body, _visible(request))
    return data(instance.to_created(), 202)


async def get_instance(request: web.Request) -> web.Response:
    instance = _runtime(request).state.instance(request.match_info["instanceId"], _visible(request))
    return data(instance.to_api())


async def update_instance(request: web.Request) -> web.Response:
    runtime = _runtime(request)
    body = await json_body(request)
    instance, accepted = runtime.state.update_instance(
        request.match_info["instanceId"], body, _visible(request)
    )
    if not accepted:
        return data(instance.to_api())
    if runtime.config.patch_accepted_body == "instance":
        return data(instance.to_api(), 202)
    return web.json_response({}, status=202)


async def delete_instance(request: web.Request) -> web.Response:
    state = _runtime(request).state
    instance = state.delete_instance(request.match_info["instanceId"], _visible(request))
    return data(instance.to_api(), 202)


def _action(name: str, status: int = 202) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        state = _runtime(request).state
        instance_id = request.match_info["instanceId"]
        body = await json_body(request)
        visible = _visible(request)
        if name == "pause":
            instance = state.pause(instance_id, visible)
        elif name == "resume":
            instance = state.resume(instance_id, visible)
        elif name == "overwrite":
            instance = state.overwrite(instance_id, body, visible)
        else:
            instance = state.upgrade(instance_id, body, visible)
        return data(instance.to_api(), status)

    return handler


# ----------------------------------------------------------------- snapshots


async def list_snapshots(request: web.Request) -> web.Response:
    state = _runtime(request).state
    found = state.list_snapshots(
        request.match_info["instanceId"], request.query.get("date"), _visible(request)
    )
    return data([state.snapshot_view(s) for s in found])


async def create_snapshot(request: web.Request) -> web.Response:
    await json_body(request)
    state = _runtime(request).state
    snapshot = state.create_snapshot(request.match_info["instanceId"], _visible(request))
    return data({"snapshot_id": snapshot.snapshot_id}, 202)


async def get_snapshot(request: web.Request) -> web.Response:
    state = _runtime(request).state
    snapshot = state.get_snapshot(
        request.match_info["instanceId"], request.match_info["snapshotId"], _visible(request)
    )
    return data(state.snapshot_view(snapshot))


async def restore_snapshot(request: web.Request) -> web.Response:
    await json_body(request)
    instance = _runtime(request).state.restore(
        request.match_info["instanceId"], request.match_info["snapshotId"], _visible(request)
    )
    return data(instance.to_api(), 202)


def build_app(runtime: Runtime) -> web.Application:
    app = web.Application(middlewares=[gateway])
    app[RUNTIME] = runtime
    r = app.router
    r.add_post("/oauth/token", token)
    r.add_get("/v1/tenants", list_tenants)
    r.add_get("/v1/tenants/{tenantId}", get_tenant)
    r.add_get("/v1/tenants/{tenantId}/metrics-integration", metrics_integration)
    r.add_get("/v1/instances", list_instances)
    r.add_post("/v1/instances", create_instance)
    r.add_get("/v1/instances/{instanceId}", get_instance)
    r.add_patch("/v1/instances/{instanceId}", update_instance)
    r.add_delete("/v1/instances/{instanceId}", delete_instance)
    for name in ("pause", "resume", "overwrite"):
        r.add_post(f"/v1/instances/{{instanceId}}/{name}", _action(name))
    r.add_post("/v1/instances/{instanceId}/upgrade", _action("upgrade", 200))
    r.add_get("/v1/instances/{instanceId}/snapshots", list_snapshots)
    r.add_post("/v1/instances/{instanceId}/snapshots", create_snapshot)
    r.add_get("/v1/instances/{instanceId}/snapshots/{snapshotId}", get_snapshot)
    r.add_post("/v1/instances/{instanceId}/snapshots/{snapshotId}/restore", restore_snapshot)
    key_routes.add_routes(app)
    session_routes.add_routes(app)
    admin.add_routes(app, runtime)
    return app
