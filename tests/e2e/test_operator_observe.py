"""Adopt, observe, pause reconciling, and correct drift (issue 5, behaviours 6 and 7).

The real operator process, under its service account's Role, against a real API server and the
Aura simulator. What a user sees (status, conditions, events, the Secret) is checked together
with what Aura saw (the simulator's state and its request log).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.harness.aura_env import AuraEnv, condition, is_true, observed_since, settled, synced

pytestmark = pytest.mark.e2e

SKIP = "aura-operator.dev/reconcile"
DEMO = "aura-demo"


def sim_instance(env: AuraEnv, instance_id: str) -> dict[str, Any]:
    state = env.sim("GET", "/_sim/state")
    instances = state["instances"]
    items = instances.values() if isinstance(instances, dict) else instances
    for item in items:
        if item["id"] == instance_id:
            return dict(item)
    return {}


def wait_sim_status(env: AuraEnv, instance_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        instance = sim_instance(env, instance_id)
        return instance if instance.get("status") == status else None

    return env.wait_until(reached, what=f"instance {instance_id} to be {status} in Aura")


def about(requests: list[dict[str, Any]], instance_id: str) -> list[dict[str, Any]]:
    return [r for r in requests if instance_id in r["path"]]


def writes(requests: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Everything but reads (and the token request, which every API call needs)."""
    return [
        (r["method"], r["path"])
        for r in requests
        if r["method"] != "GET" and r["path"] != "/oauth/token"
    ]


# ------------------------------------------------------------------ 6. adopt and observe


def test_adopt_existing_instance_without_creating_and_says_why_no_password(
    aura_env: AuraEnv,
) -> None:
    instance_id = aura_env.sim_create_by_hand("made-by-hand")
    made = wait_sim_status(aura_env, instance_id, "running")
    started = time.time()
    aura_env.run_operator()
    aura_env.apply("adopted", {"instanceId": instance_id})
    obj = aura_env.wait_for("adopted", settled, what="Ready, Synced")

    status = obj["status"]
    assert status["instanceId"] == instance_id
    assert status["state"] == "running"
    assert status["connectionUrl"] == made["connection_url"]
    assert "creation" not in status  # no intent to create was ever recorded
    cond = condition(obj, "ConnectionSecretReady")
    assert (cond["status"], cond["reason"]) == ("False", "PasswordUnavailable"), cond
    assert "NEO4J_PASSWORD" in cond["message"] and "adopted" in cond["message"]

    secret = aura_env.secret("adopted-connection")
    assert secret is not None
    assert "NEO4J_PASSWORD" not in secret
    assert secret["NEO4J_URI"] == made["connection_url"]
    assert secret["AURA_INSTANCEID"] == instance_id
    assert secret["AURA_INSTANCENAME"] == "made-by-hand"

    # Aura: the one instance, unchanged; the operator only read it (no POST /v1/instances).
    (only,) = aura_env.sim_instances()
    assert (only["id"], only["name"], only["memory"]) == (instance_id, "made-by-hand", "2GB")
    sent = aura_env.sim_requests_since(started)
    assert ("GET", f"/v1/instances/{instance_id}") in [(r["method"], r["path"]) for r in sent]
    assert writes(sent) == []
    assert made["password"] not in aura_env.operator_log()


def test_observe_only_sends_nothing_but_gets_even_when_the_spec_differs(
    aura_env: AuraEnv,
) -> None:
    instance_id = aura_env.sim_create_by_hand("observed")
    wait_sim_status(aura_env, instance_id, "running")
    started = time.time()
    aura_env.run_operator()
    # Memory and paused differ from the instance: Full would resize and pause it.
    aura_env.apply(
        "watched",
        {
            "instanceId": instance_id,
            "managementPolicy": "ObserveOnly",
            "memory": "4GB",
            "paused": True,
        },
    )
    obj = aura_env.wait_for("watched", settled, what="Ready, Synced")
    assert "ObserveOnly" in condition(obj, "Synced")["message"]
    assert obj["status"]["memory"] == "2GB"  # what Aura has, not what the spec says

    # A spec change wakes the loop: still nothing but a read.
    aura_env.patch("watched", {"spec": {"memory": "8GB"}})
    obj = aura_env.wait_for(
        "watched",
        lambda o: settled(o) and o["metadata"]["generation"] == 2,
        what="generation 2 observed",
    )
    changed = time.time()
    # Two drift reads after the change.
    aura_env.wait_until(
        lambda: len(about(aura_env.sim_requests_since(changed), instance_id)) >= 2,
        what="two drift reads",
    )

    sent = aura_env.sim_requests_since(started)
    assert sent, "the operator sent nothing at all"
    assert {r["method"] for r in sent if r["path"] != "/oauth/token"} == {"GET"}
    assert writes(sent) == []
    instance = sim_instance(aura_env, instance_id)
    assert (instance["status"], instance["memory"]) == ("running", "2GB")
    assert is_true(aura_env.get("watched") or {}, "Ready")


