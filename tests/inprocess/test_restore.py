"""AuraRestore in process: restore in place and overwrite, once per object, every refusal before
anything is sent, and a target that holds off while the restore runs.

Each test drives passes by hand and reads, as a user would, the status, conditions and events
of the AuraRestore and its target, and the simulator's request log: what was sent to Aura.
"""

from __future__ import annotations

from typing import Any

from tests.inprocess.harness import NS, Harness, PassResult
from tests.inprocess.test_snapshot import adhoc, completed, running, sim_state
from tests.install.test_argocd_health_snapshot_restore import RESTORE, SNAPSHOT, health


def posts(h: Harness) -> list[str]:
    """Every POST to an instance (snapshot, restore, overwrite), as `path status`."""
    return [f"{r.path} {r.status}" for r in h.requests("POST", "/v1/instances/*")]


async def completed_snapshot(h: Harness, name: str, target: str) -> str:
    """An AuraSnapshot of the AuraInstance `target`, Completed; its snapshot id."""
    h.apply_snapshot(name, {"instanceRef": {"name": target}})
    taken = await h.snapshot_pass(name)
    snapshot_id: str = taken.status["snapshotId"]
    await completed(h, taken.status["instanceId"], snapshot_id)
    assert (await h.snapshot_pass(name)).status["state"] == "Completed"
    return snapshot_id


def failed(result: PassResult, reason: str = "InvalidSpec") -> str:
    """The message of a restore that ended Failed with `reason`."""
    assert result.status["phase"] == "Failed", result.status
    assert result.status["completedAt"]
    ready, synced = result.condition("Ready"), result.condition("Synced")
    assert (ready["status"], ready["reason"]) == ("False", "Failed")
    assert (synced["status"], synced["reason"]) == ("False", reason)
    assert result.delay is None
    message: str = synced["message"]
    return message


async def test_a_restore_waits_for_its_snapshot_then_snapshots_restores_and_completes(
    h: Harness,
) -> None:
    """Applied with its AuraSnapshot at once (GitOps): Pending while the snapshot is taken,
    then SnapshottingTarget -> Restoring -> Completed; Aura is asked exactly snapshot POST ->
    safety snapshot POST -> restore POST."""
    instance_id = await running(h)
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    h.apply_restore("undo", {"instanceRef": {"name": "orders"}, "snapshotRef": {"name": "before"}})
    snapshot_id = (await h.snapshot_pass("before")).status["snapshotId"]
    phases: list[str | None] = []

    pending = await h.restore_pass("undo")
    phases.append(pending.status.get("phase"))
    ready = pending.condition("Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Pending")
    assert "spec.snapshotRef.name: waiting for snapshot" in ready["message"]
    assert pending.condition("Synced")["status"] == "True"
    assert pending.delay is not None
    assert posts(h) == [f"/v1/instances/{instance_id}/snapshots 202"]  # the AuraSnapshot's

    await completed(h, instance_id, snapshot_id)
    await h.snapshot_pass("before")
    safety = await h.restore_pass("undo")
    phases.append(safety.status["phase"])
    safety_id = safety.status["safetySnapshotId"]
    assert safety_id != snapshot_id
    assert safety.status["snapshotId"] == snapshot_id
    assert safety.status["instanceId"] == instance_id
    assert safety.status["startedAt"]
    assert safety.condition("Ready")["reason"] == "SnapshottingTarget"
    assert "SafetySnapshot" in safety.reasons()
    # The intent went on the object before the POST, conditionally on its resourceVersion.
    intent = next(
        w.body["status"]
        for w in h.kube.writes_of("patch_status")
        if w.kind == "aurarestores" and "safetySnapshot" in w.body["status"]
    )
    assert intent["safetySnapshot"]["requestedAt"]
    assert intent["phase"] == "SnapshottingTarget"
    assert "safetySnapshotId" not in intent

    await completed(h, instance_id, safety_id)
    restoring = await h.restore_pass("undo")
    phases.append(restoring.status["phase"])
    assert restoring.condition("Ready")["reason"] == "Restoring"
    assert "Restoring" in restoring.reasons()
    assert restoring.status["restore"]["acceptedAt"]
    assert h.sim_status(instance_id) == "restoring"

    await h.until(lambda: h.sim_status(instance_id) == "running", what="the restore")
    done = await h.restore_pass("undo")
    phases.append(done.status["phase"])
    assert done.condition("Ready")["status"] == "True"
    assert done.condition("Ready")["reason"] == "Completed"
    assert done.status["completedAt"]
    assert done.status["safetySnapshotId"] == safety_id
    assert "Completed" in done.reasons()
    assert done.delay is None
    assert phases == ["Pending", "SnapshottingTarget", "Restoring", "Completed"]
    # Argo CD's health checks (deploy/argocd) on the statuses the operator wrote.
    assert health(RESTORE, pending.status)[0] == "Progressing"
    assert health(RESTORE, restoring.status)[0] == "Progressing"
    assert health(RESTORE, done.status)[0] == "Healthy"
    assert health(SNAPSHOT, h.snapshot("before")["status"])[0] == "Healthy"
    assert posts(h) == [
        f"/v1/instances/{instance_id}/snapshots 202",
        f"/v1/instances/{instance_id}/snapshots 202",
        f"/v1/instances/{instance_id}/snapshots/{snapshot_id}/restore 202",
    ]

    # Re-applied by Argo CD, or read again after a restart: a completed restore never acts.
    h.sim.requests.clear()
    for _ in range(3):
        again = await h.restore_pass("undo")
        assert again.status["phase"] == "Completed"
    assert h.requests() == []


