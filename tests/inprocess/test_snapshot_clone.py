"""An AuraInstance cloned from an AuraSnapshot (`spec.source.snapshotRef`), in process: the
create waits until the snapshot is Completed and exportable, and then sends its ids."""

from __future__ import annotations

from tests.inprocess.harness import Harness
from tests.inprocess.test_snapshot import completed, running


def creates(h: Harness) -> list[str]:
    return [f"{r.path} {r.status}" for r in h.requests("POST", "/v1/instances")]


async def test_a_clone_waits_for_its_snapshot_to_be_completed_then_creates_once(
    h: Harness,
) -> None:
    source_id = await running(h)
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    snapshot_id = (await h.snapshot_pass("before")).status["snapshotId"]
    h.apply("copy", source={"snapshotRef": {"name": "before"}})

    waiting = await h.run_pass("copy")
    ready = waiting.condition("Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Pending")
    assert "waiting for AuraSnapshot before" in ready["message"]
    assert "Completed" in ready["message"]
    assert waiting.delay is not None
    assert creates(h) == []

    await completed(h, source_id, snapshot_id)
    await h.snapshot_pass("before")
    created = await h.run_pass("copy")
    assert "Created" in created.reasons()
    clone = h.sim.instance(created.status["instanceId"])
    assert (clone.source_instance_id, clone.source_snapshot_id) == (source_id, snapshot_id)
    await h.settle("copy")
    assert creates(h) == ["/v1/instances 202"]


async def test_a_clone_from_a_failed_or_unexportable_snapshot_is_invalid_spec(h: Harness) -> None:
    source_id = await running(h)
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    snapshot_id = (await h.snapshot_pass("before")).status["snapshotId"]
    await completed(h, source_id, snapshot_id)
    sim_snapshot = next(
        s for s in h.sim.instance(source_id).snapshots if s.snapshot_id == snapshot_id
    )
    sim_snapshot.exportable = False
    await h.snapshot_pass("before")
    h.apply("copy", source={"snapshotRef": {"name": "before"}})
    refused = await h.run_pass("copy")
    synced = refused.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec")
    assert synced["message"].startswith("spec.source.snapshotRef.name:")
    assert "not exportable" in synced["message"]

    h.apply_snapshot("broken", {"instanceRef": {"name": "orders"}})
    broken = (await h.snapshot_pass("broken")).status["snapshotId"]
    h.sim.state.force_snapshot_status(source_id, broken, "Failed")
    await h.snapshot_pass("broken")
    h.apply("copy2", source={"snapshotRef": {"name": "broken"}})
    failed = await h.run_pass("copy2")
    assert failed.condition("Synced")["reason"] == "InvalidSpec"
    assert "is Failed" in failed.condition("Synced")["message"]
    assert creates(h) == []
