"""`Simulator`: the simulated Aura API on a real socket, as an async context manager.

Tests and the demo start one with `async with Simulator(time_scale=1000) as sim:` and get its
`base_url`, its live `state`, its request log, and Python methods that do what the `/_sim/` admin
routes do.
"""

from __future__ import annotations

import socket
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from aura_simulator import admin
from aura_simulator.app import build_app
from aura_simulator.config import SimulatorConfig
from aura_simulator.faults import Fault, FaultSpec
from aura_simulator.gateway import RequestRecord
from aura_simulator.model import SimInstance
from aura_simulator.runtime import Runtime
from aura_simulator.sessions import SimSession
from aura_simulator.state import SimState


class Simulator:
    """A running simulator. `port=0` picks a free port; `base_url` has no trailing slash."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        time_scale: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_file: str | Path | None = None,
        seed: int | None = None,
    ) -> None:
        self.runtime = Runtime(config, time_scale=time_scale, state_file=state_file, seed=seed)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the simulator is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def config(self) -> SimulatorConfig:
        return self.runtime.config

    @property
    def state(self) -> SimState:
        """The live account: `state.instances[id].password`, `.status`, `.snapshots`, ..."""
        self.runtime.state.settle()
        return self.runtime.state

    @property
    def requests(self) -> list[RequestRecord]:
        return self.runtime.requests

    async def start(self) -> None:
        app = build_app(self.runtime)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            await runner.cleanup()
            raise
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            self.runtime.save()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------- the admin API, in Python

    def instance(self, instance_id: str) -> SimInstance:
        """An instance record, deleted ones included (KeyError if it never existed)."""
        state = self.state
        if instance_id in state.instances:
            return state.instances[instance_id]
        return state.deleted[instance_id]

    def inject_fault(self, route: str = "*", status: int | None = 503, **options: Any) -> Fault:
        """Answer `status` to matching requests; see `FaultSpec` for `count`, `probability`,
        `retry_after`, `latency`, `drop`, `after`, `body`."""
        return admin.inject(self.runtime, FaultSpec(route=route, status=status, **options))

    def add_latency(
        self, route: str = "*", seconds: float = 0.5, *, count: int | None = None, **options: Any
    ) -> Fault:
        spec = FaultSpec(route=route, status=None, latency=seconds, count=count, **options)
        return admin.inject(self.runtime, spec)

    def ambiguous_create(
        self, count: int = 1, mode: str = "502", *, hold: float = 0.0, resource: str = "instances"
    ) -> Fault:
        """Next `count` creates happen, but after `hold` real seconds the client gets a 502
        (`mode="502"`), a dropped connection (`mode="drop"`), or the 202 too late for its
        timeout (`mode="timeout"`, hold > 0). The password stays in `state`.
        `resource="sessions"`: the same for session get-or-creates."""
        return admin.ambiguous_create(self.runtime, count, mode, hold, resource)

    def list_lag(self, seconds: float, get_seconds: float | None = None) -> None:
        """Instances created from now on appear in `GET /v1/instances` `seconds` real seconds
        late, and on `GET /v1/instances/{id}` `get_seconds` late (unchanged when None)."""
        admin.set_list_lag(self.runtime, seconds, get_seconds)

    def fail_creates(self, count: int = 1) -> None:
        admin.fail_creates(self.runtime, count)

    def fail_session_creates(self, count: int = 1) -> None:
        """The next `count` session creates end `Failed` instead of `Ready`."""
        admin.fail_session_creates(self.runtime, count)

    def session(self, session_id: str) -> SimSession:
        """A live session record (KeyError if there is none)."""
        return self.runtime.state.sessions[session_id]

    def session_status(self, session_id: str) -> str:
        """What the API would show as the session's `status` now."""
        state = self.runtime.state
        return state.session_status(state.sessions[session_id])

    def expire_session(self, session_id: str) -> SimSession:
        """`Expired` now, as if its TTL or Aura's 7 days had run out."""
        return admin.session_change(self.runtime, session_id, "expire")

    def session_activity(self, session_id: str) -> SimSession:
        """The session was used now (the simulator sees no queries): its TTL starts again."""
        return admin.session_change(self.runtime, session_id, "activity")

    def force_session_status(self, session_id: str, status: str) -> SimSession:
        return admin.session_change(self.runtime, session_id, "status", status)

    def clear_faults(self) -> None:
        self.runtime.faults.clear()

    def force_status(
        self, instance_id: str, status: str, *, then: str | None = None, after: float = 0.0
    ) -> SimInstance:
        change = admin.StatusChange(status=status, then=then, after=after)
        return admin.force_status(self.runtime, instance_id, change)

    def console(self, instance_id: str, action: str, **fields: Any) -> SimInstance:
        """Change an instance out of band: delete, pause, resume, resize (memory/storage)
        or rename (name)."""
        change = admin.ConsoleChange.model_validate({"action": action, **fields})
        return admin.console(self.runtime, instance_id, change)

    def expire_tokens(self, client_id: str | None = None) -> int:
        return self.runtime.tokens.expire(client_id)

    def update_config(self, **changes: Any) -> SimulatorConfig:
        return admin.update_config(self.runtime, changes)

    def reset(self) -> None:
        self.runtime.reset()
