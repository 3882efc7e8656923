"""Deleting an AuraInstance (deletion.finalize): keep or delete, and never outrun a create.

Each finalizer attempt runs as the kopf handler runs it; `retry_after` set means the finalizer
stays and kopf calls again later (the test calls again once the simulator has moved on).
"""

from __future__ import annotations

import time

from tests.inprocess.harness import NS, OPERATOR_NS, Harness


async def delete_once_settled(h: Harness, instance_id: str) -> None:
    """Finalizer attempts until one sends the DELETE: while the instance is creating, Aura
    answers 409 and the finalizer says it waits for it to settle."""
    for _ in range(10):
        attempt = await h.finalize("orders")
        assert attempt.result is not None
        if "Deleting" in attempt.reasons():
            return
        assert "busy" in attempt.result.message
        await h.until(lambda: h.sim_status(instance_id) == "running", what="the create to end")
    raise AssertionError("the finalizer never deleted the instance")


async def test_retain_keeps_the_instance_and_the_secret(h: Harness) -> None:
    h.apply("orders")  # no deletionPolicy: the operator's default, Retain
    ready = await h.settle("orders")
    instance_id = ready.status["instanceId"]
    h.kube.mark_deleted(NS, "orders")

    attempt = await h.finalize("orders")
    assert attempt.done
    assert "Retained" in attempt.reasons()
    assert h.sim_status(instance_id) == "running"
    assert not [c for c in h.changes() if c.startswith("DELETE")]
    secret = h.kube.secret(NS, "orders-connection")
    assert secret is not None
    assert "ownerReferences" not in secret["metadata"]  # garbage collection will not take it
    assert h.backup(instance_id) is not None


async def test_delete_deletes_once_and_releases_when_aura_says_gone(h: Harness) -> None:
    h.apply("orders", deletionPolicy="Delete")
    instance_id = (await h.settle("orders")).status["instanceId"]
    h.kube.mark_deleted(NS, "orders")

    first = await h.finalize("orders")
    assert first.result is not None
    assert first.result.retry_after is not None
    assert "Deleting" in first.reasons()
    await h.until(lambda: h.sim_status(instance_id) == "gone", what="Aura to delete it")

    last = await h.finalize("orders")
    assert last.done
    assert "Deleted" in last.reasons()
    assert h.backup(instance_id) is None
    assert [c for c in h.changes() if c.startswith("DELETE")] == [
        f"DELETE /v1/instances/{instance_id} 202"
    ]


async def test_deletion_during_an_unknown_create_waits_and_deletes_what_shows_up(
    h: Harness,
) -> None:
    h.sim.list_lag(0.3)  # real seconds
    h.sim.ambiguous_create(mode="drop")
    h.apply("orders", deletionPolicy="Delete")
    unknown = await h.run_pass("orders")
    assert "CreateOutcomeUnknown" in unknown.reasons()
    (orphan_id,) = h.sim.state.instances
    h.kube.mark_deleted(NS, "orders")

    # Inside the visibility window Aura's list does not show it yet: the finalizer stays.
    waiting = await h.finalize("orders")
    assert waiting.result is not None
    assert waiting.result.retry_after is not None
    assert "unknown outcome" in waiting.result.message
    assert not [c for c in h.changes() if c.startswith("DELETE")]

    listed = h.sim.instance(orphan_id).listed_at
    await h.until(lambda: time.time() >= listed, what="the list to show the instance")
    await delete_once_settled(h, orphan_id)
    await h.until(lambda: h.sim_status(orphan_id) == "gone", what="Aura to delete it")

    # The finalizer recorded which instance it deleted: its 404 now means gone, at once,
    # and the event says what happened (not "nothing to delete").
    last = await h.finalize("orders")
    assert last.done
    assert "Deleted" in last.reasons() and "CreateNotFound" not in last.reasons()
    assert [c for c in h.changes() if not c.endswith(" 409")] == [
        "POST /v1/instances None",
        f"DELETE /v1/instances/{orphan_id} 202",
    ]


async def test_a_create_that_never_showed_up_is_released_after_the_window(h: Harness) -> None:
    h.sim.inject_fault("POST /v1/instances", status=502, body="gateway")  # before Aura acts
    h.apply("orders", deletionPolicy="Delete")
    await h.run_pass("orders")
    h.kube.mark_deleted(NS, "orders")

    h.clock.advance(29.0)
    waiting = await h.finalize("orders")
    assert waiting.result is not None
    assert waiting.result.retry_after is not None
    h.clock.advance(2.0)
    attempt = await h.finalize("orders")
    assert attempt.done
    assert "CreateNotFound" in attempt.reasons()
    assert h.changes() == ["POST /v1/instances 502"]
    assert h.sim.state.instances == {}


async def test_a_just_created_instance_aura_does_not_show_yet_is_not_taken_for_gone(
    h: Harness,
) -> None:
    """Aura answers 404 on GET for a few seconds after a create (eventual consistency). A
    deletion in those seconds must not release the finalizer: the instance exists and bills."""
    h.sim.list_lag(0.0, get_seconds=0.5)
    h.apply("orders", deletionPolicy="Delete")
    created = await h.run_pass("orders")
    instance_id = created.status["instanceId"]
    h.kube.mark_deleted(NS, "orders")

    early = await h.finalize("orders")
    assert not early.done, early
    assert h.sim_status(instance_id) == "creating"

    visible = h.sim.instance(instance_id).visible_at
    await h.until(lambda: time.time() >= visible, what="Aura to show the instance")
    await delete_once_settled(h, instance_id)
    await h.until(lambda: h.sim_status(instance_id) == "gone", what="Aura to delete it")

    h.clock.advance(31.0)  # past requestedAt + the 30 s window: a 404 now means gone
    last = await h.finalize("orders")
    assert last.done
    assert "Deleted" in last.reasons()
    assert h.kube.secret(OPERATOR_NS, f"aura-backup-{instance_id}") is None
    assert [c for c in h.changes() if c.endswith(" 202")] == [
        "POST /v1/instances 202",
        f"DELETE /v1/instances/{instance_id} 202",
    ]
