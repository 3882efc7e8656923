"""Create exactly once, and never lose the password (issue 5, behaviours 1-3).

The real operator process, under its service account's Role, against a real API server and the
Aura simulator. Assertions are on what a user sees (status, conditions, events, the Secret) and
on the Aura side's ground truth (the simulator's state and request log).
"""

from __future__ import annotations

import time

import pytest

from tests.harness.aura_env import AuraEnv, condition, is_true, observed_since

pytestmark = pytest.mark.e2e

SECRET_KEYS = {
    "NEO4J_URI",
    "NEO4J_USERNAME",
    "NEO4J_PASSWORD",
    "NEO4J_DATABASE",
    "AURA_INSTANCEID",
    "AURA_INSTANCENAME",
}


def instances_named(env: AuraEnv, name: str) -> list[dict[str, object]]:
    return [i for i in env.sim_instances() if i["name"] == name]


def test_create_writes_secret_status_conditions_and_events(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_ready("orders")

    status = obj["status"]
    (instance,) = instances_named(aura_env, status["creation"]["name"])
    assert status["instanceId"] == instance["id"]
    assert status["state"] == "running"
    assert status["connectionUrl"] == instance["connection_url"]
    assert status["tenantId"] == instance["tenant_id"]  # tenantId was omitted: the only tenant
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    for type_, reason in (
        ("Ready", "Available"),
        ("Synced", "ReconcileSuccess"),
        ("ConnectionSecretReady", "Written"),
    ):
        cond = condition(obj, type_)
        assert (cond["status"], cond["reason"]) == ("True", reason), cond
        assert cond["observedGeneration"] == obj["metadata"]["generation"]

    secret = aura_env.secret("orders-connection")
    assert secret is not None
    assert set(secret) == SECRET_KEYS
    assert secret["NEO4J_PASSWORD"] == instance["password"]
    assert secret["NEO4J_URI"] == instance["connection_url"]
    assert secret["AURA_INSTANCEID"] == instance["id"]
    assert secret["NEO4J_USERNAME"] == "neo4j"
    owner = aura_env.secret_object("orders-connection").metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.controller) == ("AuraInstance", "orders", True)

    reasons = [reason for _, reason, _ in aura_env.events("orders")]
    assert "SecretWritten" in reasons
    assert "Created" in reasons
    posts = [
        r for r in aura_env.sim_requests() if r["method"] == "POST" and r["path"] == "/v1/instances"
    ]
    assert len(posts) == 1
    assert instance["password"] not in aura_env.operator_log()


def test_ambiguous_create_is_resolved_without_a_second_blind_post(aura_env: AuraEnv) -> None:
    aura_env.sim("POST", "/_sim/faults/ambiguous-create", {"count": 1, "mode": "502"})
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_ready("orders", timeout=60)

    (instance,) = instances_named(aura_env, obj["status"]["creation"]["name"])  # exactly one
    assert obj["status"]["instanceId"] == instance["id"]
    secret = aura_env.secret("orders-connection")
    assert secret is not None
    assert secret["NEO4J_PASSWORD"] == instance["password"]

    orphan_message = aura_env.wait_event("orders", "OrphanDeleted")
    state = aura_env.sim("GET", "/_sim/state")
    (orphan_id,) = (
        [i for i in state["deleted"]]
        if isinstance(state["deleted"], dict)
        else [d["id"] for d in state["deleted"]]
    )
    assert orphan_id in orphan_message
    assert orphan_id != instance["id"]
    created_message = aura_env.wait_event("orders", "Created")
    assert instance["id"] in created_message or instance["id"] in str(aura_env.events("orders"))
    posts = [
        r for r in aura_env.sim_requests() if r["method"] == "POST" and r["path"] == "/v1/instances"
    ]
    assert len(posts) == 2  # the lost one, then one fresh create after the orphan was deleted
    assert obj["status"]["creation"]["discardedIds"] == [orphan_id]


def test_operator_killed_after_create_keeps_the_instance_and_its_password(
    aura_env: AuraEnv,
) -> None:
    # Creating takes a while in Aura: kill the operator as soon as the POST went out.
    aura_env.run_operator()
    aura_env.apply("orders")
    aura_env.wait_for(
        "orders", lambda o: (o.get("status") or {}).get("instanceId"), what="an instance id"
    )
    aura_env.kill_operator()
    restarted = time.time()
    aura_env.run_operator()
    obj = aura_env.wait_for(
        "orders",
        lambda o: observed_since(o, restarted) and is_true(o, "Ready"),
        what="Ready, read after the restart",
    )

    (instance,) = instances_named(aura_env, obj["status"]["creation"]["name"])
    assert obj["status"]["instanceId"] == instance["id"]
    assert aura_env.secret("orders-connection")["NEO4J_PASSWORD"] == instance["password"]  # type: ignore[index]
    posts = [
        r for r in aura_env.sim_requests() if r["method"] == "POST" and r["path"] == "/v1/instances"
    ]
    assert len(posts) == 1


def test_two_candidates_stop_with_create_ambiguous(aura_env: AuraEnv) -> None:
    # A lost response, then a second instance of the same name appears (say, made by hand):
    # the operator must not pick one.
    # The orphan stays in `creating` for a minute, so it cannot be deleted in the meantime.
    aura_env.sim("PATCH", "/_sim/config", {"durations": {"creating": 6000}})
    aura_env.sim("POST", "/_sim/faults/ambiguous-create", {"count": 1, "mode": "drop"})
    aura_env.run_operator(AURA_OPERATOR_CREATE_VISIBILITY_WINDOW="30")
    aura_env.apply("orders")
    aura_env.wait_event("orders", "CreateOutcomeUnknown")
    aura_name = aura_env.get("orders")["status"]["creation"]["name"]  # type: ignore[index]
    aura_env.sim_create_by_hand(aura_name)
    obj = aura_env.wait_for(
        "orders",
        lambda o: condition(o, "Synced").get("reason") == "CreateAmbiguous",
        what="Synced=False CreateAmbiguous",
        timeout=60,
    )
    assert condition(obj, "Synced")["status"] == "False"
    message = aura_env.wait_event("orders", "CreateAmbiguous")
    ids = [i["id"] for i in instances_named(aura_env, aura_name)]
    assert len(ids) == 2
    assert all(i in message for i in ids)
    assert not is_true(obj, "Ready")
