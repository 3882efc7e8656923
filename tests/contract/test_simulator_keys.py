"""Customer-managed keys over real HTTP (docs/aura-api.md §3.4): pending then ready, summaries in
lists,
use at create, 204 on delete and `encryption-key-is-active` while an instance uses the key."""

from __future__ import annotations

from typing import Any

import pytest

from aura_simulator import DEMO_TENANT_ID, Simulator, SimulatorConfig
from tests.contract.conftest import Api, StartSim, fetch_token, http_client, wait_gone, wait_status

KEYS = "/v1/customer-managed-keys"


def key_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "key_id": "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k",
        "name": "Production Key",
        "instance_type": "enterprise-db",
        "region": "europe-west1",
        "tenant_id": DEMO_TENANT_ID,
        "cloud_provider": "gcp",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def vdc_body(key: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "encrypted",
        "version": "5",
        "region": "europe-west1",
        "memory": "8GB",
        "type": "enterprise-db",
        "tenant_id": DEMO_TENANT_ID,
        "cloud_provider": "gcp",
        "customer_managed_key_id": key,
    }
    body.update(overrides)
    return body


async def test_a_key_is_pending_then_ready_then_encrypts_an_instance_and_is_deleted(
    sim: Simulator, api: Api
) -> None:
    sim.update_config(durations={"key_pending": 3_600_000.0})
    created = await api.post(KEYS, json=key_body())
    assert created.status_code == 202
    key = created.json()["data"]
    assert key["status"] == "pending"
    assert (key["type"], key["instance_type"], key["region"]) == (
        "enterprise-db",
        "enterprise-db",
        "europe-west1",
    )
    listed = (await api.get(KEYS)).json()["data"]
    assert listed == [{"id": key["id"], "name": "Production Key", "tenant_id": DEMO_TENANT_ID}]
    assert (await api.get(KEYS, params={"tenantId": "someone-else"})).json()["data"] == []
    path = f"{KEYS}/{key['id']}"
    assert (await api.get(path)).json()["data"]["status"] == "pending"
    too_early = await api.post("/v1/instances", json=vdc_body(key["id"]))
    assert too_early.status_code == 400
    assert too_early.json()["errors"][0]["field"] == "customer_managed_key_id"

    sim.update_config(durations={"key_pending": 0.0})
    assert (await api.get(path)).json()["data"]["status"] == "ready"
    instance = await api.post("/v1/instances", json=vdc_body(key["id"]))
    assert instance.status_code == 202
    instance_id = instance.json()["data"]["id"]
    assert sim.instance(instance_id).customer_managed_key_id == key["id"]

    in_use = await api.delete(path)
    assert in_use.status_code == 400
    assert in_use.json()["errors"][0] == {
        "message": f"Can not delete encryption key {key['id']}. "
        "The key is linked to an active instance.",
        "reason": "encryption-key-is-active",
    }
    await wait_status(sim, instance_id, "running")
    assert (await api.delete(f"/v1/instances/{instance_id}")).status_code == 202
    await wait_gone(sim, instance_id)
    deleted = await api.delete(path)
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = await api.get(path)
    assert gone.status_code == 404
    assert gone.json()["errors"][0] == {
        "message": f"Encryption Key not found: {key['id']}",
        "reason": "encryption-key-not-found",
    }
    assert (await api.delete(path)).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"key_id": None}, "key_id"),
        ({"name": ""}, "name"),
        ({"instance_type": "professional-db"}, "instance_type"),
        ({"cloud_provider": "ibm"}, "cloud_provider"),
        ({"region": "mars-north1"}, "region"),
        ({"colour": "blue"}, "colour"),
        ({"tenant_id": "nope"}, "tenant_id"),
    ],
)
async def test_an_invalid_key_is_400_naming_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post(KEYS, json=key_body(**overrides))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


async def test_an_instance_needs_a_key_of_its_own_kind(sim: Simulator, api: Api) -> None:
    unknown = await api.post("/v1/instances", json=vdc_body("no-such-key"))
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["message"] == "Encryption Key not found: no-such-key"
    key = (await api.post(KEYS, json=key_body(instance_type="enterprise-ds"))).json()["data"]
    sim.update_config(durations={"key_pending": 0.0})
    mismatch = await api.post("/v1/instances", json=vdc_body(key["id"]))
    assert mismatch.status_code == 400
    assert "enterprise-ds" in mismatch.json()["errors"][0]["message"]
    professional = await api.post("/v1/instances", json=vdc_body(key["id"], type="professional-db"))
    assert professional.status_code == 400
    assert professional.json()["errors"][0]["field"] == "customer_managed_key_id"
    assert sim.state.instances == {}


async def test_keys_survive_a_restart_with_a_state_file(start_sim: StartSim, tmp_path: Any) -> None:
    state_file = tmp_path / "state.json"
    first = await start_sim(None, state_file=state_file)
    async with http_client(first.base_url) as http:
        api = Api(http, await fetch_token(http))
        key = (await api.post(KEYS, json=key_body())).json()["data"]
    await first.stop()
    second = await start_sim(None, state_file=state_file)
    async with http_client(second.base_url) as http:
        api = Api(http, await fetch_token(http))
        assert (await api.get(f"{KEYS}/{key['id']}")).json()["data"]["name"] == key["name"]


async def test_on_demand_snapshots_can_be_refused_with_402(start_sim: StartSim) -> None:
    sim = await start_sim(SimulatorConfig(no_adhoc_snapshots=["free-db"]))
    async with http_client(sim.base_url) as http:
        api = Api(http, await fetch_token(http))
        free = await api.create(name="free", type="free-db", memory="1GB")
        paid = await api.create(name="paid")
        await wait_status(sim, free["id"], "running")
        await wait_status(sim, paid["id"], "running")
        refused = await api.post(f"/v1/instances/{free['id']}/snapshots")
        assert refused.status_code == 402
        assert refused.json()["errors"][0]["message"]
        assert (await api.post(f"/v1/instances/{paid['id']}/snapshots")).status_code == 202
    adhoc = [s for s in sim.instance(free["id"]).snapshots if s.profile == "AdHoc"]
    assert adhoc == []
