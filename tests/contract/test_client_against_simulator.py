"""The project's `AuraClient` against the simulator over real HTTP on 127.0.0.1: every endpoint
the client has, and every error class the simulator can produce."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest

from aura_operator.aura import (
    AuraBadRequest,
    AuraClient,
    AuraConflict,
    AuraForbidden,
    AuraNotFound,
    AuraNotPermitted,
    AuraOutcomeUnknown,
    AuraPaymentRequired,
    AuraRateLimited,
    AuraTokenError,
    AuraUnauthorized,
    AuraUnsupportedForTier,
)
from aura_simulator import DEMO_TENANT_ID, Simulator
from tests.contract.conftest import _tls, eventually, wait_gone, wait_status

CREATE = {
    "name": "orders",
    "version": "5",
    "region": "europe-west1",
    "memory": "8GB",
    "type": "professional-db",
    "tenant_id": DEMO_TENANT_ID,
    "cloud_provider": "gcp",
}
MakeClient = Callable[..., AuraClient]


@pytest.fixture
async def make_client(sim: Simulator) -> AsyncIterator[MakeClient]:
    clients: list[AuraClient] = []

    def make(secret: str = "aura-demo-secret", **options: object) -> AuraClient:
        options.setdefault("requests_per_minute", 6000.0)
        options.setdefault("burst", 100)
        client = AuraClient(
            base_url=sim.base_url,
            client_id="aura-demo",
            client_secret=secret,
            transport=httpx.AsyncHTTPTransport(verify=_tls()),
            **options,  # type: ignore[arg-type]
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def aura(make_client: MakeClient) -> AuraClient:
    return make_client()


async def _visible_and(sim: Simulator, aura: AuraClient, instance_id: str, status: str) -> None:
    await wait_status(sim, instance_id, status)
    await eventually(
        lambda: sim.state.instances[instance_id].visible_at <= sim.state.now(),
        what="the instance to be visible",
    )


async def test_every_endpoint_through_a_whole_lifecycle(sim: Simulator, aura: AuraClient) -> None:
    sim.update_config(durations={"updating": 600.0})  # observable on a slow machine
    tenants = await aura.list_tenants()
    assert [t.name for t in tenants] == ["demo"]
    tenant = await aura.get_tenant(tenants[0].id)
    assert any(c.type == "free-db" for c in tenant.instance_configurations)

    created = await aura.create_instance(**CREATE)
    assert created.password.get_secret_value() == sim.instance(created.id).password
    assert created.username == "neo4j"
    await _visible_and(sim, aura, created.id, "running")
    listed = await aura.list_instances(tenant_id=DEMO_TENANT_ID)
    assert [i.id for i in listed] == [created.id]
    instance = await aura.get_instance(created.id)
    assert (instance.status, instance.memory, instance.storage) == ("running", "8GB", "16GB")

    renamed = await aura.update_instance(created.id, name="orders-2")
    assert not renamed.accepted
    assert renamed.instance is not None
    assert renamed.instance.name == "orders-2"
    resized = await aura.update_instance(created.id, memory="16GB")
    assert resized.accepted
    assert (await aura.get_instance(created.id)).status == "updating"
    await wait_status(sim, created.id, "running")
    assert (await aura.get_instance(created.id)).memory == "16GB"

    assert (await aura.pause_instance(created.id)).status == "pausing"
    await wait_status(sim, created.id, "paused")
    assert (await aura.resume_instance(created.id)).status == "resuming"
    await wait_status(sim, created.id, "running")

    ref = await aura.create_snapshot(created.id)
    snapshot = await aura.get_snapshot(created.id, ref.snapshot_id)
    assert snapshot.status in ("Pending", "InProgress")
    today = await aura.list_snapshots(created.id)
    assert ref.snapshot_id in {s.snapshot_id for s in today}
    by_date = await aura.list_snapshots(created.id, date=datetime.now(UTC).date())
    assert {s.snapshot_id for s in by_date} == {s.snapshot_id for s in today}

    async def completed() -> bool:
        return (await aura.get_snapshot(created.id, ref.snapshot_id)).status == "Completed"

    await eventually(completed, what="the snapshot to complete")
    assert (await aura.restore_snapshot(created.id, ref.snapshot_id)).status == "restoring"
    await wait_status(sim, created.id, "running")

    source = await aura.create_instance(**{**CREATE, "name": "source", "memory": "4GB"})
    await _visible_and(sim, aura, source.id, "running")
    overwritten = await aura.overwrite_instance(created.id, source_instance_id=source.id)
    assert overwritten.status == "overwriting"
    await wait_status(sim, created.id, "running")

    deleted = await aura.delete_instance(created.id)
    assert deleted is not None
    assert deleted.status == "destroying"
    with pytest.raises(AuraNotFound) as again:
        await aura.delete_instance(created.id)
    assert again.value.reason == "db-not-found"
    await wait_gone(sim, created.id)
    with pytest.raises(AuraNotFound):
        await aura.get_instance(created.id)


async def test_typed_errors(sim: Simulator, aura: AuraClient) -> None:
    with pytest.raises(AuraBadRequest) as bad:
        await aura.create_instance(**{**CREATE, "memory": "3GB"})
    assert bad.value.fields == ("memory",)
    assert bad.value.status == 400
    with pytest.raises(AuraNotFound) as tenant:
        await aura.get_tenant("00000000-0000-0000-0000-000000000000")
    assert tenant.value.reason == "tenant-not-found"

    sim.update_config(durations={"creating": 3_600_000.0, "visibility_delay": 0.0})
    creating = await aura.create_instance(**CREATE)
    with pytest.raises(AuraConflict) as conflict:
        await aura.pause_instance(creating.id)
    assert conflict.value.reason == "ongoing-database-operation"
    with pytest.raises(AuraNotFound) as snapshot:
        await aura.get_snapshot(creating.id, "nope")
    assert snapshot.value.reason == "snapshot-not-found"

    sim.update_config(durations={"creating": 90.0})
    free = await aura.create_instance(**{**CREATE, "type": "free-db", "memory": "1GB"})
    with pytest.raises(AuraNotPermitted):
        await aura.create_instance(**{**CREATE, "type": "free-db", "memory": "1GB"})
    await wait_status(sim, free.id, "running")
    with pytest.raises(AuraUnsupportedForTier):
        await aura.overwrite_instance(free.id, source_instance_id=free.id)

    sim.inject_fault(f"POST /v1/instances/{free.id}/snapshots", status=402)
    with pytest.raises(AuraPaymentRequired):
        await aura.create_snapshot(free.id)


async def test_wrong_secret_is_a_token_error(make_client: MakeClient) -> None:
    with pytest.raises(AuraTokenError) as error:
        await make_client(secret="bogus-secret-8f3e").list_tenants()
    assert error.value.status == 401
    assert "bogus-secret-8f3e" not in str(error.value)


async def test_expired_token_is_refreshed_once(sim: Simulator, aura: AuraClient) -> None:
    await aura.list_tenants()
    sim.expire_tokens()
    await aura.list_tenants()
    tail = [(r.method, r.path, r.status) for r in sim.requests[-3:]]
    assert tail == [
        ("GET", "/v1/tenants", 403),
        ("POST", "/oauth/token", 200),
        ("GET", "/v1/tenants", 200),
    ]


@pytest.mark.parametrize(("status", "error"), [(401, AuraUnauthorized), (403, AuraForbidden)])
async def test_auth_rejected_twice_is_an_error(
    sim: Simulator, aura: AuraClient, status: int, error: type[Exception]
) -> None:
    await aura.list_tenants()
    sim.inject_fault("GET /v1/tenants", status=status, count=2)
    with pytest.raises(error):
        await aura.list_tenants()


async def test_429_gives_retry_after(sim: Simulator, aura: AuraClient) -> None:
    sim.update_config(rate_limit=2)
    await aura.list_tenants()
    await aura.list_tenants()
    with pytest.raises(AuraRateLimited) as limited:
        await aura.list_tenants()
    assert limited.value.retry_after is not None
    assert limited.value.retry_after >= 1
    assert sim.requests[-1].status == 429


async def test_5xx_on_get_is_retried(sim: Simulator, aura: AuraClient) -> None:
    sim.inject_fault("GET /v1/tenants", status=503, count=1, retry_after=0)
    assert [t.name for t in await aura.list_tenants()] == ["demo"]
    statuses = [r.status for r in sim.requests if r.path == "/v1/tenants"]
    assert statuses == [503, 200]


async def test_5xx_on_create_is_never_resent(sim: Simulator, aura: AuraClient) -> None:
    sim.inject_fault("POST /v1/instances", status=503, count=1)
    with pytest.raises(AuraOutcomeUnknown):
        await aura.create_instance(**CREATE)
    assert [r.status for r in sim.requests if r.path == "/v1/instances"] == [503]
    assert sim.state.instances == {}


@pytest.mark.parametrize("mode", ["502", "drop"])
async def test_ambiguous_create_is_outcome_unknown_and_the_instance_exists(
    sim: Simulator, aura: AuraClient, mode: str
) -> None:
    sim.ambiguous_create(mode=mode)
    with pytest.raises(AuraOutcomeUnknown):
        await aura.create_instance(**CREATE)
    posts = [r for r in sim.requests if r.method == "POST" and r.path == "/v1/instances"]
    assert len(posts) == 1
    found = [i for i in await aura.list_instances() if i.name == CREATE["name"]]
    assert len(found) == 1
    assert sim.instance(found[0].id).password  # only the simulator knows it now


async def test_overwrite_into_a_smaller_instance_is_an_unknown_outcome_500(
    sim: Simulator, aura: AuraClient
) -> None:
    small = await aura.create_instance(**{**CREATE, "name": "small", "memory": "2GB"})
    big = await aura.create_instance(**{**CREATE, "name": "big", "memory": "16GB"})
    await wait_status(sim, small.id, "running")
    await wait_status(sim, big.id, "running")
    await eventually(lambda: sim.state.instances[big.id].visible_at <= sim.state.now())
    with pytest.raises(AuraOutcomeUnknown) as error:
        await aura.overwrite_instance(small.id, source_instance_id=big.id)
    assert error.value.status == 500
    assert any("Cannot clone database" in m for m in error.value.messages)
