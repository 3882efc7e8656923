"""Update and delete (issue 5, behaviours 4 and 5).

The real operator process, under its service account's Role, against a real API server (with
kube-controller-manager's garbage collector) and the Aura simulator. Assertions are on what a
user sees (status, conditions, events, the Secret) and on the Aura side's ground truth (the
simulator's state and request log).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from kubernetes import client

from tests.harness.aura_env import BASE_SPEC, AuraEnv, condition, is_true

pytestmark = pytest.mark.e2e


FINALIZER = "aura-operator.dev/finalizer"


def sim_instance(env: AuraEnv, instance_id: str) -> dict[str, Any] | None:
    """The instance as Aura has it now, or None once it is gone (destroying counts as there)."""
    instances = env.sim("GET", "/_sim/state")["instances"]
    items = instances.values() if isinstance(instances, dict) else instances
    return next((i for i in items if i["id"] == instance_id), None)


def requests_to(env: AuraEnv, method: str, path: str, **bodies: Any) -> list[dict[str, Any]]:
    query = "?bodies=1" if bodies else ""
    log: list[dict[str, Any]] = env.sim("GET", f"/_sim/requests{query}")
    return [r for r in log if r["method"] == method and r["path"] == path]


def state_of(obj: dict[str, Any]) -> str | None:
    state: str | None = (obj.get("status") or {}).get("state")
    return state


def settled(obj: dict[str, Any]) -> bool:
    """Ready, synced and caught up with the object's current generation."""
    status = obj.get("status") or {}
    return (
        is_true(obj, "Ready")
        and is_true(obj, "Synced")
        and status.get("state") == "running"
        and status.get("observedGeneration") == obj["metadata"]["generation"]
    )


def test_resize_goes_through_updating_and_polls_with_a_delay(aura_env: AuraEnv) -> None:
    # A budget far above the poll rate, so that only the operator's own delay spaces the reads
    # (the default budget would hide a tight loop behind the rate limiter).
    poll = 1.0
    aura_env.run_operator(
        AURA_OPERATOR_POLL_INTERVAL=str(poll), AURA_OPERATOR_REQUESTS_PER_MINUTE="6000"
    )
    aura_env.apply("orders", {**BASE_SPEC, "storage": "4GB"})
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]
    assert obj["status"]["memory"] == "2GB"
    # A resize that takes 5 s (500 s at time scale 100), long enough to count the polls.
    aura_env.sim("PATCH", "/_sim/config", {"durations": {"updating": 500}})

    aura_env.patch("orders", {"spec": {"memory": "4GB", "storage": "8GB"}})
    during = aura_env.wait_for(
        "orders", lambda o: state_of(o) == "updating", what="state updating", timeout=15
    )
    ready = condition(during, "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Updating")  # available throughout
    assert sim_instance(aura_env, instance_id)["status"] == "updating"  # type: ignore[index]
    obj = aura_env.wait_for("orders", settled, what="resized and settled", timeout=30)

    assert obj["status"]["memory"] == "4GB"
    assert obj["status"]["storage"] == "8GB"
    assert condition(obj, "Ready")["reason"] == "Available"
    instance = sim_instance(aura_env, instance_id)
    assert instance is not None
    assert (instance["status"], instance["memory"], instance["storage"]) == (
        "running",
        "4GB",
        "8GB",
    )
    message = aura_env.wait_event("orders", "Updating")
    assert "memory 2GB→4GB" in message
    assert instance_id in message

    path = f"/v1/instances/{instance_id}"
    (patch,) = requests_to(aura_env, "PATCH", path)
    assert patch["status"] == 202
    gets = requests_to(aura_env, "GET", path, bodies=True)
    polls = [
        g
        for g in gets
        if g["time"] > patch["time"]
        and (g["response_body"] or {}).get("data", {}).get("status") == "updating"
    ]
    assert len(polls) >= 2, f"updating was not polled: {len(polls)} GETs"
    window = polls[-1]["time"] - patch["time"]
    # Never a tight loop: a scout reads from what Aura documents the change takes, then every
    # fifth of the poll interval until it has learnt the duration (schedule.TransitionTimes).
    step = poll / 5
    assert len(polls) <= window / step + 1, (len(polls), window)
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise([patch, *polls])]
    assert min(gaps) >= 0.9 * step, gaps
    assert gaps[0] >= 0.9 * poll, "the first read came before the documented duration could pass"


