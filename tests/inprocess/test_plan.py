"""Plan mode and --dry-run, in process: every plan decision of the controller, with what really
reached the simulator (only GETs) and what a user sees (Synced=False Planned, a Planned event).

`aura-operator.dev/reconcile: plan` makes a pass read and describe, instead of send, the
request that would change something; removing the annotation sends exactly that request.
`--dry-run` (Settings.dry_run) does the same for every object of every kind.
"""

from __future__ import annotations

from typing import Any

import pytest

from aura_operator.aura import AuraPlanned
from aura_operator.kinds.snapshot.registration import SNAPSHOT
from aura_operator.runtime.conditions import SyncedReason
from aura_operator.runtime.model import ANNOTATION_RECONCILE
from aura_simulator import DEMO_CLIENT_ID, DEMO_TENANT_ID
from tests.inprocess.harness import NS, SPEC, Harness, PassResult, harness
from tests.inprocess.test_snapshot import running


def plan_mode(h: Harness, name: str = "orders", value: str | None = "plan") -> None:
    h.kube.edit_instance(NS, name, annotations={ANNOTATION_RECONCILE: value})


def planned(result: PassResult) -> str:
    synced = result.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", SyncedReason.PLANNED), synced
    return str(synced["message"])


def intent_writes(h: Harness, field: str) -> list[dict[str, Any]]:
    return [w.body for w in h.kube.writes if field in (w.body.get("status") or {})]


async def test_a_new_object_in_plan_mode_sends_no_post_and_records_no_intent(h: Harness) -> None:
    h.apply("orders")
    plan_mode(h)

    first = await h.run_pass("orders")
    message = planned(first)
    assert message.startswith("would POST /v1/instances: cloud_provider=gcp, memory=2GB, ")
    assert "name=team-a-orders" in message and f"tenant_id={DEMO_TENANT_ID}" in message
    assert "remove the annotation aura-operator.dev/reconcile: plan" in message
    assert h.changes() == []  # only GETs reached Aura
    assert h.requests("GET")  # it did read (the tenant's configurations)
    assert "creation" not in first.status  # no intent: recovery would look for a create
    assert intent_writes(h, "creation") == []
    assert ("Normal", "Planned", message) in first.events
    assert first.delay == h.settings.drift_interval

    again = await h.run_pass("orders")
    assert planned(again) == message
    assert again.events == []  # the same plan is not announced twice
    assert h.changes() == []


async def test_removing_the_annotation_sends_the_planned_create_once(h: Harness) -> None:
    h.apply("orders", memory="4GB")
    plan_mode(h)
    message = planned(await h.run_pass("orders"))
    assert "memory=4GB" in message

    plan_mode(h, value=None)
    applied = await h.run_pass("orders")
    assert h.changes() == ["POST /v1/instances 202"]
    created = h.sim.instance(applied.status["instanceId"])
    assert (created.name, created.memory, created.cloud_provider) == (
        "team-a-orders", "4GB", "gcp"
    )  # fmt: skip
    assert applied.condition("Synced")["reason"] == SyncedReason.SUCCESS
    (event,) = [e for e in applied.events if e[1] == "PlanApplied"]
    assert event[0] == "Normal"
    assert event[2].startswith("sent as planned: POST /v1/instances: cloud_provider=gcp, ")


async def test_a_change_in_plan_mode_is_described_field_by_field_and_not_sent(h: Harness) -> None:
    instance_id = await running(h)
    plan_mode(h)
    h.kube.edit_instance(NS, "orders", spec={"memory": "4GB"})

    result = await h.run_pass("orders")
    message = planned(result)
    assert message.startswith(f"would PATCH /v1/instances/{instance_id}: memory 2GB → 4GB (")
    assert h.changes() == []
    assert h.sim.instance(instance_id).memory == "2GB"
    assert result.condition("Ready")["status"] == "True"  # what was read stays shown
    assert result.status.get("observedGeneration") != result.obj["metadata"]["generation"]

    plan_mode(h, value=None)
    applied = await h.run_pass("orders")
    assert h.changes() == [f"PATCH /v1/instances/{instance_id} 202"]
    assert ("Normal", "PlanApplied", f"sent as planned: PATCH /v1/instances/{instance_id}: "
            "memory 2GB → 4GB") in applied.events  # fmt: skip
    await h.until(lambda: h.sim.instance(instance_id).memory == "4GB", what="the resize")


