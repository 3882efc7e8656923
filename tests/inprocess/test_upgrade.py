"""professional-db -> business-critical in place, in process: one POST /upgrade, intent first;
every other type change is InvalidSpec with nothing sent."""

from __future__ import annotations

import pytest

from tests.inprocess.harness import NS, Harness
from tests.inprocess.test_snapshot import running


def upgrades(h: Harness) -> list[str]:
    return [f"{r.path} {r.status}" for r in h.requests("POST") if r.path.endswith("/upgrade")]


async def test_an_upgrade_is_sent_once_after_its_intent_and_ends_upgraded(h: Harness) -> None:
    instance_id = await running(h)
    h.kube.edit_instance(NS, "orders", spec={"type": "business-critical"})
    writes = len(h.kube.writes)

    sent = await h.run_pass("orders")
    assert upgrades(h) == [f"/v1/instances/{instance_id}/upgrade 200"]
    assert "Upgrading" in sent.reasons()
    ready = sent.condition("Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Updating")
    assert sent.condition("Synced")["status"] == "True"
    # The intent was written (conditionally) before the POST.
    intent = h.kube.writes[writes]
    assert intent.body["status"]["upgrade"]["requestedAt"]
    assert sent.status["upgrade"]["requestedAt"]

    await h.until(lambda: h.sim_status(instance_id) == "running", what="the upgrade")
    done = await h.run_pass("orders")
    assert "Upgraded" in done.reasons()
    assert done.status["type"] == "business-critical"
    assert done.status["instanceId"] == instance_id  # same instance, same URL
    assert "upgrade" not in done.status
    assert done.condition("Ready")["reason"] == "Available"
    assert h.sim.instance(instance_id).type == "business-critical"

    h.sim.requests.clear()
    await h.run_pass("orders")
    assert h.changes() == []


async def test_a_lost_upgrade_answer_is_resolved_by_the_instance_and_never_resent(
    h: Harness,
) -> None:
    instance_id = await running(h)
    h.sim.inject_fault("POST /v1/instances/*", status=502, body="gateway", after=True)
    h.kube.edit_instance(NS, "orders", spec={"type": "business-critical"})
    lost = await h.run_pass("orders")
    assert "UpgradeOutcomeUnknown" in lost.reasons()
    assert lost.status["upgrade"]["unansweredAt"]
    assert lost.condition("Synced")["reason"] == "ReconcileError"

    await h.until(lambda: h.sim_status(instance_id) == "running", what="the upgrade")
    done = await h.run_pass("orders")
    assert "Upgraded" in done.reasons()
    assert done.status["type"] == "business-critical"
    assert upgrades(h) == [f"/v1/instances/{instance_id}/upgrade 502"]


@pytest.mark.parametrize(
    ("start", "wanted"),
    [
        ("professional-db", "enterprise-db"),
        ("professional-db", "free-db"),
        ("business-critical", "professional-db"),
    ],
)
async def test_every_other_type_change_is_invalid_spec_and_sends_nothing(
    h: Harness, start: str, wanted: str
) -> None:
    await running(h, type=start)
    h.kube.edit_instance(NS, "orders", spec={"type": wanted})
    refused = await h.run_pass("orders")
    synced = refused.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec")
    assert "spec.type" in synced["message"]
    assert "InvalidSpec" in refused.reasons()
    assert h.changes() == []