def test_rename_and_feature_flag_are_applied_in_place(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders", {**BASE_SPEC, "memory": "4GB", "name": "orders-db"})
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]
    path = f"/v1/instances/{instance_id}"

    aura_env.patch("orders", {"spec": {"name": "orders-primary"}})
    aura_env.wait_for(
        "orders",
        lambda o: (
            settled(o)
            and (aura_env.secret("orders-connection") or {}).get("AURA_INSTANCENAME")
            == "orders-primary"
        ),
        what="renamed, with the Secret following",
        timeout=20,
    )
    instance = sim_instance(aura_env, instance_id)
    assert instance is not None
    assert instance["name"] == "orders-primary"
    assert len(aura_env.sim_instances()) == 1  # renamed, not recreated
    assert "name orders-db→orders-primary" in aura_env.wait_event("orders", "Updating")

    aura_env.patch("orders", {"spec": {"vectorOptimized": True}})
    obj = aura_env.wait_for(
        "orders",
        lambda o: settled(o) and o["metadata"]["generation"] == 3,
        what="vectorOptimized applied",
        timeout=20,
    )
    instance = sim_instance(aura_env, instance_id)
    assert instance is not None
    assert instance["vector_optimized"] is True
    assert instance["memory"] == "4GB"
    assert obj["status"]["applied"]["vectorOptimized"] is True
    patches = requests_to(aura_env, "PATCH", path)
    assert len(patches) == 2  # one per change, none repeated once applied
    updates = [m for _, r, m in aura_env.events("orders") if r == "Updating"]
    assert any("vector_optimized" in m for m in updates), updates
    assert len(aura_env.sim_instances()) == 1


def test_pause_and_resume(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]

    aura_env.patch("orders", {"spec": {"paused": True}})
    obj = aura_env.wait_for(
        "orders",
        lambda o: (
            state_of(o) == "paused"
            and condition(o, "Ready").get("reason") == "Paused"
            and o["status"].get("observedGeneration") == o["metadata"]["generation"]
        ),
        what="Ready=False Paused",
        timeout=20,
    )
    assert condition(obj, "Ready")["status"] == "False"
    assert is_true(obj, "Synced")
    assert sim_instance(aura_env, instance_id)["status"] == "paused"  # type: ignore[index]
    assert instance_id in aura_env.wait_event("orders", "Pausing")
    assert len(requests_to(aura_env, "POST", f"/v1/instances/{instance_id}/pause")) == 1

    aura_env.patch("orders", {"spec": {"paused": False}})
    obj = aura_env.wait_for("orders", settled, what="resumed", timeout=20)
    assert condition(obj, "Ready")["reason"] == "Available"
    assert sim_instance(aura_env, instance_id)["status"] == "running"  # type: ignore[index]
    assert instance_id in aura_env.wait_event("orders", "Resuming")
    assert len(requests_to(aura_env, "POST", f"/v1/instances/{instance_id}/resume")) == 1
    assert len(aura_env.sim_instances()) == 1