async def test_the_target_shows_restoring_and_makes_no_change_of_its_own(h: Harness) -> None:
    instance_id = await running(h)
    await completed_snapshot(h, "before", "orders")
    h.apply_restore(
        "undo",
        {"instanceRef": {"name": "orders"}, "snapshotRef": {"name": "before"}},
    )
    await h.restore_pass("undo")  # SnapshottingTarget
    h.kube.edit_instance(NS, "orders", spec={"memory": "4GB"})  # a change made meanwhile
    h.sim.requests.clear()

    held = await h.run_pass("orders")
    ready = held.condition("Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Restoring")
    assert "AuraRestore undo is in phase SnapshottingTarget" in ready["message"]
    assert h.changes() == []  # no resize while the restore runs

    restoring = await h.restore_pass("undo")
    while restoring.status["phase"] == "SnapshottingTarget":
        await completed(h, instance_id, restoring.status["safetySnapshotId"])
        restoring = await h.restore_pass("undo")
    assert restoring.status["phase"] == "Restoring"
    held = await h.run_pass("orders")
    assert held.condition("Ready")["reason"] == "Restoring"
    assert "in phase Restoring" in held.condition("Ready")["message"]
    assert [c.split()[0] for c in h.changes()] == ["POST"]  # the restore's own POST only

    await h.run_pass("orders")  # the target sees Aura restoring
    assert h.obj("orders")["status"]["state"] == "restoring"
    await h.until(lambda: h.sim_status(instance_id) == "running", what="the restore")
    # Aura is done; the restore releases the target and is Completed once the target shows it.
    released = await h.restore_pass("undo")
    assert released.status["phase"] == "Restoring"
    assert released.status["completedAt"]  # when Aura finished
    assert "waiting for AuraInstance orders to show it" in released.condition("Ready")["message"]
    resized = await h.run_pass("orders")  # released: it now makes its own change
    assert resized.condition("Ready")["reason"] != "Restoring"
    assert any(c.startswith(f"PATCH /v1/instances/{instance_id}") for c in h.changes())
    assert (await h.restore_pass("undo")).status["phase"] == "Completed"


async def test_an_overwrite_from_another_instance_sends_one_overwrite(h: Harness) -> None:
    source_id = await running(h, "prod")
    target_id = await running(h, "staging", memory="4GB")
    h.apply_restore(
        "refresh",
        {
            "instanceRef": {"name": "staging"},
            "source": {"instanceRef": {"name": "prod"}},
            "snapshotFirst": False,
        },
    )
    overwriting = await h.restore_pass("refresh")
    assert overwriting.status["phase"] == "Overwriting"
    assert overwriting.status["sourceInstanceId"] == source_id
    assert "safetySnapshotId" not in overwriting.status
    assert "Overwriting" in overwriting.reasons()
    held = await h.run_pass("staging")
    assert held.condition("Ready")["reason"] == "Overwriting"

    await h.until(lambda: h.sim_status(target_id) == "running", what="the overwrite")
    assert (await h.restore_pass("refresh")).status["phase"] == "Overwriting"
    assert (await h.run_pass("staging")).condition("Ready")["status"] == "True"
    done = await h.restore_pass("refresh")
    assert done.status["phase"] == "Completed"
    assert done.condition("Ready")["status"] == "True"
    assert posts(h) == [f"/v1/instances/{target_id}/overwrite 202"]


