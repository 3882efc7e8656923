"""The `/_sim/` admin API: inject faults, force statuses, act "from the console", inspect, reset.

Each route is a thin wrapper over a function of this module, and `Simulator` (server.py) calls
the same functions from Python, so tests in-process and users' CI over HTTP get the same
behaviour. The admin API has no authentication: bind the simulator to 127.0.0.1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aura_simulator.config import SimulatorConfig
from aura_simulator.errors import ApiError, bad_request, json_body
from aura_simulator.faults import Fault, FaultSpec
from aura_simulator.model import SimInstance

if TYPE_CHECKING:
    from aura_simulator.runtime import Runtime

_M = TypeVar("_M", bound=BaseModel)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    then: str | None = None
    after: float = Field(default=0.0, ge=0.0)


class ConsoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["delete", "pause", "resume", "resize", "rename"]
    name: str | None = None
    memory: str | None = None
    storage: str | None = None


class AmbiguousCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1)
    mode: Literal["502", "drop"] = "502"


# ------------------------------------------------------------------ functions


def inject(runtime: Runtime, spec: FaultSpec) -> Fault:
    return runtime.faults.add(spec)


def ambiguous_create(runtime: Runtime, count: int = 1, mode: str = "502") -> Fault:
    """The next `count` successful creates take effect, but the client gets a 502 (gateway
    body) or a dropped connection instead of the 202 with the password."""
    spec = FaultSpec(
        route="POST /v1/instances",
        status=502 if mode == "502" else None,
        body="gateway",
        message="Bad Gateway",
        drop=mode == "drop",
        after=True,
        count=count,
    )
    return runtime.faults.add(spec)


def fail_creates(runtime: Runtime, count: int = 1) -> None:
    """The next `count` creates end in `loading failed` instead of `running`."""
    runtime.state.failing_creates += count


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
        fault = ambiguous_create(runtime, spec.count, spec.mode)
        return _ok(fault.model_dump(mode="json"), 201)

    async def failed_create(request: web.Request) -> web.Response:
        body = await json_body(request)
        count = body.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise bad_request("count must be a positive integer", "count")
        fail_creates(runtime, count)
        return _ok({"failing_creates": runtime.state.failing_creates}, 201)

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
    r.add_post("/_sim/instances/{instanceId}/status", status)
    r.add_post("/_sim/instances/{instanceId}/snapshots/{snapshotId}/status", snapshot_status)
    r.add_post("/_sim/instances/{instanceId}/console", console_change)
    r.add_post("/_sim/tokens/expire", expire_tokens)
    r.add_get("/_sim/config", get_config)
    r.add_patch("/_sim/config", patch_config)
