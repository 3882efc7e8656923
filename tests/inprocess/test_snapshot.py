"""AuraSnapshot in process: one AdHoc snapshot, exactly once.

Each test drives passes by hand and reads, as a user would, the object's status, conditions and
events, and the simulator's request log: what was really sent to Aura.
"""

from __future__ import annotations

from aura_operator.kinds.instance.model import AuraInstance
from aura_simulator import DEMO_CLIENT_ID
from tests.inprocess.harness import NS, Harness, add_credential

SNAPSHOTS = "/v1/instances/*/snapshots"


async def running(h: Harness, name: str = "orders", **fields: object) -> str:
    """An AuraInstance created and running; the request log starts empty after it."""
    h.apply(name, **fields)
    settled = await h.settle(name)
    h.sim.requests.clear()
    instance_id: str = settled.status["instanceId"]
    return instance_id


def snapshot_posts(h: Harness) -> list[str]:
    return [
        f"{r.path} {r.status}"
        for r in h.requests("POST")
        if r.path.startswith("/v1/instances/") and r.path.endswith("/snapshots")
    ]


def adhoc(h: Harness, instance_id: str) -> list[str]:
    return [s.snapshot_id for s in h.sim.instance(instance_id).snapshots if s.profile == "AdHoc"]


def sim_state(h: Harness, instance_id: str, snapshot_id: str) -> str:
    snapshot = next(
        s for s in h.sim.instance(instance_id).snapshots if s.snapshot_id == snapshot_id
    )
    return str(h.sim.state.snapshot_view(snapshot)["status"])


async def completed(h: Harness, instance_id: str, snapshot_id: str) -> None:
    await h.until(lambda: sim_state(h, instance_id, snapshot_id) == "Completed", what="Completed")


async def test_a_snapshot_is_requested_once_after_its_intent_and_followed_to_completed(
    h: Harness,
) -> None:
    instance_id = await running(h)
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    first = await h.snapshot_pass("before")

    (snapshot_id,) = adhoc(h, instance_id)
    assert snapshot_posts(h) == [f"/v1/instances/{instance_id}/snapshots 202"]
    assert first.status["snapshotId"] == snapshot_id
    assert first.status["instanceId"] == instance_id
    assert (first.status["profile"], first.status["state"]) == ("AdHoc", "Pending")
    assert first.condition("Ready")["status"] == "False"
    assert first.condition("Ready")["reason"] == "Pending"
    assert first.condition("Synced")["reason"] == "ReconcileSuccess"
    assert "SnapshotRequested" in first.reasons()
    # The intent (conditional on the resourceVersion) was written before the POST, without an id.
    intent, *_ = [w for w in h.kube.writes_of("patch_status") if w.kind == "aurasnapshots"]
    assert set(intent.body["status"]) == {"request", "instanceId"}
    assert first.status["request"]["acceptedAt"]

    await completed(h, instance_id, snapshot_id)
    done = await h.snapshot_pass("before")
    assert done.condition("Ready")["status"] == "True"
    assert done.condition("Ready")["reason"] == "Completed"
    assert done.status["state"] == "Completed"
    assert done.status["exportable"] is True
    assert done.status["takenAt"]
    assert done.status["observedGeneration"] == 1
    assert "Completed" in done.reasons()
    assert done.delay is None

    # Done: later passes (a resync, an operator restart) send nothing at all.
    h.sim.requests.clear()
    again = await h.snapshot_pass("before")
    assert h.requests() == []
    assert again.status["snapshotId"] == snapshot_id
    assert adhoc(h, instance_id) == [snapshot_id]


