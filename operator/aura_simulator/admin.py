"""The `/_sim/` admin API: inject faults, force statuses, act "from the console", inspect, reset.

Each route is a thin wrapper over a function of this module, and `Simulator` (server.py) calls
the same functions from Python, so tests in-process and users' CI over HTTP get the same
behaviour. The admin API has no authentication: bind the simulator to 127.0.0.1.

Routes (bodies are JSON; every field is optional unless marked):

    GET    /_sim/health                      {"status": "ok"}
    GET    /_sim/state                       config, instances (with passwords), faults
    POST   /_sim/reset                       no instances, faults, log or rate-limit history
    GET    /_sim/requests[?bodies=1]         the request log;  DELETE /_sim/requests clears it
    GET    /_sim/faults                      the faults that can still fire
    POST   /_sim/faults                      a FaultSpec (faults.py), 201 with its id:
             {"route": "*" | "POST /v1/instances" | "/oauth/token" | "GET /v1/instances/*",
              "status": 503 | null, "retry_after": 5, "body": "errors" | "gateway",
              "message": "...", "count": 1 | null, "probability": 0.5,
              "duration": 30, "latency": 2.5, "drop": false, "after": false}
             `duration` (real seconds): fire on every matching request until it runs out
             (count then defaults to no limit), e.g. a 429 storm on every endpoint:
               {"route": "*", "status": 429, "retry_after": 5, "body": "gateway", "duration": 30}
             a token endpoint that resets connections, or times out, for 20 s:
               {"route": "/oauth/token", "status": null, "drop": true, "duration": 20}
               {"route": "/oauth/token", "status": null, "latency": 60, "duration": 20}
    DELETE /_sim/faults                      all faults;  DELETE /_sim/faults/{id} one
    POST   /_sim/faults/ambiguous-create     {"count": 1, "mode": "502" | "drop" | "timeout",
                                              "hold": 0, "resource": "instances" | "sessions"}
             the create (an instance, or a session's get-or-create) happens; after `hold` real
             seconds the client gets a 502, a dropped connection, or ("timeout", hold > 0) the
             real answer, too late for its timeout
    POST   /_sim/faults/failed-create        {"count": 1}: creates end in `loading failed`
    POST   /_sim/faults/failed-session-create  {"count": 1}: session creates end `Failed`
    POST   /_sim/list-lag                    {"seconds": 8, "get_seconds": 8}: instances
             created from now on appear in GET /v1/instances `seconds` real seconds after the
             create, and answer 404 on GET /v1/instances/{id} for `get_seconds` (left as it
             was when not given); answers {"list_lag": 8.0, "get_lag": 8.0}
    POST   /_sim/instances/{id}/status       {"status" (required), "then", "after"}
    POST   /_sim/instances/{id}/snapshots/{snapshotId}/status   {"status" (required)}
    POST   /_sim/instances/{id}/console      {"action" (required): delete | pause | resume |
                                              resize | rename, "name", "memory", "storage"}
    POST   /_sim/sessions/{id}/expire        the session is `Expired` now
    POST   /_sim/sessions/{id}/activity      the session was used now: its TTL starts again
    POST   /_sim/sessions/{id}/status        {"status" (required): Creating|Ready|Expired|Failed}
    POST   /_sim/tokens/expire               {"client_id"}: expire issued tokens
    GET    /_sim/config;  PATCH /_sim/config  read or change the SimulatorConfig at run time
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aura_simulator.config import SimulatorConfig
from aura_simulator.errors import ApiError, bad_request, json_body
from aura_simulator.faults import Fault, FaultSpec
from aura_simulator.model import SimInstance
from aura_simulator.sessions import SimSession

if TYPE_CHECKING:
    from aura_simulator.runtime import Runtime

_M = TypeVar("_M", bound=BaseModel)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    then: str | None = None
    after: float = Field(default=0.0, ge=0.0)


class SessionStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["Creating", "Ready", "Expired", "Failed"]


class ConsoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["delete", "pause", "resume", "resize", "rename"]
    name: str | None = None
    memory: str | None = None
    storage: str | None = None


class AmbiguousCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1)
    mode: Literal["502", "drop", "timeout"] = "502"
    #: Real seconds the answer is held after the create happened.
    hold: float = Field(default=0.0, ge=0.0)
    #: Which create: `POST /v1/instances` or `POST /v1/graph-analytics/sessions`.
    resource: Literal["instances", "sessions"] = "instances"

    @model_validator(mode="after")
    def _check(self) -> AmbiguousCreate:
        if self.mode == "timeout" and self.hold <= 0:
            raise ValueError("mode 'timeout' needs hold > 0 (longer than the client's timeout)")
        return self


class ListLag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0.0)
    get_seconds: float | None = Field(default=None, ge=0.0)


# ------------------------------------------------------------------ functions


def inject(runtime: Runtime, spec: FaultSpec) -> Fault:
    return runtime.faults.add(spec)


_CREATE_ROUTES = {
    "instances": "POST /v1/instances",
    "sessions": "POST /v1/graph-analytics/sessions",
}


def ambiguous_create(
    runtime: Runtime,
    count: int = 1,
    mode: str = "502",
    hold: float = 0.0,
    resource: str = "instances",
) -> Fault:
    """The next `count` successful creates take effect, but the client gets, after `hold` real
    seconds, a 502 (gateway body), a dropped connection, or (mode "timeout") the 202 with the
    password only once its own timeout has passed. `resource="sessions"`: the same for a
    session's get-or-create (its 200 as well as its 202)."""
    spec = AmbiguousCreate(count=count, mode=mode, hold=hold, resource=resource)
    fault = FaultSpec(
        route=_CREATE_ROUTES[spec.resource],
        status=502 if spec.mode == "502" else None,
        body="gateway",
        message="Bad Gateway",
        drop=spec.mode == "drop",
        latency=spec.hold,
        after=True,
        count=spec.count,
    )
    return runtime.faults.add(fault)


