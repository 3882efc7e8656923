"""Fault injection, forced statuses, console changes, the request log and reset, from Python."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from aura_simulator import Simulator
from tests.contract.conftest import (
    Api,
    StartSim,
    eventually,
    fetch_token,
    http_client,
    instance_body,
    running_instance,
    wait_gone,
    wait_status,
)


async def test_5xx_for_the_next_n_requests_of_a_route(sim: Simulator, api: Api) -> None:
    sim.inject_fault("POST /v1/instances", status=503, count=2, retry_after=7)
    first = await api.post("/v1/instances", json=instance_body())
    second = await api.post("/v1/instances", json=instance_body())
    assert [first.status_code, second.status_code] == [503, 503]
    assert first.headers["Retry-After"] == "7"
    assert first.json()["errors"][0]["message"]
    assert sim.state.instances == {}  # an injected error answers instead of the API
    assert (await api.get("/v1/instances")).status_code == 200  # other routes unaffected
    await api.create()
    assert len(sim.state.instances) == 1
    assert [r.fault is not None for r in sim.requests if r.path == "/v1/instances"] == [
        True,
        True,
        False,
        False,
    ]


async def test_5xx_without_retry_after_and_in_the_gateway_shape(sim: Simulator, api: Api) -> None:
    sim.inject_fault("GET /v1/instances/*", status=502, body="gateway")
    response = await api.get("/v1/instances/deadbeef")
    assert response.status_code == 502
    assert "Retry-After" not in response.headers
    assert set(response.json()) == {"error"}


async def test_a_fraction_of_requests_fails(sim: Simulator, api: Api) -> None:
    sim.inject_fault("GET /v1/tenants", status=500, count=None, probability=0.5)
    statuses = [(await api.get("/v1/tenants")).status_code for _ in range(40)]
    failures = statuses.count(500)
    assert 5 < failures < 35, statuses
    assert set(statuses) == {200, 500}


async def test_latency_delays_the_answer(sim: Simulator, api: Api) -> None:
    sim.add_latency("GET /v1/tenants", 0.3, count=1)
    started = time.monotonic()
    response = await api.get("/v1/tenants")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_dropped_connection(sim: Simulator, api: Api) -> None:
    sim.inject_fault("GET /v1/tenants", status=None, drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.get("/v1/tenants")
    assert sim.requests[-1].status is None
    assert (await api.get("/v1/tenants")).status_code == 200


@pytest.mark.parametrize("mode", ["502", "drop"])
async def test_ambiguous_create_creates_but_the_client_never_hears(
    sim: Simulator, api: Api, mode: str
) -> None:
    sim.ambiguous_create(mode=mode)
    if mode == "502":
        response = await api.post("/v1/instances", json=instance_body(name="maybe"))
        assert response.status_code == 502
        assert "password" not in response.text
    else:
        with pytest.raises(httpx.RemoteProtocolError):
            await api.post("/v1/instances", json=instance_body(name="maybe"))
    listed = (await api.get("/v1/instances")).json()["data"]
    assert [i["name"] for i in listed] == ["maybe"]
    instance_id = listed[0]["id"]
    assert len(sim.instance(instance_id).password) >= 32
    await wait_status(sim, instance_id, "running")
    assert (await api.get(f"/v1/instances/{instance_id}")).json()["data"]["name"] == "maybe"
    # The fault is used up: the next create is answered normally.
    assert (await api.post("/v1/instances", json=instance_body())).status_code == 202


async def test_ambiguous_create_is_not_used_up_by_a_failed_create(sim: Simulator, api: Api) -> None:
    sim.ambiguous_create()
    invalid = await api.post("/v1/instances", json=instance_body(memory="3GB"))
    assert invalid.status_code == 400
    assert (await api.post("/v1/instances", json=instance_body())).status_code == 502


async def test_token_endpoint_failures(sim: Simulator, http: httpx.AsyncClient) -> None:
    sim.inject_fault("POST /oauth/token", status=503, retry_after=2)
    failed = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("aura-demo", "aura-demo-secret"),
    )
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "2"
    await fetch_token(http)


async def test_force_status_with_a_later_transition(sim: Simulator, api: Api) -> None:
    created = await running_instance(sim, api)
    sim.force_status(created["id"], "suspended")
    body = (await api.get(f"/v1/instances/{created['id']}")).json()["data"]
    assert body["status"] == "suspended"
    sim.force_status(created["id"], "loading", then="loading failed", after=50.0)
    assert (await api.post(f"/v1/instances/{created['id']}/pause")).status_code == 409
    await wait_status(sim, created["id"], "loading failed")
    with pytest.raises(Exception, match="unknown status"):
        sim.force_status(created["id"], "Running")


async def test_console_changes_happen_out_of_band(sim: Simulator, api: Api) -> None:
    sim.update_config(durations={"updating": 600.0})  # observable on a slow machine
    created = await running_instance(sim, api)
    path = f"/v1/instances/{created['id']}"
    sim.console(created["id"], "resize", memory="32GB")
    assert (await api.get(path)).json()["data"]["status"] == "updating"
    await wait_status(sim, created["id"], "running")
    assert (await api.get(path)).json()["data"]["memory"] == "32GB"
    sim.console(created["id"], "rename", name="renamed-in-console")
    assert (await api.get(path)).json()["data"]["name"] == "renamed-in-console"
    sim.console(created["id"], "pause")
    await wait_status(sim, created["id"], "paused")
    sim.console(created["id"], "delete")
    await wait_gone(sim, created["id"])
    assert (await api.get(path)).status_code == 404
    assert sim.instance(created["id"]).deleted_at is not None  # kept for inspection
    console_requests = [r for r in sim.requests if "console" in r.path]
    assert console_requests == []  # console changes are not API requests


async def test_request_log_records_method_path_status_client_and_time(
    sim: Simulator, api: Api
) -> None:
    before = time.time()
    await api.get("/v1/instances", params={"tenantId": "x"})
    record = sim.requests[-1]
    assert (record.method, record.path, record.query) == ("GET", "/v1/instances", "tenantId=x")
    assert (record.status, record.client_id) == (200, "aura-demo")
    assert before <= record.time <= time.time()
    assert record.response_body == {"data": []}


async def test_reset_clears_instances_faults_and_log(sim: Simulator, api: Api) -> None:
    await api.create()
    sim.inject_fault("GET /v1/tenants", status=503, count=5)
    sim.reset()
    assert sim.state.instances == {}
    assert sim.requests == []
    assert (await api.get("/v1/tenants")).status_code == 200  # tokens survive a reset


async def test_state_file_keeps_the_account_across_restarts(
    start_sim: StartSim, tmp_path: Path
) -> None:
    state_file = tmp_path / "aura-state.json"
    first = await start_sim(None, state_file=state_file)
    async with http_client(first.base_url) as http:
        api = Api(http, await fetch_token(http))
        created = await api.create(name="persisted")
    await first.stop()
    second = await start_sim(None, state_file=state_file)
    assert second.instance(created["id"]).password == created["password"]
    await wait_status(second, created["id"], "running")
    async with http_client(second.base_url) as http:
        api = Api(http, await fetch_token(http))
        listed = (await api.get("/v1/instances")).json()["data"]
    assert [i["name"] for i in listed] == ["persisted"]


async def test_config_can_change_at_run_time(sim: Simulator, api: Api) -> None:
    sim.update_config(durations={"creating": 3_600_000.0})
    created = await api.create()
    await eventually(lambda: created["id"] in sim.state.instances)
    assert sim.instance(created["id"]).status == "creating"
    assert sim.config.durations.pausing == 45.0  # other durations keep their values
