"""Shared fixtures of the contract tests: a simulator per test, an authenticated httpx client,
and a deadline helper for waiting on lifecycle transitions.

Every simulator started through `sim` has its whole request log checked against the official
OpenAPI document when the test ends, so each test also checks the shapes of all the responses
it provoked.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from aura_simulator import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TENANT_ID,
    Simulator,
    SimulatorConfig,
)
from tests.contract.openapi_check import check_records

#: Lifecycle durations become milliseconds (creating: 90 s -> 90 ms).
TIME_SCALE = 1000.0

StartSim = Callable[..., Awaitable[Simulator]]


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading CA certificates takes ~50 ms per httpx client; every client here talks plain
    # HTTP to 127.0.0.1, so they share one context.
    return ssl.create_default_context()


def http_client(base_url: str) -> httpx.AsyncClient:
    """An httpx client for a simulator's base URL."""
    return httpx.AsyncClient(base_url=base_url, timeout=10.0, verify=_tls())


async def eventually(
    condition: Callable[[], Any], *, within: float = 5.0, what: str = "condition"
) -> Any:
    """Poll `condition` (sync or async) until it returns something truthy, or fail at the
    deadline. Only for waiting on the simulator's own clock; never a fixed sleep."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        # 20 ms: fine enough to see a 300 ms transient state, coarse enough that a long wait
        # stays far below the simulator's 125 requests/minute (a 429 has no `data`).
        await asyncio.sleep(0.02)


class Api:
    """A raw httpx client with a token, the way any Aura client talks to the API."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if method in ("POST", "PATCH") and "json" not in kwargs and "content" not in kwargs:
            kwargs["json"] = {}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def create(self, **overrides: Any) -> dict[str, Any]:
        """Create a professional instance (or `overrides`) and return the 202's `data`."""
        response = await self.post("/v1/instances", json=instance_body(**overrides))
        assert response.status_code == 202, response.text
        created: dict[str, Any] = response.json()["data"]
        return created


def instance_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "orders",
        "version": "5",
        "region": "europe-west1",
        "memory": "8GB",
        "type": "professional-db",
        "tenant_id": DEMO_TENANT_ID,
        "cloud_provider": "gcp",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def fetch_token(
    http: httpx.AsyncClient,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """The default configuration; override this fixture in a module to change it."""
    return SimulatorConfig()


@pytest.fixture
async def sim(sim_config: SimulatorConfig) -> AsyncIterator[Simulator]:
    async with Simulator(config=sim_config, time_scale=TIME_SCALE, seed=7) as simulator:
        yield simulator
    problems = check_records(simulator.requests)
    assert not problems, "responses that break the OpenAPI document:\n" + "\n".join(problems)


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    """Factory: `await start_sim(config, time_scale=...)` starts another simulator for this
    test (stopped and checked against the OpenAPI document at the end)."""
    started: list[Simulator] = []

    async def start(config: SimulatorConfig | None = None, **options: Any) -> Simulator:
        options.setdefault("time_scale", TIME_SCALE)
        simulator = Simulator(config=config, **options)
        await simulator.start()
        started.append(simulator)
        return simulator

    yield start
    problems: list[str] = []
    for simulator in started:
        await simulator.stop()
        problems.extend(check_records(simulator.requests))
    assert not problems, "responses that break the OpenAPI document:\n" + "\n".join(problems)


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(sim.base_url) as client:
        yield client


@pytest.fixture
async def api(http: httpx.AsyncClient) -> Api:
    return Api(http, await fetch_token(http))


async def wait_status(sim: Simulator, instance_id: str, status: str) -> None:
    """Wait until the simulator's clock has moved the instance to `status`."""

    def reached() -> bool:
        state = sim.state
        instance = state.instances.get(instance_id)
        return instance is not None and instance.status == status

    await eventually(reached, what=f"instance {instance_id} to be {status}")


async def wait_gone(sim: Simulator, instance_id: str) -> None:
    await eventually(
        lambda: instance_id not in sim.state.instances, what=f"instance {instance_id} to be gone"
    )


async def running_instance(sim: Simulator, api: Api, **overrides: Any) -> dict[str, Any]:
    created = await api.create(**overrides)
    await wait_status(sim, created["id"], "running")
    return created