def set_list_lag(runtime: Runtime, seconds: float, get_seconds: float | None = None) -> ListLag:
    """Instances created from now on stay out of `GET /v1/instances` for `seconds`, and out of
    `GET /v1/instances/{id}` for `get_seconds` (unchanged when None); real seconds."""
    lag = ListLag(seconds=seconds, get_seconds=get_seconds)
    changes: dict[str, Any] = {"list_lag": lag.seconds}
    if lag.get_seconds is not None:
        changes["get_lag"] = lag.get_seconds
    update_config(runtime, changes)
    return lag


def fail_creates(runtime: Runtime, count: int = 1) -> None:
    """The next `count` creates end in `loading failed` instead of `running`."""
    runtime.state.failing_creates += count


def fail_session_creates(runtime: Runtime, count: int = 1) -> None:
    """The next `count` session creates end `Failed` instead of `Ready`."""
    runtime.state.failing_session_creates += count


def session_change(runtime: Runtime, session_id: str, action: str, status: str = "") -> SimSession:
    """`expire` (Expired now), `activity` (used now: the TTL starts again) or `status`."""
    state = runtime.state
    if action == "expire":
        session = state.expire_session(session_id)
    elif action == "activity":
        session = state.session_activity(session_id)
    else:
        session = state.force_session_status(session_id, status)
    runtime.save()
    return session


def force_status(runtime: Runtime, instance_id: str, change: StatusChange) -> SimInstance:
    instance = runtime.state.force_status(
        instance_id, change.status, then=change.then, after=change.after
    )
    runtime.save()
    return instance


def console(runtime: Runtime, instance_id: str, change: ConsoleChange) -> SimInstance:
    fields = change.model_dump(exclude={"action"}, exclude_none=True)
    instance = runtime.state.console(instance_id, change.action, **fields)
    runtime.save()
    return instance


def update_config(runtime: Runtime, changes: dict[str, Any]) -> SimulatorConfig:
    """Change settings at run time (durations, rate limits, token lifetime, ...)."""
    merged = runtime.config.model_dump()
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    config = SimulatorConfig.model_validate(merged)
    runtime.config = config
    runtime.state.config = config
    return config


# --------------------------------------------------------------------- routes


def _ok(payload: Any, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status)


def _parse(model: type[_M], body: dict[str, Any]) -> _M:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise bad_request(f"{field}: {first['msg']}" if field else first["msg"], field) from None