def test_delete_policy_delete_removes_instance_secret_and_backup(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders", {**BASE_SPEC, "deletionPolicy": "Delete"})
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]
    backup_selector = f"aura-operator.dev/backup=true,aura-operator.dev/instance-id={instance_id}"

    def backups() -> list[client.V1Secret]:
        items: list[client.V1Secret] = aura_env.core.list_namespaced_secret(
            aura_env.namespace, label_selector=backup_selector
        ).items
        return items

    assert len(backups()) == 1
    assert aura_env.secret("orders-connection") is not None
    # Destroying takes 4 s: long enough to see the object wait for Aura.
    aura_env.sim("PATCH", "/_sim/config", {"durations": {"destroying": 400}})

    aura_env.delete("orders")
    obj = aura_env.wait_for(
        "orders",
        lambda o: condition(o, "Ready").get("reason") == "Deleting",
        what="Ready=False Deleting",
        timeout=15,
    )
    # Aura is still destroying it: the finalizer holds the object.
    assert (sim_instance(aura_env, instance_id) or {}).get("status") == "destroying"
    assert obj["metadata"]["deletionTimestamp"]
    assert FINALIZER in obj["metadata"]["finalizers"]
    assert condition(obj, "Ready")["status"] == "False"

    aura_env.wait_gone("orders", timeout=30)
    assert sim_instance(aura_env, instance_id) is None
    path = f"/v1/instances/{instance_id}"
    (delete,) = requests_to(aura_env, "DELETE", path)
    assert delete["status"] == 202
    gets = [g for g in requests_to(aura_env, "GET", path) if g["time"] > delete["time"]]
    assert gets and gets[-1]["status"] == 404, [g["status"] for g in gets]
    assert [g for g in gets if g["status"] == 200], "released before Aura finished destroying"
    message = aura_env.wait_event("orders", "Deleted")
    assert instance_id in message

    assert backups() == []  # removed before the finalizer went
    aura_env.wait_until(
        lambda: aura_env.secret("orders-connection") is None,
        what="the garbage collector to delete the connection Secret",
        timeout=30,
    )


def test_force_finalize_releases_a_finalizer_that_cannot_succeed(aura_env: AuraEnv) -> None:
    aura_env.core.create_namespaced_secret(
        aura_env.namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="team-aura-credential"),
            string_data={"AURA_CLIENT_ID": "aura-demo", "AURA_CLIENT_SECRET": "aura-demo-secret"},
        ),
    )
    aura_env.run_operator()
    aura_env.apply(
        "orders",
        {
            **BASE_SPEC,
            "deletionPolicy": "Delete",
            "credentialsSecretRef": {"name": "team-aura-credential"},
        },
    )
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]

    # The credential goes away, then the object is deleted: the finalizer cannot succeed.
    aura_env.core.delete_namespaced_secret("team-aura-credential", aura_env.namespace)
    aura_env.delete("orders")

    # The user is told why the object stays and how to let it go.
    obj = aura_env.wait_for(
        "orders",
        lambda o: (
            condition(o, "Ready").get("reason") == "Deleting"
            and "force-finalize" in condition(o, "Ready").get("message", "")
        ),
        what="Ready=False Deleting naming the way out",
        timeout=20,
    )
    assert "team-aura-credential" in condition(obj, "Ready")["message"]
    message = aura_env.wait_until(
        lambda: next(
            (
                m
                for t, r, m in aura_env.events("orders")
                if (t, r) == ("Warning", "CredentialsInvalid") and "force-finalize" in m
            ),
            None,
        ),
        what="a CredentialsInvalid event naming force-finalize",
        timeout=10,
    )
    assert "team-aura-credential" in message
    assert FINALIZER in obj["metadata"]["finalizers"]
    assert (sim_instance(aura_env, instance_id) or {}).get("status") == "running"

    aura_env.patch(
        "orders", {"metadata": {"annotations": {"aura-operator.dev/force-finalize": "true"}}}
    )
    aura_env.wait_gone("orders", timeout=20)
    message = aura_env.wait_event("orders", "ForceFinalized")
    assert instance_id in message
    # Nothing was deleted in Aura, and the password of the instance that still exists is kept.
    assert (sim_instance(aura_env, instance_id) or {}).get("status") == "running"
    assert requests_to(aura_env, "DELETE", f"/v1/instances/{instance_id}") == []
    secret = aura_env.secret("orders-connection")
    assert secret is not None
    assert secret["NEO4J_PASSWORD"] == sim_instance(aura_env, instance_id)["password"]  # type: ignore[index]
    assert not aura_env.secret_object("orders-connection").metadata.owner_references