async def test_a_lost_answer_is_recovered_from_the_snapshot_list_and_never_resent(
    h: Harness,
) -> None:
    instance_id = await running(h)
    # Aura takes the snapshot, then the client gets a 502: the outcome is unknown.
    h.sim.inject_fault("POST " + SNAPSHOTS, status=502, body="gateway", after=True)
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})

    lost = await h.snapshot_pass("before")
    assert "snapshotId" not in lost.status
    assert lost.status["request"]["unansweredAt"]
    synced = lost.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "ReconcileError")
    assert "SnapshotOutcomeUnknown" in lost.reasons()
    (taken,) = adhoc(h, instance_id)

    recovered = await h.snapshot_pass("before")
    assert "Recovered" in recovered.reasons()
    assert recovered.status["snapshotId"] == taken
    assert recovered.condition("Synced")["status"] == "True"
    # Found by listing the instance's snapshots of the intent's day, not by POSTing again.
    lists = h.requests("GET", f"/v1/instances/{instance_id}/snapshots")
    assert lists
    assert all(r.query.startswith("date=") for r in lists)

    await completed(h, instance_id, taken)
    done = await h.snapshot_pass("before")
    assert done.condition("Ready")["reason"] == "Completed"
    assert snapshot_posts(h) == [f"/v1/instances/{instance_id}/snapshots 502"]
    assert adhoc(h, instance_id) == [taken]


async def test_a_request_that_never_arrived_is_sent_again_only_after_the_window(
    h: Harness,
) -> None:
    instance_id = await running(h)
    h.sim.inject_fault("POST " + SNAPSHOTS, status=502, body="gateway")  # before Aura acts
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    await h.snapshot_pass("before")
    h.clock.advance(20.0)
    looking = await h.snapshot_pass("before")
    assert "looking for the snapshot" in looking.condition("Synced")["message"]
    assert looking.status["nextAttemptAt"]
    assert snapshot_posts(h) == [f"/v1/instances/{instance_id}/snapshots 502"]

    h.clock.advance(15.0)  # past unansweredAt + the 30 s visibility window
    again = await h.snapshot_pass("before")
    assert {"SnapshotNotFound", "SnapshotRequested"} <= set(again.reasons())
    assert [p.split()[-1] for p in snapshot_posts(h)] == ["502", "202"]
    assert again.status["snapshotId"] == adhoc(h, instance_id)[0]


async def test_two_candidates_stop_the_object_with_create_ambiguous(h: Harness) -> None:
    instance_id = await running(h)
    h.sim.inject_fault("POST " + SNAPSHOTS, status=502, body="gateway", after=True)
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    await h.snapshot_pass("before")
    # Someone takes another snapshot of the instance in the Aura console meanwhile.
    aura = await h.ctx.credentials.client_for(AuraInstance.from_body(h.obj("orders")))
    await aura.create_snapshot(instance_id)
    ids = adhoc(h, instance_id)
    assert len(ids) == 2

    stopped = await h.snapshot_pass("before")
    synced = stopped.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "CreateAmbiguous")
    assert all(i in synced["message"] for i in ids)
    assert ("Warning", "CreateAmbiguous") in [(t, r) for t, r, _ in stopped.events]
    assert "snapshotId" not in stopped.status
    assert stopped.delay is None  # terminal: the operator never guesses
    assert len(snapshot_posts(h)) == 2  # ours (lost) and the console's: nothing resent


async def test_a_snapshot_claimed_by_another_auranapshot_is_not_a_candidate(h: Harness) -> None:
    """Two AuraSnapshots of one instance; the answer to one is lost. The other's snapshot,
    recorded in its status, is not taken for the lost one: one candidate is left, and it is
    adopted."""
    instance_id = await running(h)
    h.apply_snapshot("first", {"instanceRef": {"name": "orders"}})
    h.apply_snapshot("second", {"instanceRef": {"name": "orders"}})
    h.sim.inject_fault("POST " + SNAPSHOTS, status=502, body="gateway", after=True)
    await h.snapshot_pass("first")
    (lost,) = adhoc(h, instance_id)
    answered = await h.snapshot_pass("second")
    claimed = answered.status["snapshotId"]
    assert claimed != lost

    recovered = await h.snapshot_pass("first")
    assert "Recovered" in recovered.reasons()
    assert recovered.status["snapshotId"] == lost
    assert recovered.condition("Synced")["status"] == "True"
    assert len(snapshot_posts(h)) == 2