async def test_a_lost_restore_answer_is_resolved_by_the_target_state(h: Harness) -> None:
    instance_id = await running(h)
    snapshot_id = await completed_snapshot(h, "before", "orders")
    h.sim.requests.clear()
    h.sim.inject_fault("POST /v1/instances/*", status=502, body="gateway", after=True)
    h.apply_restore(
        "undo",
        {"instanceRef": {"name": "orders"}, "snapshotId": snapshot_id, "snapshotFirst": False},
    )
    lost = await h.restore_pass("undo")
    assert lost.status["phase"] == "Restoring"
    assert lost.status["restore"]["unansweredAt"]
    assert "RestoreOutcomeUnknown" in lost.reasons()
    seen = await h.restore_pass("undo")  # Aura is restoring: the request did arrive
    assert seen.status["restore"]["seen"] is True
    await h.until(lambda: h.sim_status(instance_id) == "running", what="the restore")
    assert (await h.restore_pass("undo")).status["phase"] == "Completed"
    assert posts(h) == [f"/v1/instances/{instance_id}/snapshots/{snapshot_id}/restore 502"]


async def test_every_refusal_ends_failed_and_sends_nothing(h: Harness) -> None:
    big_id = await running(h, "big", memory="4GB")
    small_id = await running(h, "small")
    paused_id = await running(h, "paused")
    h.sim.console(paused_id, "pause")
    h.apply("free", type="free-db", memory="1GB")
    free_id = (await h.settle("free")).status["instanceId"]
    h.kube.add_instance(NS, "observed", {"instanceId": small_id, "managementPolicy": "ObserveOnly"})
    h.kube.add_instance(
        NS,
        "skipped",
        {"instanceId": small_id},
        annotations={"aura-operator.dev/reconcile": "skip"},
    )
    await h.run_pass("observed")
    of_big = await completed_snapshot(h, "of-big", "big")
    h.apply_snapshot("broken", {"instanceRef": {"name": "small"}})
    broken = (await h.snapshot_pass("broken")).status["snapshotId"]
    h.sim.state.force_snapshot_status(small_id, broken, "Failed")
    assert (await h.snapshot_pass("broken")).status["state"] == "Failed"
    scheduled = next(s for s in h.sim.instance(free_id).snapshots if s.profile == "Scheduled")
    await h.until(lambda: h.sim_status(paused_id) == "paused", what="paused")
    unexportable = next(s for s in h.sim.instance(small_id).snapshots if s.profile == "Scheduled")
    unexportable.exportable = False
    h.sim.requests.clear()

    refusals: dict[str, tuple[dict[str, Any], str]] = {
        "observe-only": (
            {"instanceRef": {"name": "observed"}, "snapshotRef": {"name": "of-big"}},
            "AuraInstance observed is under managementPolicy ObserveOnly",
        ),
        "skipped": (
            {"instanceRef": {"name": "skipped"}, "snapshotRef": {"name": "of-big"}},
            "annotated aura-operator.dev/reconcile: skip",
        ),
        "paused": (
            {"instanceRef": {"name": "paused"}, "snapshotRef": {"name": "of-big"}},
            f"instance {paused_id} is paused",
        ),
        "snapshot-failed": (
            {"instanceRef": {"name": "small"}, "snapshotRef": {"name": "broken"}},
            f"spec.snapshotRef.name: snapshot {broken} is Failed",
        ),
        "other-instance": (
            {"instanceRef": {"name": "small"}, "snapshotRef": {"name": "of-big"}},
            f"snapshot {of_big} is of instance {big_id}, not of the target {small_id}; to "
            "overwrite the target from it, use spec.source",
        ),
        "not-exportable": (
            {
                "instanceRef": {"name": "big"},
                "source": {"instanceId": small_id, "snapshotId": unexportable.snapshot_id},
            },
            f"Source snapshot {unexportable.snapshot_id} is not exportable",
        ),
        "smaller": (
            {"instanceRef": {"name": "small"}, "source": {"instanceId": big_id}},
            f"the target {small_id} (4GB storage) is smaller than the source {big_id} (8GB)",
        ),
        "free": (
            {"instanceRef": {"name": "free"}, "snapshotId": scheduled.snapshot_id},
            "free is a free-db instance",
        ),
        "two-sources": (
            {
                "instanceRef": {"name": "small"},
                "snapshotId": broken,
                "source": {"instanceId": big_id},
            },
            "spec needs exactly one of snapshotRef, snapshotId and source",
        ),
    }
    for name, (spec, expected) in refusals.items():
        h.apply_restore(name, spec)
        result = await h.restore_pass(name)
        message = failed(result)
        assert expected in message, (name, message)
        assert ("Warning", "InvalidSpec") in [(t, r) for t, r, _ in result.events]
        assert "safetySnapshot" not in result.status
        assert health(RESTORE, result.status) == ("Degraded", f"InvalidSpec: {message}")
    assert h.changes() == []

    # A failed restore never acts again, whatever changes around it.
    h.sim.console(paused_id, "resume")
    await h.until(lambda: h.sim_status(paused_id) == "running", what="resumed")
    h.sim.requests.clear()
    for name in refusals:
        assert (await h.restore_pass(name)).status["phase"] == "Failed"
    assert h.requests() == []


