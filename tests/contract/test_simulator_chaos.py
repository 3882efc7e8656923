"""The simulator's faults for chaos tests, over real HTTP: a lagging instance list, faults that
last a duration (a 429 storm, a token endpoint that resets or times out) and a create that
happens but is answered late, wrongly or never."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from aura_simulator import Simulator
from aura_simulator.faults import Faults, FaultSpec
from tests.contract.conftest import Api, eventually, fetch_token, http_client, instance_body

#: Real seconds a duration fault or a lag lasts: long enough for several requests on a slow
#: machine, short enough to wait out.
WINDOW = 0.6


async def _token_request(http: httpx.AsyncClient, **kwargs: Any) -> httpx.Response:
    return await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("aura-demo", "aura-demo-secret"),
        **kwargs,
    )


async def _until_answered(
    send: Any, *, within: float = 10.0
) -> tuple[list[tuple[float, Any]], httpx.Response]:
    """Send until a request is answered 2xx; (every failed attempt with its start time, the
    answer). Failures are responses or transport exceptions."""
    failures: list[tuple[float, Any]] = []
    deadline = time.time() + within
    while time.time() < deadline:
        started = time.time()
        try:
            response = await send()
        except httpx.TransportError as error:
            failures.append((started, error))
        else:
            if response.status_code < 300:
                return failures, response
            failures.append((started, response))
        await asyncio.sleep(0.02)
    raise AssertionError(f"no 2xx answer within {within}s; last failures {failures[-3:]}")


# ------------------------------------------------------------- the lagging list


async def test_a_lagging_list_shows_a_new_instance_only_after_the_lag(
    sim: Simulator, api: Api
) -> None:
    older = await api.create(name="older")
    lag = await api.http.post("/_sim/list-lag", json={"seconds": WINDOW})
    assert lag.json() == {"list_lag": WINDOW, "get_lag": 0.0}
    before = time.time()
    created = await api.create(name="lagging")
    listed = [i["id"] for i in (await api.get("/v1/instances")).json()["data"]]
    assert listed == [older["id"]]  # instances created before the lag stay listed
    await eventually(
        lambda: sim.state.instances[created["id"]].visible_at <= time.time(), what="visibility"
    )
    assert (await api.get(f"/v1/instances/{created['id']}")).status_code == 200  # GET does not lag

    async def listed_now() -> bool:
        data = (await api.get("/v1/instances")).json()["data"]
        return created["id"] in {i["id"] for i in data}

    await eventually(listed_now, what="the instance to be listed")
    assert time.time() - before >= WINDOW


async def test_get_by_id_can_lag_too(sim: Simulator, api: Api) -> None:
    sim.list_lag(0.0, get_seconds=WINDOW)
    before = time.time()
    created = await api.create(name="unseen")
    path = f"/v1/instances/{created['id']}"
    missing = await api.get(path)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["reason"] == "db-not-found"
    assert created["id"] in {i["id"] for i in (await api.get("/v1/instances")).json()["data"]}

    async def found() -> bool:
        return (await api.get(path)).status_code == 200

    await eventually(found, what="GET to find the instance")
    assert time.time() - before >= WINDOW
    bad = await api.http.post("/_sim/list-lag", json={"seconds": -1})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "seconds"


# ------------------------------------------------------------- duration faults


async def test_a_duration_fault_fires_on_every_matching_request_until_it_ends(
    sim: Simulator, api: Api
) -> None:
    added = await api.http.post(
        "/_sim/faults", json={"route": "GET /v1/tenants", "status": 503, "duration": WINDOW}
    )
    assert added.status_code == 201
    fault = added.json()
    assert fault["count"] is None  # a duration alone has no count limit
    failures, _ = await _until_answered(lambda: api.get("/v1/tenants"))
    assert len(failures) >= 2
    assert {r.status_code for _, r in failures} == {503}
    assert max(started for started, _ in failures) < fault["expires_at"]
    assert sim.requests[-1].time >= fault["expires_at"]
    assert (await api.http.get("/_sim/faults")).json() == []  # gone once it ran out


def test_count_and_duration_end_at_whichever_comes_first() -> None:
    now = [1000.0]
    faults = Faults(clock=lambda: now[0])
    faults.add(FaultSpec(route="GET /v1/tenants", duration=10.0, count=2))
    fired = [faults.before("GET", "/v1/tenants")[1] is not None for _ in range(3)]
    assert fired == [True, True, False]
    faults.add(FaultSpec(route="GET /v1/tenants", duration=10.0))
    assert all(faults.before("GET", "/v1/tenants")[1] is not None for _ in range(50))
    now[0] += 9.99
    assert faults.before("GET", "/v1/tenants")[1] is not None
    now[0] += 0.01
    assert faults.before("GET", "/v1/tenants")[1] is None
    assert faults.list() == []


async def test_a_429_storm_on_every_endpoint(sim: Simulator, api: Api) -> None:
    sim.inject_fault("*", status=429, retry_after=5, body="gateway", duration=30.0)
    answers = [
        await api.get("/v1/tenants"),
        await api.get("/v1/instances"),
        await api.post("/v1/instances", json=instance_body()),
        await api.get("/v1/instances/deadbeef/snapshots"),
        await _token_request(api.http),
    ]
    assert [a.status_code for a in answers] == [429] * 5
    assert {a.headers["Retry-After"] for a in answers} == {"5"}
    assert sim.state.instances == {}  # nothing happened behind the 429s
    sim.clear_faults()
    await api.create()


async def test_a_token_endpoint_that_resets_connections_for_a_while(
    sim: Simulator, api: Api
) -> None:
    fault = sim.inject_fault("/oauth/token", status=None, drop=True, duration=WINDOW)
    assert (await api.get("/v1/tenants")).status_code == 200  # the API itself is fine
    failures, answer = await _until_answered(lambda: _token_request(api.http))
    assert len(failures) >= 2
    assert all(isinstance(e, httpx.RemoteProtocolError) for _, e in failures), failures
    assert fault.expires_at is not None
    assert max(started for started, _ in failures) < fault.expires_at
    assert answer.json()["access_token"]


async def test_a_token_endpoint_that_times_out_for_a_while(sim: Simulator) -> None:
    """Each token request is held for a minute: a client with a 0.2 s timeout gives up, and
    the held request does not keep the simulator from stopping."""
    sim.inject_fault("POST /oauth/token", status=None, latency=60.0, duration=WINDOW)
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=0.2) as impatient:
        failures, answer = await _until_answered(lambda: _token_request(impatient))
    assert failures
    assert all(isinstance(e, httpx.ReadTimeout) for _, e in failures), failures
    assert answer.json()["access_token"]
    stopping = time.monotonic()
    await sim.stop()
    assert time.monotonic() - stopping < 5.0


# ------------------------------------------------------------- a held create


@pytest.mark.parametrize("mode", ["502", "drop"])
async def test_a_held_create_happens_before_its_late_wrong_answer(
    sim: Simulator, api: Api, mode: str
) -> None:
    sim.ambiguous_create(mode=mode, hold=WINDOW)
    try:
        response = await api.post("/v1/instances", json=instance_body(name="held"))
    except httpx.RemoteProtocolError:
        assert mode == "drop"
    else:
        assert (mode, response.status_code) == ("502", 502)
        assert "password" not in response.text
    answered = time.time()
    (instance,) = sim.state.instances.values()
    assert instance.name == "held"
    assert answered - instance.created_at >= WINDOW  # created first, answered a hold later
    assert (await api.post("/v1/instances", json=instance_body())).status_code == 202


async def test_a_held_create_answers_after_the_clients_timeout(sim: Simulator) -> None:
    base_url = sim.base_url
    async with http_client(base_url) as http:
        bad = await http.post("/_sim/faults/ambiguous-create", json={"mode": "timeout"})
        assert bad.status_code == 400
        held = await http.post(
            "/_sim/faults/ambiguous-create", json={"mode": "timeout", "hold": 60}
        )
        assert held.status_code == 201
        assert (held.json()["latency"], held.json()["after"]) == (60.0, True)
        token = await fetch_token(http)
    async with httpx.AsyncClient(base_url=base_url, timeout=0.3) as impatient:
        api = Api(impatient, token)
        with pytest.raises(httpx.ReadTimeout):
            await api.post("/v1/instances", json=instance_body(name="late"))
    assert [i.name for i in sim.state.instances.values()] == ["late"]
    assert len(sim.instance(next(iter(sim.state.instances))).password) >= 32
    stopping = time.monotonic()
    await sim.stop()
    assert time.monotonic() - stopping < 5.0


async def test_a_slow_create_without_a_fault_status_is_answered_normally(
    sim: Simulator, api: Api
) -> None:
    sim.inject_fault("POST /v1/instances", status=None, latency=0.2, after=True)
    started = time.monotonic()
    created = await api.create(name="slow")
    assert time.monotonic() - started >= 0.2
    assert created["password"] == sim.instance(created["id"]).password
