"""Tenants and instances over real HTTP: shapes, lifecycle, validation (docs/aura-api.md §3.1-3.2,
§4, §6)."""

from __future__ import annotations

from typing import Any

import pytest

from aura_simulator import DEMO_TENANT_ID, Simulator, SimulatorConfig
from aura_simulator.config import Durations, demo_tenant
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


async def test_tenants_list_and_detail_with_instance_configurations(api: Api) -> None:
    tenants = (await api.get("/v1/tenants")).json()["data"]
    assert tenants == [{"id": DEMO_TENANT_ID, "name": "demo"}]
    tenant = (await api.get(f"/v1/tenants/{DEMO_TENANT_ID}")).json()["data"]
    configurations = tenant["instance_configurations"]
    assert {c["cloud_provider"] for c in configurations} == {"gcp", "aws", "azure"}
    assert {c["type"] for c in configurations} >= {
        "professional-db",
        "enterprise-db",
        "business-critical",
        "free-db",
        "enterprise-ds",
    }
    memories = {c["memory"] for c in configurations}
    assert {"1GB", "64GB"} <= memories
    assert len({c["region"] for c in configurations}) >= 6
    missing = await api.get("/v1/tenants/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["reason"] == "tenant-not-found"


async def test_create_returns_the_password_exactly_once(sim: Simulator, api: Api) -> None:
    created = await api.create(name="orders")
    assert created["username"] == "neo4j"
    assert created["password"] == sim.instance(created["id"]).password
    assert created["connection_url"] == f"neo4j+s://{created['id']}.databases.neo4j.io"
    assert len(created["id"]) == 8
    assert int(created["id"], 16) >= 0
    assert "status" not in created
    assert "memory" not in created
    await wait_status(sim, created["id"], "running")
    responses = [
        await api.get(f"/v1/instances/{created['id']}"),
        await api.get("/v1/instances"),
        await api.patch(f"/v1/instances/{created['id']}", json={"name": "renamed"}),
        await api.post(f"/v1/instances/{created['id']}/pause"),
    ]
    for response in responses:
        assert response.status_code < 300, response.text
        assert created["password"] not in response.text
        assert "password" not in response.text


async def test_list_items_are_summaries_and_filter_by_tenant(sim: Simulator, api: Api) -> None:
    created = await api.create()
    listed = (await api.get("/v1/instances")).json()["data"]
    assert listed == [
        {
            "id": created["id"],
            "name": "orders",
            "tenant_id": DEMO_TENANT_ID,
            "cloud_provider": "gcp",
            "created_at": created["created_at"],
        }
    ]
    filtered = await api.get("/v1/instances", params={"tenantId": DEMO_TENANT_ID})
    assert [i["id"] for i in filtered.json()["data"]] == [created["id"]]
    other = await api.get("/v1/instances", params={"tenantId": "another-tenant"})
    assert other.json()["data"] == []


async def test_duplicate_names_create_a_second_instance(sim: Simulator, api: Api) -> None:
    first = await api.create(name="same")
    second = await api.create(name="same")
    assert first["id"] != second["id"]
    assert first["password"] != second["password"]
    names = [i["name"] for i in (await api.get("/v1/instances")).json()["data"]]
    assert names == ["same", "same"]


async def test_creating_becomes_running_and_get_shows_the_full_instance(
    sim: Simulator, api: Api
) -> None:
    created = await api.create(memory="16GB")
    await wait_status(sim, created["id"], "running")
    instance = (await api.get(f"/v1/instances/{created['id']}")).json()["data"]
    assert instance["status"] == "running"
    assert (instance["memory"], instance["storage"]) == ("16GB", "32GB")
    assert instance["region"] == "europe-west1"
    assert instance["type"] == "professional-db"


async def test_just_created_instance_may_404_for_a_while(start_sim: StartSim) -> None:
    config = SimulatorConfig(durations=Durations(visibility_delay=300.0))  # 0.3 s at 1000x
    sim = await start_sim(config)
    async with http_client(sim.base_url) as http:
        api = Api(http, await fetch_token(http))
        created = await api.create()
        early = await api.get(f"/v1/instances/{created['id']}")
        assert early.status_code == 404
        assert early.json()["errors"][0]["reason"] == "db-not-found"

        async def visible() -> bool:
            return (await api.get(f"/v1/instances/{created['id']}")).status_code == 200

        await eventually(visible, what="the instance to become visible")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"memory": "3GB"}, "memory"),
        ({"memory": "128GB"}, "memory"),
        ({"region": "mars-north1"}, "region"),
        ({"region": "us-east-1"}, "region"),  # an AWS region asked for on GCP
        ({"type": "enterprise-xx"}, "type"),
        ({"cloud_provider": "ibm"}, "cloud_provider"),
        ({"version": "3"}, "version"),
        ({"version": "4", "type": "business-critical", "memory": "8GB"}, "version"),
        ({"storage": "17GB"}, "storage"),
        ({"name": ""}, "name"),
        ({"name": "x" * 31}, "name"),
        ({"name": " padded"}, "name"),
        ({"name": None}, "name"),
        ({"tenant_id": "not-a-tenant"}, "tenant_id"),
        ({"memory": None}, "memory"),
        ({"secondaries_count": 1}, "secondaries_count"),
        ({"cdc_enrichment_mode": "FULL"}, "cdc_enrichment_mode"),
        ({"source_snapshot_id": "3e5e6e27-bf0a-4898-abb8-5f3050cac418"}, "source_instance_id"),
        ({"memory": "2GB", "vector_optimized": True}, "vector_optimized"),
        ({"type": "enterprise-db", "graph_analytics_plugin": True}, "graph_analytics_plugin"),
        ({"type": "free-db", "memory": "1GB", "cloud_provider": "aws"}, "cloud_provider"),
        ({"type": "free-db", "memory": "2GB"}, "memory"),
    ],
)
async def test_invalid_create_is_400_naming_the_field(
    sim: Simulator, api: Api, overrides: dict[str, Any], field: str
) -> None:
    response = await api.post("/v1/instances", json=instance_body(**overrides))
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert error["message"]
    assert sim.state.instances == {}


