"""Request shapes and the retry policy of AuraClient, against a scripted MockTransport."""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import random
from collections.abc import AsyncIterator

import httpx
import pytest

from aura_operator.aura import (
    USER_AGENT,
    AuraBadRequest,
    AuraClient,
    AuraConflict,
    AuraForbidden,
    AuraNotFound,
    AuraOutcomeUnknown,
    AuraRateLimited,
    AuraServerError,
    AuraTokenError,
    AuraTransportError,
    AuraUnauthorized,
    AuraUnexpectedResponse,
    CredentialRegistry,
    Priority,
)
from tests.clock import FakeClock
from tests.contract.mock_aura import CREATED, INSTANCE, MockAura, data, error

SECRET = "client-secret-value"
TENANT = "6981ace7-efe8-4f5c-b7c5-267b5162ce91"
CREATE = {
    "name": "orders",
    "version": "5",
    "region": "europe-west1",
    "memory": "8GB",
    "type": "enterprise-db",
    "tenant_id": TENANT,
    "cloud_provider": "gcp",
}


def make_client(
    aura: MockAura,
    *,
    client_id: str = "cid",
    registry: CredentialRegistry | None = None,
    **kw: object,
) -> AuraClient:
    return AuraClient(
        base_url="https://aura.test",
        client_id=client_id,
        client_secret=SECRET,
        registry=registry or CredentialRegistry(clock=aura.clock, requests_per_minute=6000),
        transport=aura.transport(),
        rng=random.Random(7),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def aura() -> MockAura:
    return MockAura(FakeClock(autojump=True))


@pytest.fixture
async def client(aura: MockAura) -> AsyncIterator[AuraClient]:
    async with make_client(aura) as c:
        yield c


# ------------------------------------------------------------------ shapes


async def test_token_request_is_client_credentials_with_basic_auth(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on("GET", "/v1/tenants", data([{"id": TENANT, "name": "demo"}]))
    tenants = await client.list_tenants()
    assert [t.name for t in tenants] == ["demo"]
    token_req = aura.seen[0]
    assert token_req.method == "POST"
    assert token_req.path == "/oauth/token"
    assert token_req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_req.body == b"grant_type=client_credentials"
    expected = base64.b64encode(f"cid:{SECRET}".encode()).decode()
    assert token_req.headers["authorization"] == f"Basic {expected}"
    api = aura.api_requests()[0]
    assert api.headers["authorization"] == "Bearer cid.token1"
    assert api.headers["content-type"] == "application/json"
    assert api.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("aura-operator/")


async def test_token_is_cached_across_requests(aura: MockAura, client: AuraClient) -> None:
    aura.on("GET", "/v1/instances/db1d1234", data(INSTANCE))
    for _ in range(3):
        await client.get_instance("db1d1234")
    assert aura.tokens_issued == 1


async def test_token_is_refreshed_sixty_seconds_before_expiry(aura: MockAura) -> None:
    aura.on("GET", "/v1/instances/db1d1234", data(INSTANCE))
    async with make_client(aura) as client:
        await client.get_instance("db1d1234")
        aura.clock.advance(3600 - 61)
        await client.get_instance("db1d1234")
        assert aura.tokens_issued == 1
        aura.clock.advance(2)
        await client.get_instance("db1d1234")
        assert aura.tokens_issued == 2


async def test_create_sends_snake_case_body_without_none_fields(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on("POST", "/v1/instances", data(CREATED, 202))
    created = await client.create_instance(
        name="orders",
        version="5",
        region="europe-west1",
        memory="8GB",
        type="enterprise-db",
        tenant_id=TENANT,
        cloud_provider="gcp",
        storage="16GB",
        vector_optimized=None,
    )
    assert created.password.get_secret_value() == "pa55-only-once"
    body = aura.api_requests()[0].json()
    assert body == {**CREATE, "storage": "16GB"}


@pytest.mark.parametrize(
    ("call", "path"),
    [
        ("pause_instance", "/v1/instances/db1d1234/pause"),
        ("resume_instance", "/v1/instances/db1d1234/resume"),
    ],
)
async def test_action_posts_send_an_empty_json_object(
    aura: MockAura, client: AuraClient, call: str, path: str
) -> None:
    aura.on("POST", path, data({**INSTANCE, "status": "pausing"}, 202))
    instance = await getattr(client, call)("db1d1234")
    assert instance.status == "pausing"
    sent = aura.api_requests()[0]
    assert sent.body == b"{}"
    assert sent.headers["content-type"] == "application/json"


async def test_snapshot_calls_and_query_parameters(aura: MockAura, client: AuraClient) -> None:
    snap = {
        "instance_id": "db1d1234",
        "snapshot_id": "3e5e6e27-bf0a-4898-abb8-5f3050cac418",
        "profile": "AdHoc",
        "status": "Pending",
        "timestamp": "2026-11-26T10:00:00Z",
    }
    aura.on("GET", "/v1/instances/db1d1234/snapshots", data([snap]))
    aura.on(
        "POST", "/v1/instances/db1d1234/snapshots", data({"snapshot_id": snap["snapshot_id"]}, 202)
    )
    aura.on("GET", f"/v1/instances/db1d1234/snapshots/{snap['snapshot_id']}", data(snap))
    restore = f"/v1/instances/db1d1234/snapshots/{snap['snapshot_id']}/restore"
    aura.on("POST", restore, data({**INSTANCE, "status": "restoring"}, 202))
    aura.on(
        "GET",
        "/v1/instances",
        data(
            [
                {
                    "id": "db1d1234",
                    "name": "orders",
                    "tenant_id": TENANT,
                    "cloud_provider": "gcp",
                    "created_at": "2026-11-26T10:00:00Z",
                }
            ]
        ),
    )
    listed = await client.list_snapshots("db1d1234", date="2026-11-26")
    assert listed[0].status == "Pending"
    ref = await client.create_snapshot("db1d1234")
    assert (await client.get_snapshot("db1d1234", ref.snapshot_id)).profile == "AdHoc"
    assert (await client.restore_snapshot("db1d1234", ref.snapshot_id)).status == "restoring"
    summaries = await client.list_instances(tenant_id=TENANT)
    assert summaries[0].id == "db1d1234"
    assert [(s.method, s.path) for s in aura.api_requests()] == [
        ("GET", "/v1/instances/db1d1234/snapshots"),
        ("POST", "/v1/instances/db1d1234/snapshots"),
        ("GET", f"/v1/instances/db1d1234/snapshots/{snap['snapshot_id']}"),
        ("POST", restore),
        ("GET", "/v1/instances"),
    ]
    assert aura.api_requests()[1].body == b"{}"


async def test_query_parameters_are_camel_case(client: AuraClient) -> None:
    seen: list[httpx.URL] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return data([])

    aura = MockAura(FakeClock(autojump=True))
    aura.on("GET", "/v1/instances", capture)
    aura.on("GET", "/v1/instances/db1d1234/snapshots", capture)
    async with make_client(aura) as c:
        await c.list_instances(tenant_id=TENANT)
        await c.list_snapshots("db1d1234", date="2026-11-26")
    assert seen[0].params["tenantId"] == TENANT
    assert seen[1].params["date"] == "2026-11-26"


async def test_ids_cannot_change_the_path(aura: MockAura, client: AuraClient) -> None:
    aura.on("GET", "/v1/instances/..%2Ftenants", data(INSTANCE))
    with pytest.raises(ValueError, match="empty"):
        await client.get_instance("")
    await client.get_instance("../tenants")
    assert aura.api_requests()[0].path == "/v1/instances/..%2Ftenants"


async def test_patch_rename_200_and_resize_202_with_empty_body(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on(
        "PATCH",
        "/v1/instances/db1d1234",
        data({**INSTANCE, "name": "renamed"}, 200),
        httpx.Response(202, json={}),
    )
    renamed = await client.update_instance("db1d1234", name="renamed")
    assert not renamed.accepted
    assert renamed.instance is not None and renamed.instance.name == "renamed"
    resized = await client.update_instance("db1d1234", memory="16GB", storage=None)
    assert resized.accepted and resized.instance is None
    assert aura.api_requests()[1].json() == {"memory": "16GB"}
    with pytest.raises(ValueError, match="at least one field"):
        await client.update_instance("db1d1234", name=None)


async def test_delete_returns_destroying_then_404_is_not_found(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on(
        "DELETE",
        "/v1/instances/db1d1234",
        data({**INSTANCE, "status": "destroying"}, 202),
        error(404, "DB not found: db1d1234", "db-not-found"),
    )
    gone = await client.delete_instance("db1d1234")
    assert gone is not None and gone.status == "destroying"
    with pytest.raises(AuraNotFound) as info:
        await client.delete_instance("db1d1234")
    assert info.value.reason == "db-not-found"


# ------------------------------------------------------------ never resend


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_post_answered_5xx_is_sent_exactly_once(
    aura: MockAura, client: AuraClient, status: int
) -> None:
    aura.on("POST", "/v1/instances", error(status, "upstream trouble", **{"Retry-After": "1"}))
    with pytest.raises(AuraOutcomeUnknown) as info:
        await client.create_instance(**CREATE)
    assert info.value.status == status
    assert "not resent" in str(info.value)
    assert [s.method for s in aura.api_requests()] == ["POST"]


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("connection dropped")]
)
async def test_post_timeout_or_dropped_connection_is_outcome_unknown(
    aura: MockAura, client: AuraClient, exc: Exception
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    aura.on("POST", "/v1/instances", fail)
    with pytest.raises(AuraOutcomeUnknown):
        await client.create_instance(**CREATE)
    assert len(aura.api_requests()) == 1


async def test_patch_answered_502_is_sent_exactly_once(aura: MockAura, client: AuraClient) -> None:
    aura.on("PATCH", "/v1/instances/db1d1234", error(502, "bad gateway"))
    with pytest.raises(AuraOutcomeUnknown):
        await client.update_instance("db1d1234", memory="16GB")
    assert len(aura.api_requests()) == 1


# --------------------------------------------------------- retried requests


async def test_get_503_with_retry_after_is_retried_no_sooner(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on(
        "GET",
        "/v1/instances/db1d1234",
        error(503, "overloaded", **{"Retry-After": "2"}),
        data(INSTANCE),
    )
    instance = await client.get_instance("db1d1234")
    assert instance.status == "running"
    first, second = aura.api_requests()
    assert second.at - first.at >= 2.0


async def test_get_retries_are_bounded_and_backed_off(aura: MockAura) -> None:
    aura.on("GET", "/v1/instances/db1d1234", error(502, "bad gateway"))
    async with make_client(aura, max_retries=3) as client:
        with pytest.raises(AuraServerError) as info:
            await client.get_instance("db1d1234")
    sent = aura.api_requests()
    assert len(sent) == 4
    gaps = [b.at - a.at for a, b in itertools.pairwise(sent)]
    assert all(gap >= 0.5 for gap in gaps)
    assert gaps[2] >= gaps[0]  # grows (equal jitter keeps each within [d/2, d])
    assert info.value.retry_after is not None


async def test_get_connection_errors_are_retried_then_reported(aura: MockAura) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    aura.on("GET", "/v1/tenants", refuse)
    async with make_client(aura, max_retries=2) as client:
        with pytest.raises(AuraTransportError):
            await client.list_tenants()
    assert len(aura.api_requests()) == 3


async def test_delete_is_retried_on_503(aura: MockAura, client: AuraClient) -> None:
    aura.on(
        "DELETE",
        "/v1/instances/db1d1234",
        error(503, "overloaded"),
        data({**INSTANCE, "status": "destroying"}, 202),
    )
    assert (await client.delete_instance("db1d1234")) is not None
    assert len(aura.api_requests()) == 2


async def test_retry_after_beyond_the_inline_cap_raises_for_a_requeue(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on("GET", "/v1/instances/db1d1234", error(503, "maintenance", **{"Retry-After": "120"}))
    with pytest.raises(AuraServerError) as info:
        await client.get_instance("db1d1234")
    assert info.value.retry_after == pytest.approx(120)
    assert len(aura.api_requests()) == 1


# ---------------------------------------------------------------- rate limit


async def test_429_holds_same_credential_but_not_another() -> None:
    clock = FakeClock()  # manual: time moves only when the test says so
    aura = MockAura(clock)
    registry = CredentialRegistry(clock=clock, requests_per_minute=6000)
    b_sent = asyncio.Event()

    def tenants(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"].startswith("Bearer other."):
            b_sent.set()
        return data([])

    aura.on(
        "GET",
        "/v1/instances/db1d1234",
        error(429, "Too many requests", **{"Retry-After": "3"}),
        data(INSTANCE),
    )
    aura.on("GET", "/v1/tenants", tenants)
    a1 = make_client(aura, registry=registry)
    a2 = make_client(aura, registry=registry)
    b = make_client(aura, client_id="other", registry=registry)
    async with a1, a2, b:
        first = asyncio.create_task(a1.get_instance("db1d1234"))
        # No real time passes here: the loop yields until the 429 has been processed.
        while not registry.budget("cid").hold_remaining():  # noqa: ASYNC110
            await asyncio.sleep(0)
        second = asyncio.create_task(a2.list_tenants())
        third = asyncio.create_task(b.list_tenants())
        await asyncio.wait_for(b_sent.wait(), timeout=5)
        held_at = clock.monotonic()
        cid_paths = [s.path for s in aura.api_requests() if s.client_id == "cid"]
        assert cid_paths == ["/v1/instances/db1d1234"]  # a2 did not go out
        clock.advance(3.0)
        while not (first.done() and second.done()):
            clock.advance(0.01)
            await asyncio.sleep(0)
        await asyncio.gather(first, second, third)
    after = [s for s in aura.api_requests() if s.client_id == "cid"][1:]
    assert len(after) == 2
    assert all(s.at >= held_at + 3.0 for s in after)


async def test_503_with_retry_after_on_a_get_holds_the_credential_too() -> None:
    clock = FakeClock()
    aura = MockAura(clock)
    registry = CredentialRegistry(clock=clock, requests_per_minute=6000)
    aura.on(
        "GET",
        "/v1/instances/db1d1234",
        error(503, "overloaded", **{"Retry-After": "3"}),
        data(INSTANCE),
    )
    aura.on("GET", "/v1/tenants", data([]))
    a1 = make_client(aura, registry=registry)
    a2 = make_client(aura, registry=registry)
    async with a1, a2:
        first = asyncio.create_task(a1.get_instance("db1d1234"))
        while not registry.budget("cid").hold_remaining():  # noqa: ASYNC110 - no time passes
            await asyncio.sleep(0)
        second = asyncio.create_task(a2.list_tenants())
        for _ in range(20):
            await asyncio.sleep(0)
        assert [s.path for s in aura.api_requests()] == ["/v1/instances/db1d1234"]
        held_at = clock.monotonic()
        while not (first.done() and second.done()):
            clock.advance(0.05)
            await asyncio.sleep(0)
        await asyncio.gather(first, second)
    assert all(s.at >= held_at + 3.0 for s in aura.api_requests()[1:])


async def test_429_beyond_cap_raises_and_holds_later_requests_without_sending(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on("GET", "/v1/tenants", error(429, "slow down", **{"Retry-After": "40"}))
    with pytest.raises(AuraRateLimited) as info:
        await client.list_tenants()
    assert info.value.retry_after == pytest.approx(40)
    sent_before = len(aura.api_requests())
    with pytest.raises(AuraRateLimited) as again:
        await client.get_instance("db1d1234")
    assert len(aura.api_requests()) == sent_before
    assert 0 < (again.value.retry_after or 0) <= 40


async def test_429_on_post_is_not_resent(aura: MockAura, client: AuraClient) -> None:
    aura.on("POST", "/v1/instances/db1d1234/pause", error(429, "slow down", **{"Retry-After": "1"}))
    with pytest.raises(AuraRateLimited):
        await client.pause_instance("db1d1234")
    assert len(aura.api_requests()) == 1


async def test_priority_context_reaches_the_budget(aura: MockAura, client: AuraClient) -> None:
    aura.on("GET", "/v1/instances/db1d1234", data(INSTANCE))
    with client.priority(Priority.BACKGROUND):
        await client.get_instance("db1d1234")
    await client.get_instance("db1d1234")
    stats = client.budget.stats.granted_by_priority
    assert stats[Priority.BACKGROUND] == 1
    assert stats[Priority.TRANSIENT] == 1
    assert stats[Priority.CHANGE] == 1  # the token request


# ---------------------------------------------------------------------- auth


async def test_expired_token_403_is_refreshed_once(aura: MockAura, client: AuraClient) -> None:
    aura.on(
        "GET",
        "/v1/instances/db1d1234",
        error(403, "The access token has expired"),
        data(INSTANCE),
    )
    assert (await client.get_instance("db1d1234")).id == "db1d1234"
    assert aura.tokens_issued == 2
    first, second = aura.api_requests()
    assert first.headers["authorization"] != second.headers["authorization"]


async def test_post_rejected_by_auth_is_resent_once_then_fails(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on("POST", "/v1/instances/db1d1234/resume", error(401, "unauthorized"))
    with pytest.raises(AuraUnauthorized):
        await client.resume_instance("db1d1234")
    assert len(aura.api_requests()) == 2
    assert aura.tokens_issued == 2


async def test_persistent_403_is_forbidden(aura: MockAura, client: AuraClient) -> None:
    aura.on("GET", "/v1/tenants", error(403, "no permission"))
    with pytest.raises(AuraForbidden):
        await client.list_tenants()
    assert len(aura.api_requests()) == 2


async def test_wrong_credentials_give_a_token_error() -> None:
    def reject(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    clock = FakeClock(autojump=True)
    transport = httpx.MockTransport(reject)
    async with AuraClient(
        base_url="https://aura.test",
        client_id="cid",
        client_secret=SECRET,
        transport=transport,
        clock=clock,
    ) as client:
        with pytest.raises(AuraTokenError) as info:
            await client.list_tenants()
    assert info.value.status == 401
    assert "client id or secret is wrong" in str(info.value)
    assert SECRET not in str(info.value)


# --------------------------------------------------------------- typed errors


async def test_conflict_and_bad_request_carry_reason_fields_and_request_id(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on(
        "POST",
        "/v1/instances/db1d1234/pause",
        httpx.Response(
            409,
            json={
                "errors": [
                    {
                        "message": "The database is current undergoing an operation: creating",
                        "reason": "ongoing-database-operation",
                    }
                ]
            },
            headers={"X-Request-Id": "req-1"},
        ),
    )
    aura.on(
        "POST",
        "/v1/instances",
        httpx.Response(
            400,
            json={
                "errors": [{"message": "Invalid region", "reason": "invalid", "field": "region"}]
            },
        ),
    )
    with pytest.raises(AuraConflict) as conflict:
        await client.pause_instance("db1d1234")
    assert conflict.value.reason == "ongoing-database-operation"
    assert conflict.value.request_id == "req-1"
    assert conflict.value.method == "POST"
    assert conflict.value.path == "/v1/instances/db1d1234/pause"
    with pytest.raises(AuraBadRequest) as bad:
        await client.create_instance(
            name="x",
            version="5",
            region="mars-1",
            memory="8GB",
            type="enterprise-db",
            tenant_id=TENANT,
            cloud_provider="gcp",
        )
    assert bad.value.fields == ("region",)


async def test_undocumented_status_and_unwrapped_body_are_unexpected(
    aura: MockAura, client: AuraClient
) -> None:
    aura.on("GET", "/v1/tenants", httpx.Response(308, headers={"Location": "https://x"}))
    aura.on("GET", "/v1/instances/db1d1234", httpx.Response(200, json=INSTANCE))
    with pytest.raises(AuraUnexpectedResponse):
        await client.list_tenants()
    with pytest.raises(AuraUnexpectedResponse, match="data"):
        await client.get_instance("db1d1234")


async def test_unknown_instance_status_is_parsed(aura: MockAura, client: AuraClient) -> None:
    aura.on("GET", "/v1/instances/db1d1234", data({**INSTANCE, "status": "defragmenting"}))
    assert (await client.get_instance("db1d1234")).status == "defragmenting"


# ------------------------------------------------------------------ secrecy


async def test_no_secret_in_logs_reprs_or_errors(
    aura: MockAura, client: AuraClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    aura.on("POST", "/v1/instances", data(CREATED, 202))
    aura.on("GET", "/v1/instances/db1d1234", error(403, "expired"), error(500, "boom"))
    created = await client.create_instance(**CREATE)
    with pytest.raises(AuraServerError) as info:
        await client.get_instance("db1d1234")
    texts = [
        caplog.text,
        repr(client),
        repr(created),
        str(info.value),
        repr(info.value),
    ]
    for text in texts:
        for secret in (SECRET, "pa55-only-once", "cid.token1", "cid.token2"):
            assert secret not in text