async def test_refusals_name_the_field_and_send_nothing(h: Harness) -> None:
    paused_id = await running(h, "paused")
    h.sim.console(paused_id, "pause")
    await h.until(lambda: h.sim_status(paused_id) == "paused", what="paused")
    h.apply("free", type="free-db", memory="1GB")
    free_id = (await h.settle("free")).status["instanceId"]
    h.sim.requests.clear()

    h.apply_snapshot("of-nothing", {"instanceId": "0000dead"})
    h.apply_snapshot("of-missing", {"instanceRef": {"name": "missing"}})
    h.apply_snapshot("of-paused", {"instanceRef": {"name": "paused"}})
    h.apply_snapshot("of-free", {"instanceId": free_id})
    h.apply_snapshot("of-both", {"instanceId": free_id, "instanceRef": {"name": "free"}})
    expected = {
        "of-nothing": "spec.instanceId: instance 0000dead does not exist",
        "of-missing": "spec.instanceRef.name: AuraInstance missing not found",
        "of-paused": f"spec.instanceRef.name: instance {paused_id} is paused",
        "of-free": f"spec.instanceId: instance {free_id} is free-db",
        "of-both": "spec needs exactly one of instanceRef",
    }
    for name, message in expected.items():
        refused = await h.snapshot_pass(name)
        synced = refused.condition("Synced")
        assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec"), name
        assert synced["message"].startswith(message), synced["message"]
        assert refused.condition("Ready")["reason"] == "Pending"
        assert "InvalidSpec" in refused.reasons()
        assert "request" not in refused.status
    assert h.changes() == []


async def test_a_tier_without_on_demand_snapshots_is_refused_once_by_402(h: Harness) -> None:
    instance_id = await running(h)
    h.sim.update_config(no_adhoc_snapshots=["professional-db"])
    h.apply_snapshot("before", {"instanceRef": {"name": "orders"}})
    refused = await h.snapshot_pass("before")
    synced = refused.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec")
    assert "402 Payment Required" in synced["message"]
    assert synced["message"].startswith("spec.instanceRef.name:")
    assert refused.status.get("request") is None  # nothing was taken: no intent left open
    assert refused.delay is None
    assert snapshot_posts(h) == [f"/v1/instances/{instance_id}/snapshots 402"]
    assert adhoc(h, instance_id) == []


async def test_an_instance_ref_without_an_instance_waits_pending(h: Harness) -> None:
    h.kube.add_instance(NS, "later", {"type": "professional-db"})  # never reconciled yet
    h.apply_snapshot("before", {"instanceRef": {"name": "later"}})
    waiting = await h.snapshot_pass("before")
    ready, synced = waiting.condition("Ready"), waiting.condition("Synced")
    assert (ready["status"], ready["reason"]) == ("False", "Pending")
    assert "waiting for AuraInstance later" in ready["message"]
    assert (synced["status"], synced["reason"]) == ("True", "ReconcileSuccess")
    assert waiting.delay is not None  # looked at again, not an error
    assert waiting.events == []
    assert h.requests() == []


async def test_a_snapshot_by_instance_id_uses_its_aura_credential(h: Harness) -> None:
    instance_id = await running(h)
    add_credential(h, "team-a", allowedNamespaces={})
    add_credential(h, "team-b", allowedNamespaces={"matchLabels": {"team": "b"}})

    # A namespace the credential does not allow: refused, nothing sent.
    h.apply_snapshot("denied", {"instanceId": instance_id, "credentialRef": {"name": "team-b"}})
    denied = await h.snapshot_pass("denied")
    synced = denied.condition("Synced")
    assert (synced["reason"], "AuraCredential team-b" in synced["message"]) == (
        "CredentialsInvalid",
        True,
    )
    assert h.requests() == []

    h.apply_snapshot("allowed", {"instanceId": instance_id, "credentialRef": {"name": "team-a"}})
    await h.snapshot_pass("allowed")
    (post,) = h.requests("POST")
    assert post.client_id == DEMO_CLIENT_ID
    assert h.ctx.rate(DEMO_CLIENT_ID) == 40  # the AuraCredential's budget was applied
