"""Metrics integration as the simulator serves it: `metrics_integration_url` on exactly the
instance types Aura exports metrics for (Business Critical, Virtual Dedicated Cloud =
`enterprise-db`, AuraDS Enterprise = `enterprise-ds`), and the project's endpoint, 400
`tenant-incapable-of-action` until the project has one of them (docs/aura-api.md §3.1)."""

from __future__ import annotations

import pytest

from aura_simulator import DEMO_TENANT_ID, Simulator
from tests.contract.conftest import Api

ENDPOINT = f"/v1/tenants/{DEMO_TENANT_ID}/metrics-integration"


@pytest.mark.parametrize(
    ("instance_type", "memory", "exported"),
    [
        ("business-critical", "2GB", True),
        ("enterprise-db", "2GB", True),
        ("enterprise-ds", "8GB", True),
        ("professional-db", "2GB", False),
    ],
)
async def test_only_exported_types_carry_a_metrics_url(
    sim: Simulator, api: Api, instance_type: str, memory: str, exported: bool
) -> None:
    assert (await api.get(ENDPOINT)).status_code == 400
    created = await api.create(type=instance_type, memory=memory)
    sim.force_status(created["id"], "running")
    instance = (await api.get(f"/v1/instances/{created['id']}")).json()["data"]
    url = instance.get("metrics_integration_url")
    project = await api.get(ENDPOINT)
    if exported:
        assert url == (
            f"https://customer-metrics-api.neo4j.io/api/v1/{DEMO_TENANT_ID}/{created['id']}/metrics"
        )
        assert project.json()["data"] == {
            "endpoint": f"https://customer-metrics-api.neo4j.io/api/v1/{DEMO_TENANT_ID}/metrics"
        }
    else:
        assert url is None
        assert project.status_code == 400
        assert project.json()["errors"][0]["reason"] == "tenant-incapable-of-action"


async def test_an_unknown_project_is_404(sim: Simulator, api: Api) -> None:
    response = await api.get("/v1/tenants/nope/metrics-integration")
    assert response.status_code == 404
    assert response.json()["errors"][0]["reason"] == "tenant-not-found"