def add_routes(app: web.Application, runtime: Runtime) -> None:
    async def health(_: web.Request) -> web.Response:
        return _ok({"status": "ok"})

    async def state(_: web.Request) -> web.Response:
        return _ok(runtime.snapshot())

    async def reset(_: web.Request) -> web.Response:
        runtime.reset()
        return _ok({"reset": True})

    async def requests(request: web.Request) -> web.Response:
        bodies = request.query.get("bodies", "").lower() in ("1", "true", "yes")
        return _ok([r.to_json(with_body=bodies) for r in runtime.requests])

    async def clear_requests(_: web.Request) -> web.Response:
        runtime.requests.clear()
        return _ok({"cleared": True})

    async def faults(_: web.Request) -> web.Response:
        return _ok([f.model_dump(mode="json") for f in runtime.faults.list()])

    async def add_fault(request: web.Request) -> web.Response:
        fault = inject(runtime, _parse(FaultSpec, await json_body(request)))
        return _ok(fault.model_dump(mode="json"), 201)

    async def clear_faults(_: web.Request) -> web.Response:
        runtime.faults.clear()
        return _ok({"cleared": True})

    async def remove_fault(request: web.Request) -> web.Response:
        if not runtime.faults.remove(request.match_info["faultId"]):
            raise ApiError(404, "no such fault", "not-found")
        return _ok({"removed": True})

    async def ambiguous(request: web.Request) -> web.Response:
        spec = _parse(AmbiguousCreate, await json_body(request))
        fault = ambiguous_create(runtime, spec.count, spec.mode, spec.hold, spec.resource)
        return _ok(fault.model_dump(mode="json"), 201)

    async def list_lag(request: web.Request) -> web.Response:
        lag = _parse(ListLag, await json_body(request))
        set_list_lag(runtime, lag.seconds, lag.get_seconds)
        return _ok({"list_lag": runtime.config.list_lag, "get_lag": runtime.config.get_lag})

    async def failed_create(request: web.Request) -> web.Response:
        body = await json_body(request)
        count = body.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise bad_request("count must be a positive integer", "count")
        fail_creates(runtime, count)
        return _ok({"failing_creates": runtime.state.failing_creates}, 201)

    async def failed_session_create(request: web.Request) -> web.Response:
        count = (await json_body(request)).get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise bad_request("count must be a positive integer", "count")
        fail_session_creates(runtime, count)
        return _ok({"failing_session_creates": runtime.state.failing_session_creates}, 201)

    def _session_route(action: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            status = ""
            if action == "status":
                status = _parse(SessionStatusChange, await json_body(request)).status
            session = session_change(runtime, request.match_info["sessionId"], action, status)
            return _ok(runtime.state.session_view(session))

        return handler

    async def status(request: web.Request) -> web.Response:
        change = _parse(StatusChange, await json_body(request))
        instance = force_status(runtime, request.match_info["instanceId"], change)
        return _ok(instance.model_dump(mode="json"))

    async def snapshot_status(request: web.Request) -> web.Response:
        change = _parse(StatusChange, await json_body(request))
        snapshot = runtime.state.force_snapshot_status(
            request.match_info["instanceId"], request.match_info["snapshotId"], change.status
        )
        return _ok(snapshot.model_dump(mode="json"))

    async def console_change(request: web.Request) -> web.Response:
        change = _parse(ConsoleChange, await json_body(request))
        instance = console(runtime, request.match_info["instanceId"], change)
        return _ok(instance.model_dump(mode="json"))

    async def expire_tokens(request: web.Request) -> web.Response:
        client_id = (await json_body(request)).get("client_id")
        return _ok({"expired": runtime.tokens.expire(client_id)})

    async def get_config(_: web.Request) -> web.Response:
        return _ok(runtime.config.model_dump(mode="json"))

    async def patch_config(request: web.Request) -> web.Response:
        try:
            config = update_config(runtime, await json_body(request))
        except ValidationError as error:
            raise bad_request(str(error.errors()[0]["msg"]), "config") from None
        return _ok(config.model_dump(mode="json"))

    r = app.router
    r.add_get("/_sim/health", health)
    r.add_get("/_sim/state", state)
    r.add_post("/_sim/reset", reset)
    r.add_get("/_sim/requests", requests)
    r.add_delete("/_sim/requests", clear_requests)
    r.add_get("/_sim/faults", faults)
    r.add_post("/_sim/faults", add_fault)
    r.add_delete("/_sim/faults", clear_faults)
    r.add_delete("/_sim/faults/{faultId}", remove_fault)
    r.add_post("/_sim/faults/ambiguous-create", ambiguous)
    r.add_post("/_sim/faults/failed-create", failed_create)
    r.add_post("/_sim/faults/failed-session-create", failed_session_create)
    for action in ("expire", "activity", "status"):
        r.add_post(f"/_sim/sessions/{{sessionId}}/{action}", _session_route(action))
    r.add_post("/_sim/list-lag", list_lag)
    r.add_post("/_sim/instances/{instanceId}/status", status)
    r.add_post("/_sim/instances/{instanceId}/snapshots/{snapshotId}/status", snapshot_status)
    r.add_post("/_sim/instances/{instanceId}/console", console_change)
    r.add_post("/_sim/tokens/expire", expire_tokens)
    r.add_get("/_sim/config", get_config)
    r.add_patch("/_sim/config", patch_config)
