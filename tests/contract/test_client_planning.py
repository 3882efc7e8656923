"""The client's plan mode against the simulator over real HTTP: `AuraClient.planning()` sends
GETs and describes every other request instead (`AuraPlanned`, with what the last GET of the
same path answered); a witness (`send=True`) sends everything and keeps what it sent; a registry
built for `--dry-run` holds every client of the process. The simulator's log is the proof."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from aura_operator.aura import AuraClient, AuraPlanned, CredentialRegistry
from aura_simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Simulator
from tests.contract.conftest import _tls, wait_status

CREATE = {
    "name": "orders",
    "version": "5",
    "region": "europe-west1",
    "memory": "2GB",
    "type": "professional-db",
    "tenant_id": DEMO_TENANT_ID,
    "cloud_provider": "gcp",
}


def client(sim: Simulator, registry: CredentialRegistry | None = None) -> AuraClient:
    return AuraClient(
        base_url=sim.base_url,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        registry=registry or CredentialRegistry(requests_per_minute=6000.0, burst=100),
        transport=httpx.AsyncHTTPTransport(verify=_tls()),
    )


@pytest.fixture
async def aura(sim: Simulator) -> AsyncIterator[AuraClient]:
    async with client(sim) as made:
        yield made


def changes(sim: Simulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.requests if r.path.startswith("/v1/")
            and r.method != "GET"]  # fmt: skip


async def test_planning_reads_and_describes_a_create_instead_of_sending_it(
    sim: Simulator, aura: AuraClient
) -> None:
    with AuraClient.planning():
        assert AuraClient.is_planning()
        assert await aura.list_instances() == []
        with pytest.raises(AuraPlanned) as planned:
            await aura.create_instance(**CREATE)
    assert not AuraClient.is_planning()
    assert (planned.value.method, planned.value.path) == ("POST", "/v1/instances")
    assert planned.value.body == CREATE
    assert planned.value.current is None  # a list is not the object's current fields
    assert changes(sim) == []
    assert sim.state.instances == {}


async def test_a_planned_patch_carries_what_the_get_of_its_path_answered(
    sim: Simulator, aura: AuraClient
) -> None:
    created = await aura.create_instance(**CREATE)
    await wait_status(sim, created.id, "running")
    sim.requests.clear()
    with AuraClient.planning():
        await aura.get_instance(created.id)
        with pytest.raises(AuraPlanned) as planned:
            await aura.update_instance(created.id, memory="4GB")
        with pytest.raises(AuraPlanned):
            await aura.pause_instance(created.id)
        with pytest.raises(AuraPlanned):
            await aura.delete_instance(created.id)
    assert planned.value.body == {"memory": "4GB"}
    assert planned.value.current is not None and planned.value.current["memory"] == "2GB"
    assert changes(sim) == []


async def test_planning_reaches_the_tasks_a_planned_pass_starts(
    sim: Simulator, aura: AuraClient
) -> None:
    with AuraClient.planning():
        task = asyncio.ensure_future(aura.create_snapshot("abc123"))
        with pytest.raises(AuraPlanned):
            await task
    assert changes(sim) == []


async def test_a_witness_sends_and_keeps_what_it_sent(sim: Simulator, aura: AuraClient) -> None:
    with AuraClient.planning(send=True) as witness:
        assert not AuraClient.is_planning()  # intents are recorded as usual
        created = await aura.create_instance(**CREATE)
    assert witness is not None
    assert [(s.method, s.path, s.body) for s in witness.sent] == [("POST", "/v1/instances", CREATE)]
    assert changes(sim) == ["POST /v1/instances"]
    assert created.id in sim.state.instances


async def test_a_dry_run_registry_holds_every_client_but_reads_and_tokens(sim: Simulator) -> None:
    registry = CredentialRegistry(requests_per_minute=6000.0, burst=100, dry_run=True)
    async with client(sim, registry) as aura:
        assert await aura.list_tenants()
        for request in (
            aura.create_instance(**CREATE),
            aura.delete_instance("abc123"),
            aura.estimate_session_size(node_count=1, relationship_count=1),
        ):
            with pytest.raises(AuraPlanned):
                await request
    assert changes(sim) == []
    assert {r.method for r in sim.requests if r.path.startswith("/v1/")} == {"GET"}
    assert [r.path for r in sim.requests if r.method == "POST"] == ["/oauth/token"]
