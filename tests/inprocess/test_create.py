"""Create exactly once and never lose the password, in process.

Each test drives passes by hand and reads, as a user would, the object's status, conditions and
events, the Secrets, and the simulator's request log: what was really sent to Aura.
"""

from __future__ import annotations

import pytest

from aura_operator.aura import AuraOutcomeUnknown
from aura_operator.kinds.instance.model import AuraInstance
from aura_simulator import DEMO_TENANT_ID
from tests.inprocess.harness import NS, Harness


async def test_a_create_posts_once_and_writes_the_password_before_anything_else(
    h: Harness,
) -> None:
    # Aura creates for as long as the test looks at the first pass (at the default 90 ms, a
    # loaded machine saw it running already); then it finishes at once.
    h.sim.update_config(durations={"creating": 1_000_000.0})
    h.apply("orders")
    first = await h.run_pass("orders")

    (post,) = h.posts()
    assert post.status == 202
    status = first.status
    instance_id = status["instanceId"]
    password = h.sim.instance(instance_id).password
    assert status["state"] == "creating"
    assert status["creation"]["name"] == "team-a-orders"
    assert first.condition("Ready")["reason"] == "Creating"
    assert first.condition("Synced")["reason"] == "ReconcileSuccess"
    assert first.condition("ConnectionSecretReady")["reason"] == "Written"
    assert {"SecretWritten", "Created"} <= set(first.reasons())

    # The order of writes: the intent (before the POST), then the Secret with the password
    # (before anything else), its backup, the Service Binding Secret (never ahead of the
    # connection Secret), and only then the rest of the status.
    writes = [(w.method, w.namespace, w.name) for w in h.kube.writes]
    assert writes == [
        ("patch_status", NS, "orders"),
        ("create_secret", NS, "orders-connection"),
        ("create_secret", "aura-system", f"aura-backup-{instance_id}"),
        ("create_secret", NS, "orders-binding"),
        ("patch_status", NS, "orders"),
    ]
    assert status["binding"] == {"name": "orders-binding"}
    assert "creation" in h.kube.writes[0].body["status"]
    assert "instanceId" not in h.kube.writes[0].body["status"]
    assert h.secret("orders-connection") == {
        "NEO4J_URI": f"neo4j+s://{instance_id}.databases.neo4j.io",
        "NEO4J_USERNAME": "neo4j",
        "NEO4J_PASSWORD": password,
        "NEO4J_DATABASE": "neo4j",
        "AURA_INSTANCEID": instance_id,
        "AURA_INSTANCENAME": "team-a-orders",
    }
    backup = h.backup(instance_id)
    assert backup is not None
    assert backup["NEO4J_PASSWORD"] == password

    h.sim.force_status(instance_id, "running")
    ready = await h.settle("orders")
    assert ready.condition("Ready")["reason"] == "Available"
    assert ready.status["observedGeneration"] == 1
    assert len(h.posts()) == 1
    assert h.changes() == ["POST /v1/instances 202"]


async def test_the_status_write_lost_after_a_create_is_recovered_by_the_password(
    h: Harness,
) -> None:
    """The POST was answered and the Secret written, but the API server went away before the
    status was: the next pass finds the instance by name, knows its password, keeps it."""
    h.apply("orders")
    h.kube.fail(methods={"patch_status"}, skip=1)  # the intent goes through, the outcome not
    lost = await h.run_pass("orders")
    assert lost.write_error is not None
    assert "instanceId" not in lost.status
    assert len(h.posts()) == 1

    recovered = await h.run_pass("orders")
    assert "Recovered" in recovered.reasons()
    instance_id = recovered.status["instanceId"]
    assert h.secret("orders-connection")["AURA_INSTANCEID"] == instance_id  # type: ignore[index]
    await h.settle("orders")
    assert len(h.posts()) == 1
    assert h.changes() == ["POST /v1/instances 202"]


async def test_a_lost_create_response_is_looked_for_and_never_resent(h: Harness) -> None:
    """The create happened but its answer was lost (a 502 after Aura acted), and the list lags:
    the operator waits for the instance to show up instead of POSTing again."""
    h.sim.list_lag(60.0)  # real seconds: longer than this test
    h.sim.ambiguous_create(mode="502")
    h.apply("orders")

    first = await h.run_pass("orders")
    assert first.condition("Synced")["reason"] == "ReconcileError"
    assert "no answer" in first.condition("Synced")["message"]
    assert first.condition("Ready")["reason"] == "Pending"
    assert "CreateOutcomeUnknown" in first.reasons()
    assert first.status["creation"]["unansweredAt"] is not None
    assert "instanceId" not in first.status

    for advance in (0.0, 10.0, 10.0):  # still inside the 30 s visibility window
        h.clock.advance(advance)
        looking = await h.run_pass("orders")
        synced = looking.condition("Synced")
        assert (synced["status"], synced["reason"]) == ("False", "ReconcileError")
        assert "unknown outcome; looking for the instance" in synced["message"]
        assert "next attempt at" in synced["message"]
        assert looking.delay is not None
        assert looking.delay >= 1.0
    assert len(h.posts()) == 1
    assert h.changes() == ["POST /v1/instances 502"]


