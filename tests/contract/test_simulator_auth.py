"""The token endpoint and bearer authentication (docs/aura-api.md §2, §6.1-2)."""

from __future__ import annotations

import base64

import httpx
import pytest

from aura_simulator import Simulator, SimulatorConfig
from tests.contract.conftest import Api, StartSim, eventually, fetch_token, http_client


async def test_token_endpoint_issues_bearer_tokens_outside_v1(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("aura-demo", "aura-demo-secret"),
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert response.headers["X-Request-Id"]
    # There is no token endpoint under /v1.
    moved = await http.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("aura-demo", "aura-demo-secret"),
    )
    assert moved.status_code == 401


@pytest.mark.parametrize(
    ("auth", "body", "content_type", "status"),
    [
        (("aura-demo", "wrong"), "grant_type=client_credentials", None, 401),
        (("nobody", "aura-demo-secret"), "grant_type=client_credentials", None, 401),
        (None, "grant_type=client_credentials", None, 401),
        (("aura-demo", "aura-demo-secret"), "", None, 404),
        (("aura-demo", "aura-demo-secret"), "grant_type=password", None, 403),
        (
            ("aura-demo", "aura-demo-secret"),
            '{"grant_type": "client_credentials"}',
            "application/json",
            400,
        ),
    ],
    ids=["bad-secret", "unknown-client", "no-basic", "no-body", "bad-grant", "json-body"],
)
async def test_token_endpoint_errors_follow_the_docs_table(
    http: httpx.AsyncClient,
    auth: tuple[str, str] | None,
    body: str,
    content_type: str | None,
    status: int,
) -> None:
    headers = {"Content-Type": content_type or "application/x-www-form-urlencoded"}
    if auth is not None:
        encoded = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {encoded}"
    response = await http.post("/oauth/token", content=body, headers=headers)
    assert response.status_code == status
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-token", "Basic YXVyYS1kZW1vOmF1cmEtZGVtby1zZWNyZXQ="],
    ids=["missing", "empty", "unknown", "basic"],
)
async def test_missing_or_malformed_bearer_is_401(http: httpx.AsyncClient, header: str) -> None:
    headers = {"Authorization": header} if header else {}
    response = await http.get("/v1/instances", headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_bearer_scheme_is_case_insensitive(http: httpx.AsyncClient, scheme: str) -> None:
    token = await fetch_token(http)
    response = await http.get("/v1/tenants", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200


async def test_expired_token_is_403_and_a_new_token_works(sim: Simulator, api: Api) -> None:
    assert (await api.get("/v1/tenants")).status_code == 200
    assert sim.expire_tokens("aura-demo") == 1
    expired = await api.get("/v1/tenants")
    assert expired.status_code == 403
    api.token = await fetch_token(api.http)
    assert (await api.get("/v1/tenants")).status_code == 200


async def test_short_lived_tokens_expire_by_the_clock(start_sim: StartSim) -> None:
    sim = await start_sim(SimulatorConfig(token_lifetime=0.2))
    async with http_client(sim.base_url) as http:
        api = Api(http, await fetch_token(http))
        assert (await api.get("/v1/tenants")).status_code == 200

        async def expired() -> bool:
            return (await api.get("/v1/tenants")).status_code == 403

        await eventually(expired, what="the 0.2 s token to expire")


async def test_optional_token_endpoint_rate_limit(start_sim: StartSim) -> None:
    sim = await start_sim(SimulatorConfig(token_rate_limit_per_hour=3))
    async with http_client(sim.base_url) as http:
        for _ in range(3):
            await fetch_token(http)
        limited = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("aura-demo", "aura-demo-secret"),
        )
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