async def test_invalid_value_message_lists_the_allowed_values(api: Api) -> None:
    response = await api.post("/v1/instances", json=instance_body(memory="3GB"))
    message = response.json()["errors"][0]["message"]
    assert "3GB" in message
    assert "8GB" in message
    assert "64GB" in message


async def test_name_limit_counts_characters_not_bytes(api: Api) -> None:
    created = await api.create(name="ö" * 30)  # 60 bytes, 30 characters
    assert created["name"] == "ö" * 30


async def test_free_tier_rules(sim: Simulator, api: Api) -> None:
    free = await api.create(type="free-db", memory="1GB", name="free")
    second = await api.post(
        "/v1/instances", json=instance_body(type="free-db", memory="1GB", name="free2")
    )
    assert second.status_code == 405
    await wait_status(sim, free["id"], "running")
    instance = (await api.get(f"/v1/instances/{free['id']}")).json()["data"]
    assert "storage" not in instance
    assert isinstance(instance["graph_nodes"], int)
    pause = await api.post(f"/v1/instances/{free['id']}/pause")
    assert pause.status_code == 400
    resize = await api.patch(f"/v1/instances/{free['id']}", json={"memory": "2GB"})
    assert resize.status_code == 400
    assert resize.json()["errors"][0]["field"] == "memory"
    overwrite = await api.post(
        f"/v1/instances/{free['id']}/overwrite", json={"source_instance_id": free["id"]}
    )
    assert overwrite.status_code == 420


async def test_instance_limit_answers_405(start_sim: StartSim) -> None:
    tenant = demo_tenant().model_copy(update={"instance_limit": 2})
    sim = await start_sim(SimulatorConfig(tenants=[tenant]))
    async with http_client(sim.base_url) as http:
        api = Api(http, await fetch_token(http))
        await api.create()
        await api.create()
        third = await api.post("/v1/instances", json=instance_body())
        assert third.status_code == 405
        assert third.json()["errors"][0]["message"]
        assert len(sim.state.instances) == 2