def test_reconcile_skip_annotation_stops_and_resumes_reconciling(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("held")
    aura_env.apply("clock")  # its drift reads show that time passes and the operator is alive
    held_id = aura_env.wait_for("held", settled, what="Ready")["status"]["instanceId"]
    clock_id = aura_env.wait_for("clock", settled, what="Ready")["status"]["instanceId"]

    aura_env.patch("held", {"metadata": {"annotations": {SKIP: "skip"}}})
    obj = aura_env.wait_for(
        "held", lambda o: synced(o, "ReconcilePaused", "False"), what="Synced=False paused"
    )
    assert "aura-operator.dev/reconcile" in condition(obj, "Synced")["message"]
    paused_at = time.time()
    # While skipped: a spec change and an out-of-band resize are both left alone.
    aura_env.patch("held", {"spec": {"memory": "4GB"}})
    aura_env.sim("POST", f"/_sim/instances/{held_id}/console", {"action": "pause"})
    aura_env.wait_until(
        lambda: len(about(aura_env.sim_requests_since(paused_at), clock_id)) >= 3,
        what="three drift reads of the other instance",
        timeout=20,
    )
    assert about(aura_env.sim_requests_since(paused_at, client_id=None), held_id) == []
    held = aura_env.get("held") or {}
    assert synced(held, "ReconcilePaused", "False")
    assert held["status"]["memory"] == "2GB"

    # Removing the annotation resumes: the instance is resumed, then resized to the spec.
    resumed_at = time.time()
    aura_env.patch("held", {"metadata": {"annotations": {SKIP: None}}})
    obj = aura_env.wait_for(
        "held",
        lambda o: settled(o) and o["status"].get("memory") == "4GB",
        what="resumed and resized to 4GB",
        timeout=40,
    )
    instance = sim_instance(aura_env, held_id)
    assert (instance["status"], instance["memory"]) == ("running", "4GB")
    assert writes(aura_env.sim_requests_since(resumed_at)) == [
        ("POST", f"/v1/instances/{held_id}/resume"),
        ("PATCH", f"/v1/instances/{held_id}"),
    ]


# ------------------------------------------------------------------------------ 7. drift


def test_instance_deleted_outside_kubernetes_is_replaced(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_for("orders", settled, what="Ready")
    old_id, aura_name = obj["status"]["instanceId"], obj["status"]["creation"]["name"]
    old_backup = f"aura-backup-{old_id.lower()}"
    assert aura_env.secret(old_backup) is not None

    aura_env.sim("POST", f"/_sim/instances/{old_id}/console", {"action": "delete"})
    message = aura_env.wait_event("orders", "InstanceGone")
    assert old_id in message
    obj = aura_env.wait_for(
        "orders",
        lambda o: settled(o) and o["status"].get("instanceId") not in (None, old_id),
        what="a replacement instance, Ready",
        timeout=40,
    )

    new_id = obj["status"]["instanceId"]
    (instance,) = [i for i in aura_env.sim_instances() if i["name"] == aura_name]
    assert instance["id"] == new_id
    secret = aura_env.secret("orders-connection")
    assert secret is not None
    assert secret["AURA_INSTANCEID"] == new_id
    assert secret["NEO4J_PASSWORD"] == instance["password"]
    assert is_true(obj, "ConnectionSecretReady")
    assert aura_env.secret(old_backup) is None  # the gone instance's password is not kept
    posts = [
        r for r in aura_env.sim_requests() if (r["method"], r["path"]) == ("POST", "/v1/instances")
    ]
    assert len(posts) == 2


def test_instance_paused_outside_kubernetes_is_resumed(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders")
    instance_id = aura_env.wait_for("orders", settled, what="Ready")["status"]["instanceId"]

    changed = time.time()
    aura_env.sim("POST", f"/_sim/instances/{instance_id}/console", {"action": "pause"})
    message = aura_env.wait_event("orders", "DriftDetected")
    assert instance_id in message and "resum" in message
    # Read after the pause: the status from before it says running too (issue 17).
    obj = aura_env.wait_for(
        "orders",
        lambda o: observed_since(o, changed) and settled(o) and o["status"]["state"] == "running",
        what="running again",
    )
    assert condition(obj, "Ready")["reason"] == "Available"
    assert sim_instance(aura_env, instance_id)["status"] == "running"
    assert writes(aura_env.sim_requests_since(changed)) == [
        ("POST", f"/v1/instances/{instance_id}/resume")
    ]


def test_instance_resized_outside_kubernetes_is_resized_back(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders")
    instance_id = aura_env.wait_for("orders", settled, what="Ready")["status"]["instanceId"]

    changed = time.time()
    aura_env.sim(
        "POST", f"/_sim/instances/{instance_id}/console", {"action": "resize", "memory": "8GB"}
    )
    message = aura_env.wait_event("orders", "DriftDetected")
    assert "memory 8GB→2GB" in message, message
    aura_env.wait_until(
        lambda: (
            (i := sim_instance(aura_env, instance_id))["memory"] == "2GB"
            and i["status"] == "running"
        ),
        what="memory back to 2GB in Aura",
    )
    # Read after the resize: the status from before it says 2GB too (issue 17).
    obj = aura_env.wait_for(
        "orders",
        lambda o: observed_since(o, changed) and settled(o) and o["status"].get("memory") == "2GB",
        what="status memory 2GB",
    )
    assert obj["status"]["state"] == "running"
    assert writes(aura_env.sim_requests_since(changed)) == [
        ("PATCH", f"/v1/instances/{instance_id}")
    ]
