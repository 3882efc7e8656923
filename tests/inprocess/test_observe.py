"""Passes on an instance that exists: pause by annotation, ObserveOnly, drift, a wrong id.

The request log says what the operator sent: a skipped object sends nothing, an observed one
only GETs, a drifted one exactly one PATCH back to the spec.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from tests.inprocess.harness import NS, Harness


async def test_the_skip_annotation_pauses_everything(h: Harness) -> None:
    h.apply("orders")
    await h.settle("orders")
    h.sim.requests.clear()
    h.kube.edit_instance(
        NS, "orders", spec={"memory": "4GB"}, annotations={"aura-operator.dev/reconcile": "skip"}
    )

    paused = await h.run_pass("orders")
    synced = paused.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "ReconcilePaused")
    assert "aura-operator.dev/reconcile: skip" in synced["message"]
    assert paused.delay is None  # until the object changes
    assert paused.status["observedGeneration"] == 1  # generation 2 is not applied
    assert h.sim.requests == []

    h.kube.edit_instance(NS, "orders", annotations={"aura-operator.dev/reconcile": None})
    resumed = await h.run_pass("orders")
    assert resumed.condition("Synced")["reason"] == "ReconcileSuccess"
    assert [c.rsplit(" ", 1)[0] for c in h.changes()] == [
        f"PATCH /v1/instances/{resumed.status['instanceId']}"
    ]


async def test_observe_only_reads_and_never_changes_anything(h: Harness) -> None:
    instance_id = await h.console_instance("made-by-hand")
    h.apply(
        "orders",
        {
            "instanceId": instance_id,
            "managementPolicy": "ObserveOnly",
            "deletionPolicy": "Delete",
            "name": "another-name",  # would be a rename under Full management
            "memory": "4GB",  # would be a resize
        },
    )
    seen = await h.run_pass("orders")
    synced = seen.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("True", "ReconcileSuccess")
    assert "ObserveOnly" in synced["message"]
    assert seen.condition("Ready")["reason"] == "Available"
    assert seen.status["memory"] == "2GB"  # what Aura has, not what the spec says
    # Adopted: Aura never returns the password again, and the operator says so.
    secret_ready = seen.condition("ConnectionSecretReady")
    assert (secret_ready["status"], secret_ready["reason"]) == ("False", "PasswordUnavailable")
    secret = h.secret("orders-connection")
    assert secret is not None
    assert "NEO4J_PASSWORD" not in secret
    assert secret["AURA_INSTANCEID"] == instance_id

    h.sim.console(instance_id, "pause")
    await h.until(lambda: h.sim_status(instance_id) == "paused", what="the console's pause")
    paused = await h.run_pass("orders")
    assert paused.condition("Ready")["reason"] == "Paused"

    h.kube.mark_deleted(NS, "orders")
    released = await h.finalize("orders")
    assert released.done
    assert "Retained" in released.reasons()  # ObserveOnly wins over deletionPolicy Delete
    assert {r.method for r in h.requests()} == {"GET"}
    assert h.sim_status(instance_id) == "paused"


async def test_drift_made_in_the_console_is_patched_back_once(h: Harness) -> None:
    h.apply("orders")
    instance_id = (await h.settle("orders")).status["instanceId"]
    h.sim.requests.clear()

    h.sim.console(instance_id, "resize", memory="4GB")

    def resized() -> bool:
        instance = h.sim.instance(instance_id)  # settles the simulator's lazy transitions
        return instance.memory == "4GB" and instance.status == "running"

    await h.until(resized, what="the console's resize")
    corrected = await h.run_pass("orders", background=True)  # a drift read
    assert ("Warning", "DriftDetected") in [(t, r) for t, r, _ in corrected.events]
    updating = next(m for _, r, m in corrected.events if r == "Updating")
    assert "memory 4GB→2GB" in updating
    assert corrected.status["state"] == "updating"
    assert corrected.condition("Ready")["reason"] == "Updating"

    await h.until(functools.partial(h._settled, instance_id), what="the update")
    settled = await h.settle("orders")
    assert settled.status["memory"] == "2GB"
    assert h.sim.instance(instance_id).memory == "2GB"
    assert h.changes() == [f"PATCH /v1/instances/{instance_id} 202"]


async def test_a_rename_in_the_console_is_renamed_back(h: Harness) -> None:
    h.apply("orders")
    instance_id = (await h.settle("orders")).status["instanceId"]
    h.sim.requests.clear()
    h.sim.console(instance_id, "rename", name="someone-else")

    await h.run_pass("orders", background=True)
    assert h.sim.instance(instance_id).name == "team-a-orders"
    again = await h.run_pass("orders", background=True)
    assert again.condition("Synced")["message"] == "the instance matches the spec"
    assert h.changes() == [f"PATCH /v1/instances/{instance_id} 200"]


async def test_adopting_an_unknown_instance_id_is_invalid_spec(h: Harness) -> None:
    h.apply("orders", {"instanceId": "deadbeef"})
    result = await h.run_pass("orders")
    synced = result.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec")
    assert synced["message"].startswith("spec.instanceId: instance deadbeef does not exist")
    assert result.condition("Ready")["reason"] == "Unavailable"
    assert ("Warning", "InvalidSpec") in [(t, r) for t, r, _ in result.events]
    assert result.delay == h.settings.drift_interval  # looked at again, slowly
    assert h.changes() == []
    assert h.kube.secret(NS, "orders-connection") is None


async def test_observed_at_says_when_the_status_was_read_and_a_restart_reads_it_anew(
    h: Harness,
) -> None:
    """Issue 17: a status written before a restart must not pass for a new observation.
    observedAt moves with every change and with a process's first read; a drift read that
    finds nothing new writes nothing."""
    h.apply("orders")
    first = await h.settle("orders")
    instance_id = first.status["instanceId"]
    stamped = first.status["observedAt"]
    quiet = await h.run_pass("orders")  # a drift read: nothing changed, nothing written
    assert quiet.status == first.status

    # Down: the instance is paused in the console. The old status still says running and
    # Ready, with the old observedAt; the new process's first pass reads it and says so.
    h.sim.console(instance_id, "pause")
    await h.until(lambda: h.sim_status(instance_id) == "paused", what="the console's pause")
    before_restart = datetime.now(UTC)
    assert h.obj("orders")["status"]["state"] == "running"
    restarted = h.add_replica()
    seen = await h.run_pass("orders", replica=restarted)
    assert seen.status["state"] == "resuming"  # what it read, and the resume it requested
    assert seen.condition("Ready")["status"] == "False"
    assert seen.status["observedAt"] > stamped
    assert parse(seen.status["observedAt"]) >= before_restart

    # A restart that finds nothing new still stamps its first read, once.
    await h.settle("orders")
    again = h.add_replica()
    settled = h.obj("orders")["status"]
    read_anew = await h.run_pass("orders", replica=again)
    assert read_anew.status["observedAt"] > settled["observedAt"]
    assert {k: v for k, v in read_anew.status.items() if k != "observedAt"} == {
        k: v for k, v in settled.items() if k != "observedAt"
    }
    quiet = await h.run_pass("orders", replica=again)
    assert quiet.status == read_anew.status


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
