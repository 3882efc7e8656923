"""AuraClient's customer-managed key calls against the simulator over HTTP (each response is
checked against the OpenAPI document by the `sim` fixture): create, pending -> ready, list,
use at instance create, the 400 while a key is active, delete, 404."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from aura_operator.aura import AuraBadRequest, AuraClient, AuraNotFound
from aura_simulator import DEMO_TENANT_ID, Simulator
from tests.contract.conftest import _tls, eventually

KEY = {
    "name": "orders-key",
    "key_id": "arn:aws:kms:eu-west-1:1:key/1",
    "instance_type": "enterprise-db",
    "region": "europe-west1",
    "tenant_id": DEMO_TENANT_ID,
    "cloud_provider": "gcp",
}


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


async def test_a_key_from_creation_to_deletion(sim: Simulator, aura: AuraClient) -> None:
    created = await aura.create_customer_managed_key(**KEY)
    assert created.status == "pending" and created.tenant_id == DEMO_TENANT_ID
    assert created.instance_type == "enterprise-db" and created.region == "europe-west1"
    (summary,) = await aura.list_customer_managed_keys(DEMO_TENANT_ID)
    assert (summary.id, summary.name) == (created.id, "orders-key")
    ready = await eventually(
        lambda: _ready(aura, created.id), what="the key to be ready", within=10.0
    )
    assert ready.is_ready and ready.created is not None

    instance = await aura.create_instance(
        name="orders",
        version="5",
        region="europe-west1",
        memory="2GB",
        type="enterprise-db",
        tenant_id=DEMO_TENANT_ID,
        cloud_provider="gcp",
        customer_managed_key_id=created.id,
    )
    with pytest.raises(AuraBadRequest) as active:
        await aura.delete_customer_managed_key(created.id)
    assert active.value.reason == "encryption-key-is-active"

    sim.console(instance.id, "delete")
    await eventually(lambda: instance.id in sim.state.deleted, what="the instance gone")
    await aura.delete_customer_managed_key(created.id)
    with pytest.raises(AuraNotFound):
        await aura.get_customer_managed_key(created.id)
    assert await aura.list_customer_managed_keys() == []


async def _ready(aura: AuraClient, key_id: str) -> object:
    key = await aura.get_customer_managed_key(key_id)
    return key if key.is_ready else None