async def test_a_spec_changed_after_the_plan_is_sent_as_it_is_now_and_said_so(
    h: Harness,
) -> None:
    instance_id = await running(h)
    plan_mode(h)
    h.kube.edit_instance(NS, "orders", spec={"memory": "4GB"})
    planned(await h.run_pass("orders"))

    h.kube.edit_instance(NS, "orders", spec={"memory": "8GB"})
    plan_mode(h, value=None)
    applied = await h.run_pass("orders")
    assert h.changes() == [f"PATCH /v1/instances/{instance_id} 202"]
    (changed,) = [e for e in applied.events if e[1] == "PlanChanged"]
    assert changed == (
        "Warning",
        "PlanChanged",
        f"sent PATCH /v1/instances/{instance_id}: memory 2GB → 8GB; the plan showed: would "
        f"PATCH /v1/instances/{instance_id}: memory 2GB → 4GB",
    )


async def test_an_object_that_matches_aura_plans_nothing(h: Harness) -> None:
    await running(h)
    plan_mode(h)
    result = await h.run_pass("orders")
    assert planned(result).startswith("no request would be sent: Aura matches the spec")
    assert h.changes() == []
    assert result.condition("Ready")["status"] == "True"


async def test_a_spec_error_found_in_plan_mode_is_shown_as_the_error(h: Harness) -> None:
    h.apply("orders", memory="3GB")
    plan_mode(h)
    result = await h.run_pass("orders")
    assert result.condition("Synced")["reason"] == SyncedReason.INVALID_SPEC
    assert h.changes() == []


async def test_skip_wins_over_plan_mode(h: Harness) -> None:
    h.apply("orders")
    plan_mode(h, value="skip")
    async with harness(dry_run=True) as dry:
        dry.apply("orders")
        plan_mode(dry, value="skip")
        result = await dry.run_pass("orders")
        assert result.condition("Synced")["reason"] == SyncedReason.PAUSED
        assert dry.requests() == []


async def test_a_snapshot_in_plan_mode_describes_its_post_and_records_no_intent(
    h: Harness,
) -> None:
    instance_id = await running(h)
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    h.kube.edit_object(SNAPSHOT.plural, NS, "before", annotations={ANNOTATION_RECONCILE: "plan"})
    result = await h.snapshot_pass("before")
    assert planned(result).startswith(f"would POST /v1/instances/{instance_id}/snapshots")
    assert h.changes() == []
    assert "request" not in result.status
    assert intent_writes(h, "request") == []


async def test_a_deletion_in_plan_mode_holds_the_finalizer_saying_what_it_would_send(
    h: Harness,
) -> None:
    instance_id = await running(h, deletionPolicy="Delete")
    plan_mode(h)
    h.kube.mark_deleted(NS, "orders")

    held = await h.finalize("orders")
    assert not held.done
    assert h.changes() == []
    ready = h.obj("orders")["status"]["conditions"][0]
    assert (ready["reason"], ready["message"]) == (
        "Deleting",
        f"would DELETE /v1/instances/{instance_id} (remove the annotation "
        "aura-operator.dev/reconcile: plan to send it)",
    )

    plan_mode(h, value=None)
    deleted = await h.finalize("orders")
    assert deleted.result is not None
    assert h.changes() == [f"DELETE /v1/instances/{instance_id} 202"]


@pytest.fixture
async def dry() -> Any:
    async with harness(dry_run=True) as running_harness:
        yield running_harness


async def test_dry_run_plans_every_object_without_an_annotation(dry: Harness) -> None:
    dry.apply("orders")
    result = await dry.run_pass("orders")
    message = planned(result)
    assert message.startswith("would POST /v1/instances: ")
    assert message.endswith("(the operator runs with --dry-run)")
    assert {r.method for r in dry.requests()} == {"GET"}
    assert intent_writes(dry, "creation") == []


async def test_dry_run_holds_every_client_of_the_process_not_only_passes(dry: Harness) -> None:
    """Outside a pass too (a sweep, a credential status): the registry refuses to send."""
    aura = dry.ctx.credentials.client(DEMO_CLIENT_ID, dry.settings.client_secret)  # type: ignore[arg-type]
    with pytest.raises(AuraPlanned) as planned_signal:
        await aura.delete_instance("abc123")
    assert (planned_signal.value.method, planned_signal.value.path) == (
        "DELETE", "/v1/instances/abc123"
    )  # fmt: skip
    assert await aura.list_instances() == []  # reads still go out
    assert {r.method for r in dry.requests()} == {"GET"}


async def test_an_invalid_spec_is_planned_nowhere_else(dry: Harness) -> None:
    dry.apply("orders", {**SPEC, "memory": "3GB"})
    result = await dry.run_pass("orders")
    assert result.condition("Synced")["reason"] == SyncedReason.INVALID_SPEC
    assert dry.changes() == []