async def test_a_create_that_never_happened_is_made_again_after_the_visibility_window(
    h: Harness,
) -> None:
    """A 502 *before* Aura acted: nothing exists. Only once the window has passed on the
    operator's clock does it create, with a second POST."""
    h.sim.inject_fault("POST /v1/instances", status=502, body="gateway")
    h.apply("orders")
    await h.run_pass("orders")
    h.clock.advance(20.0)
    waiting = await h.run_pass("orders")
    assert "looking for the instance" in waiting.condition("Synced")["message"]
    assert len(h.posts()) == 1

    h.clock.advance(15.0)  # past unansweredAt + 30 s
    again = await h.run_pass("orders")
    assert "CreateNotFound" in again.reasons()
    assert "Created" in again.reasons()
    assert [r.status for r in h.posts()] == [502, 202]
    assert again.status["instanceId"] in h.sim.state.instances


async def test_an_orphan_without_a_password_is_deleted_once_created_and_replaced(
    h: Harness,
) -> None:
    # The orphan creates until the test has seen Aura refuse to delete it (at the default
    # 90 ms, a loaded machine saw it running already); the replacement creates as usual.
    h.sim.update_config(durations={"creating": 1_000_000.0})
    h.sim.ambiguous_create(mode="drop")
    h.apply("orders")
    await h.run_pass("orders")
    (orphan_id,) = h.sim.state.instances

    # Found by name, but its password never reached us: it is unusable. While it is still
    # creating Aura refuses the DELETE (409); the operator says so and waits.
    busy = await h.run_pass("orders")
    assert h.sim_status(orphan_id) == "creating"
    assert busy.condition("Synced")["reason"] == "ReconcileError"
    assert "finish creating so that it can be deleted" in busy.condition("Synced")["message"]
    assert len(h.posts()) == 1

    h.sim.update_config(durations={"creating": 90.0})
    h.sim.force_status(orphan_id, "running")
    replaced = await h.run_pass("orders")
    assert "OrphanDeleted" in replaced.reasons()
    new_id = replaced.status["instanceId"]
    assert new_id != orphan_id
    assert replaced.status["creation"]["discardedIds"] == [orphan_id]
    created = next(m for _, r, m in replaced.events if r == "Created")
    assert f"replacing {orphan_id}" in created
    assert h.changes() == [
        "POST /v1/instances None",  # created, answer dropped
        f"DELETE /v1/instances/{orphan_id} 409",  # still creating
        f"DELETE /v1/instances/{orphan_id} 202",
        "POST /v1/instances 202",
    ]
    assert h.secret("orders-connection")["NEO4J_PASSWORD"] == (  # type: ignore[index]
        h.sim.instance(new_id).password
    )

    # The discarded orphan (still listed while destroying) is never matched again.
    await h.settle("orders")
    assert len(h.posts()) == 2


async def test_two_candidates_stop_the_object_with_create_ambiguous(h: Harness) -> None:
    h.sim.ambiguous_create(count=2, mode="502")
    h.apply("orders")
    await h.run_pass("orders")
    # Another lost create of the same name (e.g. by a replica that lost its lease mid-POST):
    # now two instances may be ours, and neither password is known.
    aura = await h.ctx.credentials.client_for(AuraInstance.from_body(h.obj("orders")))
    with pytest.raises(AuraOutcomeUnknown):
        await aura.create_instance(
            name="team-a-orders",
            version="5",
            region="europe-west1",
            memory="2GB",
            type="professional-db",
            tenant_id=DEMO_TENANT_ID,
            cloud_provider="gcp",
        )
    ids = sorted(h.sim.state.instances)
    assert len(ids) == 2

    stopped = await h.run_pass("orders")
    synced = stopped.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "CreateAmbiguous")
    assert all(i in synced["message"] for i in ids)
    assert "set spec.instanceId" in synced["message"]
    assert ("Warning", "CreateAmbiguous") in [(t, r) for t, r, _ in stopped.events]
    assert stopped.delay is None  # terminal: only a change of the object helps
    assert "nextAttemptAt" not in stopped.status
    assert h.changes() == ["POST /v1/instances 502"] * 2  # nothing deleted, nothing resent