async def test_patch_rename_is_200_and_resize_is_202_then_updating(
    sim: Simulator, api: Api
) -> None:
    sim.update_config(durations={"updating": 600.0})  # observable on a slow machine
    created = await running_instance(sim, api)
    path = f"/v1/instances/{created['id']}"
    rename = await api.patch(path, json={"name": "orders-2"})
    assert rename.status_code == 200
    assert rename.json()["data"]["name"] == "orders-2"
    assert rename.json()["data"]["status"] == "running"
    resize = await api.patch(path, json={"memory": "16GB"})
    assert resize.status_code == 202
    assert resize.json() == {}  # the SPEC's 202 schema is an empty object
    during = (await api.get(path)).json()["data"]
    assert during["status"] == "updating"
    again = await api.patch(path, json={"memory": "32GB"})
    assert again.status_code == 409
    assert again.json()["errors"][0]["reason"] == "ongoing-database-operation"
    await wait_status(sim, created["id"], "running")
    after = (await api.get(path)).json()["data"]
    assert (after["memory"], after["storage"]) == ("16GB", "32GB")
    storage_only = await api.patch(path, json={"storage": "64GB"})
    assert storage_only.status_code == 202
    await wait_status(sim, created["id"], "running")
    assert (await api.get(path)).json()["data"]["storage"] == "64GB"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"memory": "3GB"}, "memory"),
        ({"storage": "4GB"}, "storage"),  # smaller than the 8GB memory's storage
        ({"name": "  x"}, "name"),
        ({"colour": "blue"}, "colour"),
        ({"secondaries_count": 2}, "secondaries_count"),  # professional-db
        ({"cdc_enrichment_mode": "FULL"}, "cdc_enrichment_mode"),
        ({"vector_optimized": "yes"}, "vector_optimized"),
    ],
)
async def test_invalid_patch_is_400_naming_the_field(
    sim: Simulator, api: Api, body: dict[str, Any], field: str
) -> None:
    created = await running_instance(sim, api)
    response = await api.patch(f"/v1/instances/{created['id']}", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == field
    assert sim.state.instances[created["id"]].status == "running"


async def test_patch_only_fields_on_vdc(sim: Simulator, api: Api) -> None:
    created = await running_instance(sim, api, type="enterprise-db")
    path = f"/v1/instances/{created['id']}"
    assert (await api.get(path)).json()["data"]["secondaries_count"] == 0
    response = await api.patch(path, json={"secondaries_count": 2, "cdc_enrichment_mode": "DIFF"})
    assert response.status_code == 202
    await wait_status(sim, created["id"], "running")
    instance = (await api.get(path)).json()["data"]
    assert (instance["secondaries_count"], instance["cdc_enrichment_mode"]) == (2, "DIFF")
    assert instance["metrics_integration_url"].startswith("https://")


async def test_patch_202_body_can_carry_the_instance(start_sim: StartSim) -> None:
    sim = await start_sim(SimulatorConfig(patch_accepted_body="instance"))
    async with http_client(sim.base_url) as http:
        api = Api(http, await fetch_token(http))
        created = await running_instance(sim, api)
        response = await api.patch(f"/v1/instances/{created['id']}", json={"memory": "4GB"})
        assert response.status_code == 202
        assert response.json()["data"]["status"] == "updating"


async def test_delete_is_202_destroying_then_404(sim: Simulator, api: Api) -> None:
    sim.update_config(durations={"destroying": 600.0})  # observable on a slow machine
    created = await running_instance(sim, api)
    path = f"/v1/instances/{created['id']}"
    deleted = await api.delete(path)
    assert deleted.status_code == 202
    assert deleted.json()["data"]["status"] == "destroying"
    assert (await api.get(path)).json()["data"]["status"] == "destroying"
    second = await api.delete(path)
    assert second.status_code == 404
    assert second.json()["errors"][0]["reason"] == "db-not-found"
    await wait_gone(sim, created["id"])
    gone = await api.get(path)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["message"] == f"DB not found: {created['id']}"
    assert (await api.get("/v1/instances")).json()["data"] == []


async def test_pause_and_resume(sim: Simulator, api: Api) -> None:
    created = await running_instance(sim, api)
    path = f"/v1/instances/{created['id']}"
    pause = await api.post(f"{path}/pause")
    assert pause.status_code == 202
    assert pause.json()["data"]["status"] == "pausing"
    await wait_status(sim, created["id"], "paused")
    assert (await api.post(f"{path}/pause")).status_code == 409
    resume = await api.post(f"{path}/resume")
    assert resume.status_code == 202
    assert resume.json()["data"]["status"] == "resuming"
    await wait_status(sim, created["id"], "running")
    assert (await api.post(f"{path}/resume")).status_code == 409


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("POST", "/pause", {}),
        ("POST", "/resume", {}),
        ("DELETE", "", None),
        ("PATCH", "", {"memory": "16GB"}),
        ("POST", "/overwrite", {"source_instance_id": "SELF"}),
        ("POST", "/snapshots", {}),
    ],
)
async def test_lifecycle_calls_while_creating_are_409(
    sim: Simulator, api: Api, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    sim.update_config(durations={"creating": 3_600_000.0, "visibility_delay": 0.0})
    created = await api.create()
    if body and body.get("source_instance_id") == "SELF":
        body = {"source_instance_id": created["id"]}
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    response = await api.request(method, f"/v1/instances/{created['id']}{suffix}", **kwargs)
    assert response.status_code == 409, response.text
    error = response.json()["errors"][0]
    assert error["reason"] == "ongoing-database-operation"
    assert error["message"] == "The database is current undergoing an operation: creating"


async def test_overwrite_rules(sim: Simulator, api: Api) -> None:
    target = await running_instance(sim, api, memory="8GB")
    big = await running_instance(sim, api, memory="32GB", name="big")
    small = await running_instance(sim, api, memory="4GB", name="small")
    path = f"/v1/instances/{target['id']}/overwrite"
    missing = await api.post(path, json={})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "source_instance_id"
    unknown = await api.post(path, json={"source_instance_id": "deadbeef"})
    assert unknown.status_code == 404
    disparity = await api.post(path, json={"source_instance_id": big["id"]})
    assert disparity.status_code == 500
    assert disparity.json()["errors"][0]["message"] == (
        f"Cannot clone database {big['id']} into smaller database {target['id']}."
    )
    accepted = await api.post(path, json={"source_instance_id": small["id"]})
    assert accepted.status_code == 202
    assert accepted.json()["data"]["status"] == "overwriting"
    await wait_status(sim, target["id"], "running")


async def test_upgrade_professional_to_business_critical(sim: Simulator, api: Api) -> None:
    created = await running_instance(sim, api)
    response = await api.post(f"/v1/instances/{created['id']}/upgrade")
    assert response.status_code == 200
    await wait_status(sim, created["id"], "running")
    instance = (await api.get(f"/v1/instances/{created['id']}")).json()["data"]
    assert instance["type"] == "business-critical"
    assert instance["id"] == created["id"]


async def test_loading_failed_is_reachable_by_fault_injection(sim: Simulator, api: Api) -> None:
    sim.fail_creates(1)
    failed = await api.create(name="broken")
    await wait_status(sim, failed["id"], "loading failed")
    body = (await api.get(f"/v1/instances/{failed['id']}")).json()["data"]
    assert body["status"] == "loading failed"
    fine = await running_instance(sim, api, name="fine")
    assert sim.instance(fine["id"]).status == "running"


async def test_metrics_integration_needs_an_eligible_instance(sim: Simulator, api: Api) -> None:
    path = f"/v1/tenants/{DEMO_TENANT_ID}/metrics-integration"
    refused = await api.get(path)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["reason"] == "tenant-incapable-of-action"
    await api.create(type="business-critical")
    endpoint = (await api.get(path)).json()["data"]["endpoint"]
    assert endpoint.startswith("https://")
    assert DEMO_TENANT_ID in endpoint
