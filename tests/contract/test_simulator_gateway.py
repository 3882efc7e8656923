"""What every response shares: envelope, errors, X-Request-Id, 415, rate limiting (docs/aura-api.md
§1,
§5, §6.19-21)."""

from __future__ import annotations

import re

import httpx
import pytest

from aura_simulator import DEMO_TENANT_ID, Simulator, SimulatorConfig
from aura_simulator.config import Credential, demo_tenant
from tests.contract.conftest import (
    Api,
    StartSim,
    fetch_token,
    http_client,
    instance_body,
    running_instance,
)

REQUEST_ID = re.compile(r"^[0-9a-f]{32}/\d{20}$")


async def test_every_response_carries_a_request_id(sim: Simulator, api: Api) -> None:
    responses = [
        await api.get("/v1/tenants"),
        await api.get("/v1/instances/deadbeef"),
        await api.http.get("/v1/instances"),  # no token: 401
        await api.post("/v1/instances", json={"name": "x"}),
        await api.http.post("/oauth/token", auth=("aura-demo", "wrong")),
        await api.get("/v1/no-such-thing"),
    ]
    ids = [r.headers.get("X-Request-Id", "") for r in responses]
    assert all(REQUEST_ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert [r.request_id for r in sim.requests][-len(ids) :] == ids


async def test_errors_use_the_documented_shape(api: Api) -> None:
    for response in (
        await api.get("/v1/instances/deadbeef"),
        await api.post("/v1/instances", json=instance_body(memory="3GB")),
        await api.get("/v1/no-such-thing"),
    ):
        assert response.headers["Content-Type"].startswith("application/json")
        errors = response.json()["errors"]
        assert {"message", "reason"} <= set(errors[0])


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("POST", "/pause"), ("POST", "/resume"), ("POST", "/snapshots"), ("PATCH", "")],
)
async def test_post_and_patch_without_json_content_type_are_415(
    sim: Simulator, api: Api, method: str, suffix: str
) -> None:
    created = await running_instance(sim, api)
    path = f"/v1/instances/{created['id']}{suffix}"
    response = await api.http.request(
        method, path, headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["message"] == (
        "Please specify the Content-Type header with a valid media type"
    )
    create = await api.http.post(
        "/v1/instances",
        content=b'{"name": "x"}',
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "text/plain"},
    )
    assert create.status_code == 415
    assert sim.instance(created["id"]).status == "running"


async def test_content_type_check_can_be_turned_off(start_sim: StartSim) -> None:
    sim = await start_sim(SimulatorConfig(require_content_type=False))
    async with http_client(sim.base_url) as http:
        api = Api(http, await fetch_token(http))
        created = await running_instance(sim, api)
        response = await http.post(
            f"/v1/instances/{created['id']}/pause",
            headers={"Authorization": f"Bearer {api.token}"},
        )
        assert response.status_code == 202


async def test_rate_limit_per_client_id_with_retry_after(start_sim: StartSim) -> None:
    config = SimulatorConfig(
        rate_limit=5,
        credentials=[
            Credential(client_id="one", client_secret="s1"),
            Credential(client_id="two", client_secret="s2"),
        ],
    )
    sim = await start_sim(config)
    async with http_client(sim.base_url) as http:
        one = Api(http, await fetch_token(http, "one", "s1"))
        two = Api(http, await fetch_token(http, "two", "s2"))
        statuses = [(await one.get("/v1/tenants")).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        limited = await one.get("/v1/tenants")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["error"]
        # Another client id has its own budget; the token endpoint is not counted.
        assert (await two.get("/v1/tenants")).status_code == 200
        assert [r.client_id for r in sim.requests if r.status == 429] == ["one", "one"]


async def test_trial_tenant_gets_the_lower_limit(start_sim: StartSim) -> None:
    trial = demo_tenant().model_copy(update={"trial": True})
    sim = await start_sim(SimulatorConfig(tenants=[trial], trial_rate_limit=3))
    assert sim.config.rate_limit_for("aura-demo") == 3
    async with http_client(sim.base_url) as http:
        api = Api(http, await fetch_token(http))
        statuses = [(await api.get("/v1/tenants")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_default_rate_limits_are_125_and_25() -> None:
    config = SimulatorConfig()
    assert config.rate_limit_for("aura-demo") == 125
    trial = SimulatorConfig(tenants=[demo_tenant().model_copy(update={"trial": True})])
    assert trial.rate_limit_for("aura-demo") == 25


async def test_a_credential_sees_only_its_tenants(start_sim: StartSim) -> None:
    other = demo_tenant().model_copy(update={"id": "11111111-2222-3333-4444-555555555555"})
    other = other.model_copy(update={"name": "other"})
    config = SimulatorConfig(
        tenants=[demo_tenant(), other],
        credentials=[
            Credential(client_id="all", client_secret="s"),
            Credential(client_id="demo-only", client_secret="s", tenants=[DEMO_TENANT_ID]),
        ],
    )
    sim = await start_sim(config)
    async with http_client(sim.base_url) as http:
        everyone = Api(http, await fetch_token(http, "all", "s"))
        limited = Api(http, await fetch_token(http, "demo-only", "s"))
        created = await everyone.create(tenant_id=other.id)
        assert len((await everyone.get("/v1/tenants")).json()["data"]) == 2
        assert (await limited.get("/v1/tenants")).json()["data"][0]["name"] == "demo"
        assert (await limited.get(f"/v1/tenants/{other.id}")).status_code == 404
        assert (await limited.get(f"/v1/instances/{created['id']}")).status_code == 404
        assert (await limited.get("/v1/instances")).json()["data"] == []


async def test_malformed_json_is_400(api: Api) -> None:
    response = await api.post("/v1/instances", content=b"{not json")
    assert response.status_code == 400
    array = await api.post("/v1/instances", content=b"[]")
    assert array.status_code == 400


async def test_plain_http_client_sees_json_on_unknown_routes(http: httpx.AsyncClient) -> None:
    token = await fetch_token(http)
    response = await http.get("/v1/nothing-here", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["reason"] == "not-found"
