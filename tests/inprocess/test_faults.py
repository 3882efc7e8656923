"""Errors say what they are, nothing escapes a pass, and two leaders still POST once.

Faults come from where they happen in production: the API server (FakeKube.fail, no answer
at all, as while it restarts) and Aura (the simulator's faults), never from patching the
operator.
"""

from __future__ import annotations

import asyncio

from tests.inprocess.harness import NS, Harness, harness


async def test_an_api_server_fault_before_the_create_is_a_reconcile_error_and_sends_nothing(
    h: Harness,
) -> None:
    h.apply("orders")
    h.kube.fail(methods={"get_secret"})  # the check that the Secret's name is free
    failed = await h.run_pass("orders")
    assert failed.write_error is None
    synced = failed.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "ReconcileError")
    assert "Kubernetes API" in synced["message"]
    assert "API server unreachable" in synced["message"]
    assert "next attempt at" in synced["message"]
    assert failed.status["nextAttemptAt"]
    assert failed.delay is not None
    assert failed.delay >= 4.0  # the object's error backoff: 5 s with jitter
    assert h.posts() == []
    assert "creation" not in failed.status

    created = await h.run_pass("orders")
    assert "Created" in created.reasons()
    assert "nextAttemptAt" not in created.status
    assert len(h.posts()) == 1


async def test_an_api_server_fault_after_the_create_loses_neither_instance_nor_password(
    h: Harness,
) -> None:
    """Aura answered with the password, then the Secret could not be written: the pass ends
    in ReconcileError, and the next one finds the instance by name and writes the password it
    kept in memory. One POST."""
    h.apply("orders")
    h.kube.fail(methods={"create_secret"})
    failed = await h.run_pass("orders")
    assert failed.condition("Synced")["reason"] == "ReconcileError"
    assert h.kube.secret(NS, "orders-connection") is None
    (instance_id,) = h.sim.state.instances

    recovered = await h.run_pass("orders")
    assert "Recovered" in recovered.reasons()
    assert recovered.status["instanceId"] == instance_id
    await h.settle("orders")
    secret = h.secret("orders-connection")
    assert secret is not None
    assert secret["NEO4J_PASSWORD"] == h.sim.instance(instance_id).password
    assert h.changes() == ["POST /v1/instances 202"]


async def test_a_token_endpoint_that_resets_connections_is_never_credentials_invalid() -> None:
    async with harness(max_retries=0) as h:
        h.sim.inject_fault("/oauth/token", status=None, drop=True, count=5)
        h.apply("orders")
        failed = await h.run_pass("orders")
        synced = failed.condition("Synced")
        assert (synced["status"], synced["reason"]) == ("False", "ReconcileError")
        assert "token endpoint unreachable" in synced["message"]
        assert "CredentialsInvalid" not in failed.reasons()
        assert failed.delay is not None
        assert h.posts() == []

        h.sim.clear_faults()
        created = await h.run_pass("orders")
        assert "Created" in created.reasons()
        assert len(h.posts()) == 1


async def test_two_leaders_reading_the_same_object_send_one_post(h: Harness) -> None:
    """Split brain: two replicas both believe they lead and both start a pass from the same
    read. The intent write is conditional on that read's resourceVersion, so only one of them
    records it and POSTs; the other is told the object changed and reads it again."""
    h.apply("orders")
    other = h.add_replica()
    read = h.obj("orders")
    first, second = await asyncio.gather(
        h.run_pass("orders", body=read), h.run_pass("orders", replica=other, body=read)
    )
    assert len(h.posts()) == 1
    winner, loser = (first, second) if "Created" in first.reasons() else (second, first)
    assert "Created" in winner.reasons()
    # The loser writes nothing (its view is stale) and reads the object again at once.
    assert loser.outcome.stale and loser.outcome.requeue_after == 0.0
    assert loser.events == []
    status = h.obj("orders")["status"]
    assert status["instanceId"] and {c["reason"] for c in status["conditions"]} >= {"Creating"}

    # Both go on from fresh reads: the loser sees the winner's instance, nobody POSTs again.
    for replica in (other, h.main, other):
        await h.run_pass("orders", replica=replica)
    settled = await h.settle("orders")
    assert settled.status["instanceId"] in h.sim.state.instances
    assert len(h.posts()) == 1
