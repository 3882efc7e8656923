"""Bad input is `InvalidSpec` naming the field (and the allowed values), with nothing sent.

One row per path that refuses a spec: the static checks send no request at all (not even for
a token); the checks against the tenant's offer read the tenant and nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest

from aura_simulator import DEMO_TENANT_ID, SimulatorConfig
from aura_simulator.config import TenantConfig, default_configurations
from tests.inprocess.harness import SPEC, Harness, harness

#: (spec, the field named, words of the message); checked before any request.
STATIC: dict[str, tuple[dict[str, Any], str, str]] = {
    "type missing": ({**SPEC, "type": None}, "spec.type", "is required to create"),
    "cloud missing": ({**SPEC, "cloudProvider": None}, "spec.cloudProvider", "is required"),
    "region missing": ({**SPEC, "region": None}, "spec.region", "is required"),
    "memory missing": ({**SPEC, "memory": None}, "spec.memory", "is required"),
    "snapshot without source": (
        {**SPEC, "source": {"snapshotId": "s1"}},
        "spec.source",
        "needs exactly one of instanceId",
    ),
    "graph analytics off professional": (
        {**SPEC, "type": "enterprise-db", "graphAnalyticsPlugin": True},
        "spec.graphAnalyticsPlugin",
        "only available for type professional-db",
    ),
    "vector below 4GB": (
        {**SPEC, "vectorOptimized": True},
        "spec.vectorOptimized",
        "needs memory of 4GB or more",
    ),
    "free paused": (
        {**SPEC, "type": "free-db", "memory": "1GB", "paused": True},
        "spec.paused",
        "free-db instances cannot be paused",
    ),
    "observe nothing": (
        {**SPEC, "managementPolicy": "ObserveOnly"},
        "spec.instanceId",
        "ObserveOnly needs spec.instanceId",
    ),
}

#: Checked against the tenant's instance configurations: only the tenant is read.
OFFER: dict[str, tuple[dict[str, Any], str, str]] = {
    "type": ({"type": "mega-db"}, "spec.type", "allowed: business-critical, enterprise-db"),
    "cloud": ({"cloudProvider": "oracle"}, "spec.cloudProvider", "allowed: aws, azure, gcp"),
    "region": ({"region": "mars-1"}, "spec.region", "allowed: asia-southeast1, europe-west1"),
    "memory": ({"memory": "3GB"}, "spec.memory", "allowed: 1GB, 2GB, 4GB"),
    "version": ({"version": "3"}, "spec.version", "allowed: 4, 5"),
    "storage": ({"storage": "5GB"}, "spec.storage", "allowed: 4GB"),
}


def assert_invalid(h: Harness, name: str, field: str, says: str) -> str:
    obj = h.obj(name)
    synced = next(c for c in obj["status"]["conditions"] if c["type"] == "Synced")
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec"), synced
    assert field in synced["message"], synced["message"]
    assert says in synced["message"]
    assert ("Warning", "InvalidSpec", synced["message"]) in h.events
    assert "nextAttemptAt" not in obj["status"]  # nothing to retry: only an edit helps
    assert h.changes() == []
    return str(synced["message"])


@pytest.mark.parametrize("row", STATIC.values(), ids=STATIC.keys())
async def test_a_spec_that_cannot_work_sends_nothing_at_all(
    h: Harness, row: tuple[dict[str, Any], str, str]
) -> None:
    spec, field, says = row
    h.apply("orders", {k: v for k, v in spec.items() if v is not None})
    result = await h.run_pass("orders")
    assert result.delay is None
    assert_invalid(h, "orders", field, says)
    assert h.sim.requests == []  # not even a token


@pytest.mark.parametrize("row", OFFER.values(), ids=OFFER.keys())
async def test_a_spec_the_tenant_does_not_offer_reads_the_tenant_only(
    h: Harness, row: tuple[dict[str, Any], str, str]
) -> None:
    change, field, says = row
    h.apply("orders", **change)
    result = await h.run_pass("orders")
    assert result.delay is None
    assert_invalid(h, "orders", field, says)
    assert [f"{r.method} {r.path}" for r in h.requests()] == [
        "GET /v1/tenants",
        f"GET /v1/tenants/{DEMO_TENANT_ID}",
    ]
    assert "creation" not in result.status  # no intent: nothing was about to be sent


async def test_several_tenants_need_spec_tenant_id_and_name_the_choices() -> None:
    second = TenantConfig(
        id="a1b2c3d4-0000-4000-8000-000000000002",
        name="staging",
        instance_configurations=default_configurations(),
    )
    config = SimulatorConfig()
    config.tenants.append(second)
    async with harness(config) as h:
        h.apply("orders")
        await h.run_pass("orders")
        message = assert_invalid(h, "orders", "spec.tenantId", "the credential sees 2 tenants")
        assert f"{DEMO_TENANT_ID} (demo)" in message
        assert f"{second.id} (staging)" in message


async def test_a_tenant_id_the_credential_cannot_see_is_invalid_spec(h: Harness) -> None:
    h.apply("orders", tenantId="ffffffff-0000-4000-8000-000000000000")
    await h.run_pass("orders")
    message = assert_invalid(h, "orders", "spec.tenantId", "ffffffff-0000-4000-8000-000000000000")
    assert DEMO_TENANT_ID in message


async def test_a_request_aura_refuses_is_invalid_spec_and_forgets_the_intent(h: Harness) -> None:
    """The one InvalidSpec that costs a request: a rule only Aura knows (here: the name's
    length). Aura answered 400, so nothing was created and the intent is dropped."""
    h.apply("orders", name="a-name-far-longer-than-thirty-characters")
    result = await h.run_pass("orders")
    synced = result.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec")
    assert "(spec.name)" in synced["message"]
    assert "creation" not in result.status
    assert result.delay is None
    assert h.changes() == ["POST /v1/instances 400"]
