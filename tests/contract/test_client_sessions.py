"""AuraClient's Graph Analytics session and metrics-integration calls against the simulator
over HTTP (each response is checked against the OpenAPI document by the `sim` fixture):
get-or-create tells 202 from 200, a 409 is a typed, non-transient error with the server's
message, the POST is never resent, and the rest reads as typed models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from aura_operator.aura import (
    AuraBadRequest,
    AuraClient,
    AuraNotFound,
    AuraOutcomeUnknown,
    AuraSessionConflict,
    SessionStatus,
)
from aura_simulator import DEMO_TENANT_ID, Simulator
from tests.contract.conftest import _tls, eventually

SESSIONS = "/v1/graph-analytics/sessions"
STANDALONE = {"tenant_id": DEMO_TENANT_ID, "cloud_provider": "azure", "region": "uksouth"}


@pytest.fixture
async def aura(sim: Simulator) -> AsyncIterator[AuraClient]:
    async with AuraClient(
        base_url=sim.base_url,
        client_id="aura-demo",
        client_secret="aura-demo-secret",
        requests_per_minute=6000.0,
        burst=100,
        transport=httpx.AsyncHTTPTransport(verify=_tls()),
    ) as client:
        yield client


def posts(sim: Simulator) -> int:
    return sum(1 for r in sim.requests if r.method == "POST" and r.path == SESSIONS)


async def test_a_session_from_get_or_create_to_deletion(sim: Simulator, aura: AuraClient) -> None:
    first = await aura.get_or_create_session(
        name="people", memory="8GB", ttl=timedelta(minutes=30), **STANDALONE
    )
    assert first.created and first.session.status == SessionStatus.CREATING
    assert not first.session.attached and first.session.database_uuid is None
    again = await aura.get_or_create_session(name="people", memory="8GB", ttl="30m", **STANDALONE)
    assert not again.created and again.session.id == first.session.id

    async def is_ready() -> bool:
        session = await aura.get_session(first.session.id)
        return session.status == SessionStatus.READY

    await eventually(is_ready, what="the session to be Ready")
    session = await aura.get_session(first.session.id)
    assert session.ttl == timedelta(minutes=30)
    assert session.expiry_date is not None and session.created_at is not None
    lifetime = session.expiry_date - session.created_at  # 7 days at the tests' time scale,
    assert abs(lifetime - timedelta(days=7) / 1000) <= timedelta(seconds=1)  # whole seconds
    (listed,) = await aura.list_sessions(tenant_id=DEMO_TENANT_ID)
    assert listed.id == session.id and listed.host == session.host

    assert await aura.delete_session(session.id) == session.id
    with pytest.raises(AuraNotFound):
        await aura.get_session(session.id)
    with pytest.raises(AuraNotFound):
        await aura.delete_session(session.id)
    assert await aura.list_sessions() == []


async def test_a_conflict_is_typed_with_the_servers_message(
    sim: Simulator, aura: AuraClient
) -> None:
    await aura.get_or_create_session(name="people", memory="8GB", **STANDALONE)
    with pytest.raises(AuraSessionConflict) as raised:
        await aura.get_or_create_session(name="people", memory="4GB", ttl="2h", **STANDALONE)
    conflict = raised.value
    assert not conflict.transient and conflict.status == 409
    assert conflict.message.startswith("session `people` already exists for project")
    assert conflict.differences == (
        ("Memory", "8GB", "4GB"),
        ("TTL", "1h0m0s", "2h0m0s"),
    )
    assert posts(sim) == 2  # never resent


async def test_an_attached_session(sim: Simulator, aura: AuraClient) -> None:
    instance = await aura.create_instance(
        name="fraud",
        version="5",
        region="europe-west1",
        memory="8GB",
        type="enterprise-ds",
        tenant_id=DEMO_TENANT_ID,
        cloud_provider="gcp",
    )
    sim.force_status(instance.id, "running")
    result = await aura.get_or_create_session(name="fraud", memory="16GB", instance_id=instance.id)
    assert result.created and result.session.attached
    assert result.session.instance_id == instance.id
    assert [s.id for s in await aura.list_sessions(instance_id=instance.id)] == [result.session.id]


async def test_the_post_is_never_resent(sim: Simulator, aura: AuraClient) -> None:
    sim.inject_fault(f"POST {SESSIONS}", status=503)
    with pytest.raises(AuraOutcomeUnknown):
        await aura.get_or_create_session(name="people", memory="8GB", **STANDALONE)
    sim.ambiguous_create(resource="sessions")
    with pytest.raises(AuraOutcomeUnknown):
        await aura.get_or_create_session(name="people", memory="8GB", **STANDALONE)
    assert posts(sim) == 2
    # The lost answer is resolved by the name: the same session, never a second one.
    (found,) = await aura.list_sessions()
    result = await aura.get_or_create_session(name="people", memory="8GB", **STANDALONE)
    assert not result.created and result.session.id == found.id
    assert len(sim.state.sessions) == 1


async def test_sizing(sim: Simulator, aura: AuraClient) -> None:
    sizing = await aura.estimate_session_size(
        node_count=1_000_000,
        relationship_count=5_000_000,
        node_property_count=512,
        node_label_count=3,
        relationship_property_count=5,
        algorithm_categories=["similarity", "community-detection"],
    )
    assert (sizing.recommended_size, sizing.estimated_memory) == ("16GB", "12GB")
    with pytest.raises(AuraBadRequest) as refused:
        await aura.estimate_session_size(
            node_count=1, relationship_count=1, algorithm_categories=["astrology"]
        )
    assert refused.value.fields == ("algorithm_categories",)


async def test_metrics_integration(sim: Simulator, aura: AuraClient) -> None:
    with pytest.raises(AuraBadRequest) as incapable:
        await aura.get_metrics_integration(DEMO_TENANT_ID)
    assert incapable.value.reason == "tenant-incapable-of-action"
    created = await aura.create_instance(
        name="orders",
        version="5",
        region="europe-west1",
        memory="2GB",
        type="business-critical",
        tenant_id=DEMO_TENANT_ID,
        cloud_provider="gcp",
    )
    integration = await aura.get_metrics_integration(DEMO_TENANT_ID)
    assert integration.endpoint.endswith(f"/{DEMO_TENANT_ID}/metrics")
    sim.force_status(created.id, "running")
    instance = await aura.get_instance(created.id)
    assert instance.metrics_integration_url == (
        f"https://customer-metrics-api.neo4j.io/api/v1/{DEMO_TENANT_ID}/{created.id}/metrics"
    )
