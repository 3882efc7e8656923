"""The operator's decision layer in one process: fake Kubernetes, real simulator, fake clock.

A `Harness` holds what the kopf handlers hold in production — an `OperatorContext` whose Kube
is the in-memory `FakeKube` and whose Settings point at an in-process Aura simulator on
127.0.0.1 — and runs passes and finalizer attempts through the same controller functions the
kopf handlers call (runtime/controller.py: `run_pass`, `finalize_once`), one at a time, under
the object's lock. Tests then assert on what a user would see (status, conditions, events,
Secrets) and on the simulator's request log (what was sent to Aura).

Time: reconcile decisions take `now` from the harness's `FakeClock` (tests/clock.py), which
starts at the real time, so a test moves the visibility window by `clock.advance()`. The
simulator keeps its own clock at `TIME_SCALE` (a 90 s create lasts 90 ms); a test waits for it
with `until()`, never with a fixed sleep.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from aura_operator.kinds.instance.connection_secret import backup_name
from aura_operator.kinds.instance.registration import INSTANCE
from aura_operator.kinds.restore.model import RESTORE_KIND, RESTORE_PLURAL
from aura_operator.kinds.restore.registration import RESTORE
from aura_operator.kinds.snapshot.model import SNAPSHOT_KIND, SNAPSHOT_PLURAL
from aura_operator.kinds.snapshot.registration import SNAPSHOT
from aura_operator.runtime.claims import InMemoryClaimStore
from aura_operator.runtime.classify import Verdict
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.controller import Finalization, Kind, finalize_once, run_pass
from aura_operator.runtime.credentials import make_client
from aura_operator.runtime.model import decode
from aura_operator.runtime.outcome import ListRecorder, Outcome
from aura_operator.runtime.settings import Settings
from aura_simulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TENANT_ID,
    RequestRecord,
    Simulator,
    SimulatorConfig,
)
from tests.clock import FakeClock
from tests.inprocess.fake_kube import FakeKube

NS = "team-a"
OPERATOR_NS = "aura-system"
#: Simulator durations become milliseconds (creating 90 s -> 90 ms, destroying 20 s -> 20 ms).
TIME_SCALE = 1000.0

#: A spec the demo tenant offers.
SPEC: dict[str, Any] = {
    "type": "professional-db",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "memory": "2GB",
}


@dataclass
class Replica:
    """One operator process: its context and where its events go."""

    ctx: OperatorContext
    events: ListRecorder = field(default_factory=ListRecorder)


@dataclass
class PassResult:
    """One reconcile pass as the loop ran it."""

    outcome: Outcome
    delay: float | None
    """What the loop would wait before the next pass (None: until the object changes)."""
    obj: dict[str, Any]
    """The object after the outcome was written."""
    events: list[tuple[str, str, str]]
    """Events of this pass: (type, reason, message)."""
    write_error: Exception | None = None
    """The outcome could not be written (the loop logs it and backs off)."""

    def condition(self, type_: str) -> dict[str, Any]:
        return condition(self.obj, type_)

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.obj.get("status") or {})

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]


@dataclass
class FinalizeResult:
    """One finalizer attempt: `result` (None of retry_after: the finalizer may go), or the
    error the handler would turn into a retry, with its verdict."""

    result: Finalization | None
    verdict: Verdict | None
    events: list[tuple[str, str, str]]

    @property
    def done(self) -> bool:
        return self.result is not None and self.result.retry_after is None

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item["type"] == type_:
            return dict(item)
    raise AssertionError(f"no {type_} condition in {obj.get('status')}")


def settings_for(sim: Simulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "api_url": sim.base_url,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": SecretStr(DEMO_CLIENT_SECRET),
        "namespace": OPERATOR_NS,
        # The budget is the client's business (tests/unit, tests/contract); here it must not
        # slow a pass down.
        "requests_per_minute": 6000.0,
        "request_burst": 1000,
        "http_timeout": 2.0,
        "connect_timeout": 1.0,
        "max_retries": 1,
        "max_inline_wait": 1.0,
        "leader_election": False,
        "metrics_port": 0,
        **overrides,
    }
    return Settings(**values)


class Harness:
    def __init__(self, sim: Simulator, settings: Settings) -> None:
        self.sim = sim
        self.settings = settings
        self.kube = FakeKube()
        self.claims = InMemoryClaimStore()
        """The claims every replica shares (the ConfigMaps of the operator's namespace)."""
        self.clock = FakeClock(time.monotonic(), wall=datetime.now(UTC))
        self.replicas: list[Replica] = []
        self.main = self.add_replica()

    @property
    def ctx(self) -> OperatorContext:
        return self.main.ctx

    @property
    def events(self) -> list[tuple[str, str, str]]:
        return self.main.events.events

    def add_replica(self) -> Replica:
        """Another operator process on the same API server and Aura account."""
        replica = Replica(OperatorContext(self.settings, self.kube, claims=self.claims))
        self.replicas.append(replica)
        return replica

    async def aclose(self) -> None:
        for replica in self.replicas:
            await replica.ctx.aclose()

    # ------------------------------------------------------------ the cluster

    def apply(self, name: str, spec: dict[str, Any] | None = None, /, **fields: Any) -> str:
        """A new AuraInstance (SPEC unless `spec` is given, with `fields` on top); its uid."""
        return self.kube.add_instance(NS, name, {**(SPEC if spec is None else spec), **fields})

    def obj(self, name: str) -> dict[str, Any]:
        return self.kube.instance(NS, name)

    def apply_snapshot(self, name: str, spec: dict[str, Any]) -> str:
        """A new AuraSnapshot (`kubectl apply`); its uid."""
        return self.kube.add_object(SNAPSHOT_PLURAL, SNAPSHOT_KIND, NS, name, spec)

    def apply_restore(self, name: str, spec: dict[str, Any]) -> str:
        """A new AuraRestore (`kubectl apply`); its uid."""
        return self.kube.add_object(RESTORE_PLURAL, RESTORE_KIND, NS, name, spec)

    def snapshot(self, name: str) -> dict[str, Any]:
        return self.kube.object(SNAPSHOT_PLURAL, NS, name)

    def restore(self, name: str) -> dict[str, Any]:
        return self.kube.object(RESTORE_PLURAL, NS, name)

    def secret(self, name: str) -> dict[str, str] | None:
        """A Secret's data, decoded; None if it does not exist."""
        body = self.kube.secret(NS, name)
        if body is None:
            return None
        return {key: decode(body, key) or "" for key in body.get("data") or {}}

    def backup(self, instance_id: str) -> dict[str, str] | None:
        body = self.kube.secret(OPERATOR_NS, backup_name(instance_id))
        if body is None:
            return None
        return {key: decode(body, key) or "" for key in body.get("data") or {}}

    # ----------------------------------------------------------------- Aura

    def requests(self, method: str | None = None, path: str | None = None) -> list[RequestRecord]:
        """The simulator's request log, without token requests; `path` may end in `*`."""
        return [
            r
            for r in self.sim.requests
            if r.path.startswith("/v1/")
            and (method is None or r.method == method)
            and (path is None or _path_matches(r.path, path))
        ]

    def changes(self) -> list[str]:
        """Every request that could change something in Aura, as `METHOD path status` (status
        None: the connection was dropped)."""
        return [f"{r.method} {r.path} {r.status}" for r in self.requests() if r.method != "GET"]

    def posts(self) -> list[RequestRecord]:
        return self.requests("POST", "/v1/instances")

    async def console_instance(self, name: str, memory: str = "2GB") -> str:
        """An instance made outside the operator (as in the Aura console), running; the request
        log is cleared so that a test sees only what the operator sends."""
        async with make_client(
            self.settings, DEMO_CLIENT_ID, SecretStr(DEMO_CLIENT_SECRET)
        ) as aura:
            created = await aura.create_instance(
                name=name,
                version="5",
                region="europe-west1",
                memory=memory,
                type="professional-db",
                tenant_id=DEMO_TENANT_ID,
                cloud_provider="gcp",
            )
        await self.until(functools.partial(self._settled, created.id), what="the instance")
        self.sim.requests.clear()
        return created.id

    def sim_status(self, instance_id: str) -> str:
        instance = self.sim.instance(instance_id)
        return "gone" if instance.deleted_at is not None else instance.status

    def _settled(self, instance_id: str) -> bool:
        return self.sim_status(instance_id) in ("running", "paused", "gone")

    async def until(
        self, check: Callable[[], bool], *, within: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait for the simulator's clock (scaled lifecycles, list lag) to make `check` true."""
        deadline = time.monotonic() + within
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within}s waiting for {what}")
            await asyncio.sleep(0.005)

    # ---------------------------------------------------------------- passes

    async def run_pass(
        self,
        name: str,
        *,
        replica: Replica | None = None,
        body: dict[str, Any] | None = None,
        background: bool = False,
    ) -> PassResult:
        """One pass of an AuraInstance as its kopf daemon runs it: read the object (or take
        `body`, a read made earlier), then the controller's pass under the object's lock."""
        return await self.pass_of(INSTANCE, name, replica=replica, body=body, background=background)

    async def snapshot_pass(self, name: str, *, replica: Replica | None = None) -> PassResult:
        """One pass of an AuraSnapshot as its kopf daemon runs it."""
        return await self.pass_of(SNAPSHOT, name, replica=replica)

    async def restore_pass(self, name: str, *, replica: Replica | None = None) -> PassResult:
        """One pass of an AuraRestore as its kopf daemon runs it."""
        return await self.pass_of(RESTORE, name, replica=replica)

    async def pass_of(
        self,
        kind: Kind[Any],
        name: str,
        *,
        namespace: str = NS,
        replica: Replica | None = None,
        body: dict[str, Any] | None = None,
        background: bool = False,
    ) -> PassResult:
        """One pass of any kind, through the production controller (runtime/controller.py)."""
        replica = replica or self.main
        ctx = replica.ctx
        if body is None:
            body = await self.kube.get_object(kind.plural, namespace, name)
            assert body is not None, f"{kind.plural}/{name} does not exist"
        state = ctx.objects.get(body["metadata"]["uid"])
        before = len(replica.events.events)
        async with state.lock:
            step = await run_pass(
                kind, ctx, body, replica.events, now=self.clock.now(), background=background
            )
        obj = self.kube.object(kind.plural, namespace, name)
        events = replica.events.events[before:]
        return PassResult(step.outcome, step.delay, obj, events, step.write_error)

    async def finalize(self, name: str, *, replica: Replica | None = None) -> FinalizeResult:
        """One finalizer attempt of an AuraInstance as its kopf handler makes it."""
        return await self.finalize_of(INSTANCE, name, replica=replica)

    async def finalize_of(
        self,
        kind: Kind[Any],
        name: str,
        *,
        namespace: str = NS,
        replica: Replica | None = None,
    ) -> FinalizeResult:
        """One finalizer attempt of any kind, through the production controller."""
        replica = replica or self.main
        before = len(replica.events.events)
        body = self.kube.object(kind.plural, namespace, name)
        step = await finalize_once(kind, replica.ctx, body, replica.events, now=self.clock.now())
        return FinalizeResult(step.result, step.verdict, replica.events.events[before:])

    async def settle(self, name: str, *, passes: int = 20) -> PassResult:
        """Run passes until the instance is Ready and Synced (waiting for the simulator's clock
        between passes that wait for Aura); fails after `passes`."""
        result = await self.run_pass(name)
        for _ in range(passes):
            ready = condition(result.obj, "Ready")["status"] == "True"
            synced = condition(result.obj, "Synced")["status"] == "True"
            state = result.status.get("state")
            if ready and synced and state == "running":
                return result
            instance_id = result.status.get("instanceId")
            if instance_id and state not in (None, "running"):
                await self.until(
                    functools.partial(self._settled, instance_id),
                    what=f"instance {instance_id} to settle",
                )
            result = await self.run_pass(name)
        raise AssertionError(f"{name} did not become Ready: {result.status}")


def _path_matches(path: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


@asynccontextmanager
async def harness(config: SimulatorConfig | None = None, **settings: Any) -> AsyncIterator[Harness]:
    """A simulator on 127.0.0.1 and an operator context on a fake API server."""
    async with Simulator(config, time_scale=TIME_SCALE) as sim:
        h = Harness(sim, settings_for(sim, **settings))
        try:
            yield h
        finally:
            await h.aclose()


def add_credential(h: Harness, name: str = "team-a", **spec: Any) -> None:
    """An AuraCredential `name` (budget 40/min) over the demo client, its Secret in the
    operator's namespace."""
    h.kube.put_secret(
        OPERATOR_NS,
        {
            "metadata": {"namespace": OPERATOR_NS, "name": "aura-team-a"},
            "data": {
                "AURA_CLIENT_ID": base64.b64encode(DEMO_CLIENT_ID.encode()).decode(),
                "AURA_CLIENT_SECRET": base64.b64encode(DEMO_CLIENT_SECRET.encode()).decode(),
            },
        },
    )
    h.kube.add_object(
        "auracredentials",
        "AuraCredential",
        "",
        name,
        {"secretRef": {"name": "aura-team-a"}, "requestsPerMinute": 40, **spec},
    )