async def test_aura_size_disparity_is_turned_into_the_smaller_target_message(h: Harness) -> None:
    """The source grew after the checks (while the safety snapshot was taken): Aura answers
    the overwrite with its 500 "DB Overwrite Size Disparity"; the restore ends Failed saying
    the target is smaller, and sends nothing more."""
    source_id = await running(h, "prod")
    target_id = await running(h, "staging")
    h.apply_restore(
        "refresh",
        {"instanceRef": {"name": "staging"}, "source": {"instanceRef": {"name": "prod"}}},
    )
    snapshotting = await h.restore_pass("refresh")
    assert snapshotting.status["phase"] == "SnapshottingTarget"
    h.sim.console(source_id, "resize", memory="8GB")
    await h.until(lambda: h.sim_status(source_id) == "running", what="the resize")
    await completed(h, target_id, snapshotting.status["safetySnapshotId"])

    refused = await h.restore_pass("refresh")
    message = failed(refused)
    assert message.startswith("spec.instanceRef: the target")
    assert "is smaller than the source" in message
    assert "Cannot clone database" in message  # Aura's own words, kept
    assert posts(h)[-1] == f"/v1/instances/{target_id}/overwrite 500"
    assert h.sim_status(target_id) == "running"
    held = await h.run_pass("staging")  # released: the target is Ready again
    assert held.condition("Ready")["status"] == "True"
    h.sim.requests.clear()
    await h.restore_pass("refresh")
    assert h.requests() == []


async def test_a_snapshot_of_a_just_created_aurasnapshot_is_used_only_when_completed(
    h: Harness,
) -> None:
    """snapshotId of a snapshot still InProgress: the restore waits (Pending), sends nothing."""
    instance_id = await running(h)
    # A snapshot that stays InProgress for the whole test (about 17 min of wall time at the
    # harness's time scale): at the default 50 ms, a loaded machine saw it Completed before the
    # restore's pass read it, and the restore rightly went ahead.
    h.sim.update_config(durations={"snapshot_in_progress": 1_000_000.0})
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    snapshot_id = (await h.snapshot_pass("before")).status["snapshotId"]
    h.apply_restore(
        "undo",
        {"instanceRef": {"name": "orders"}, "snapshotId": snapshot_id, "snapshotFirst": False},
    )
    waiting = await h.restore_pass("undo")
    assert waiting.condition("Ready")["reason"] == "Pending"
    assert sim_state(h, instance_id, snapshot_id) != "Completed"
    assert len(posts(h)) == 1
    assert adhoc(h, instance_id) == [snapshot_id]
