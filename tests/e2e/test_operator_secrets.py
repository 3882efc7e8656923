"""Never lose the password (issue 5, behaviour 3).

The real operator process, under its service account's Role, against a real API server (with
kube-controller-manager's garbage collector) and the Aura simulator. Assertions are on what a
user sees (the connection Secret, its backup, status conditions, events) and on the Aura side's
ground truth (the simulator's state and request log).
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from kubernetes import client

from tests.harness.aura_env import BASE_SPEC, AuraEnv, condition

pytestmark = pytest.mark.e2e


BACKUP_LABEL = "aura-operator.dev/backup=true"


def sim_instance(env: AuraEnv, instance_id: str) -> dict[str, Any]:
    (instance,) = [i for i in env.sim_instances() if i["id"] == instance_id]
    return instance


def posts(env: AuraEnv) -> list[dict[str, Any]]:
    return [r for r in env.sim_requests() if r["method"] == "POST" and r["path"] == "/v1/instances"]


def backups(env: AuraEnv, instance_id: str | None = None) -> list[client.V1Secret]:
    """Backup Secrets in the operator's namespace (the test namespace here), found by label."""
    selector = BACKUP_LABEL
    if instance_id is not None:
        selector += f",aura-operator.dev/instance-id={instance_id}"
    items: list[client.V1Secret] = env.core.list_namespaced_secret(
        env.namespace, label_selector=selector
    ).items
    return items


def decoded(secret: client.V1Secret) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def test_backup_exists_and_a_deleted_secret_is_restored_with_the_same_password(
    aura_env: AuraEnv,
) -> None:
    # Drift reads every 60 s: a restore within seconds can only come from the Secret's watch.
    aura_env.run_operator(AURA_OPERATOR_DRIFT_INTERVAL="60")
    aura_env.apply("orders")
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]
    password = sim_instance(aura_env, instance_id)["password"]

    (backup,) = backups(aura_env, instance_id)
    assert backup.metadata.namespace == aura_env.namespace  # AURA_OPERATOR_NAMESPACE
    assert not backup.metadata.owner_references  # it must outlive the AuraInstance
    assert decoded(backup)["NEO4J_PASSWORD"] == password
    assert decoded(backup)["AURA_INSTANCEID"] == instance_id

    aura_env.core.delete_namespaced_secret("orders-connection", aura_env.namespace)
    deleted_at = time.monotonic()
    restored = aura_env.wait_until(
        lambda: aura_env.secret("orders-connection"),
        what="the connection Secret to be restored",
        timeout=15,
    )
    assert time.monotonic() - deleted_at < 10, "restored by a drift read, not by the watch"
    assert restored["NEO4J_PASSWORD"] == password
    assert restored["AURA_INSTANCEID"] == instance_id
    owner = aura_env.secret_object("orders-connection").metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.controller) == ("AuraInstance", "orders", True)
    message = aura_env.wait_event("orders", "SecretRestored")
    assert "orders-connection" in message
    assert password not in message
    obj = aura_env.wait_for(
        "orders",
        lambda o: condition(o, "ConnectionSecretReady").get("reason") == "Written",
        what="ConnectionSecretReady=True Written",
    )
    assert condition(obj, "ConnectionSecretReady")["status"] == "True"
    assert len(posts(aura_env)) == 1  # restored from the backup, not by creating anew
    assert len(aura_env.sim_instances()) == 1
    assert password not in aura_env.operator_log()


def test_backups_can_be_turned_off(aura_env: AuraEnv) -> None:
    aura_env.run_operator(AURA_OPERATOR_BACKUP_SECRETS="false")
    aura_env.apply("orders")
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]
    password = sim_instance(aura_env, instance_id)["password"]
    secret = aura_env.secret("orders-connection")
    assert secret is not None
    assert secret["NEO4J_PASSWORD"] == password
    assert backups(aura_env) == []
    # The only other copy is the Service Binding Secret, beside it and owned by the object.
    all_secrets = aura_env.core.list_namespaced_secret(aura_env.namespace).items
    assert [s.metadata.name for s in all_secrets if password in decoded(s).values()] == [
        "orders-binding",
        "orders-connection",
    ]

    # Without a backup, a deleted Secret comes back from the binding Secret.
    aura_env.core.delete_namespaced_secret("orders-connection", aura_env.namespace)
    restored = aura_env.wait_until(
        lambda: aura_env.secret("orders-connection"),
        what="the connection Secret to be restored",
        timeout=15,
    )
    assert restored["NEO4J_PASSWORD"] == password
    assert "from the binding Secret" in aura_env.wait_event("orders", "SecretRestored")

    # With both lost, it comes back without the password, and the condition says so (the
    # operator must not invent one, nor create a second instance). The object is paused
    # (reconcile: skip) while both go, so that neither is rewritten from the other.
    aura_env.patch("orders", {"metadata": {"annotations": {"aura-operator.dev/reconcile": "skip"}}})
    aura_env.wait_for(
        "orders",
        lambda o: condition(o, "Synced").get("reason") == "ReconcilePaused",
        what="Synced=False ReconcilePaused",
    )
    for name in ("orders-connection", "orders-binding"):
        aura_env.core.delete_namespaced_secret(name, aura_env.namespace)
    aura_env.patch("orders", {"metadata": {"annotations": {"aura-operator.dev/reconcile": None}}})
    obj = aura_env.wait_for(
        "orders",
        lambda o: condition(o, "ConnectionSecretReady").get("reason") == "PasswordUnavailable",
        what="ConnectionSecretReady=False PasswordUnavailable",
        timeout=15,
    )
    assert condition(obj, "ConnectionSecretReady")["status"] == "False"
    assert "backups" in condition(obj, "ConnectionSecretReady")["message"]
    recreated = aura_env.secret("orders-connection")
    assert recreated is not None
    assert "NEO4J_PASSWORD" not in recreated
    assert recreated["AURA_INSTANCEID"] == instance_id
    assert "password" not in (aura_env.secret("orders-binding") or {})
    assert "binding" not in obj["status"]
    assert backups(aura_env) == []
    assert len(posts(aura_env)) == 1


def test_retain_keeps_the_instance_and_the_secret(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    obj = aura_env.apply("orders", {**BASE_SPEC, "deletionPolicy": "Retain"})
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]
    password = sim_instance(aura_env, instance_id)["password"]
    # A canary owned by the AuraInstance: once the garbage collector has taken it, it has also
    # decided about the connection Secret.
    aura_env.core.create_namespaced_secret(
        aura_env.namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(
                name="canary",
                owner_references=[
                    client.V1OwnerReference(
                        api_version="aura-operator.dev/v1alpha1",
                        kind="AuraInstance",
                        name="orders",
                        uid=obj["metadata"]["uid"],
                    )
                ],
            ),
            string_data={"x": "y"},
        ),
    )

    aura_env.delete("orders")
    aura_env.wait_gone("orders")
    aura_env.wait_until(
        lambda: aura_env.secret("canary") is None,
        what="the garbage collector to delete the canary Secret",
        timeout=30,
    )

    secret = aura_env.secret("orders-connection")
    assert secret is not None, "the connection Secret of a retained instance was deleted"
    assert secret["NEO4J_PASSWORD"] == password
    assert not aura_env.secret_object("orders-connection").metadata.owner_references
    instance = sim_instance(aura_env, instance_id)
    assert instance["status"] == "running"
    assert not [r for r in aura_env.sim_requests() if r["method"] == "DELETE"]
    assert len(backups(aura_env, instance_id)) == 1  # the instance lives on: so does its backup
    message = aura_env.wait_event("orders", "Retained")
    assert instance_id in message
    assert "orders-connection" in message


def test_a_foreign_secret_is_never_overwritten_and_blocks_creation(aura_env: AuraEnv) -> None:
    foreign = aura_env.core.create_namespaced_secret(
        aura_env.namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="orders-connection", labels={"team": "payments"}),
            string_data={"NEO4J_PASSWORD": "someone-elses-password"},
        ),
    )
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_for(
        "orders",
        lambda o: condition(o, "ConnectionSecretReady").get("reason") == "SecretConflict",
        what="ConnectionSecretReady=False SecretConflict",
    )
    assert condition(obj, "ConnectionSecretReady")["status"] == "False"
    assert condition(obj, "Synced")["status"] == "False"
    assert "orders-connection" in aura_env.wait_event("orders", "SecretConflict")
    assert posts(aura_env) == []
    assert aura_env.sim_instances() == []
    assert not (obj.get("status") or {}).get("instanceId")

    # Let a few backoff rounds pass (the condition is rewritten with a new next attempt each
    # time); the Secret stays exactly as its owner left it.
    first = condition(obj, "Synced").get("message")
    aura_env.wait_until(
        lambda: condition(aura_env.get("orders") or {}, "Synced").get("message") != first,
        what="another reconcile attempt",
        timeout=15,
    )
    untouched = aura_env.secret_object("orders-connection")
    assert untouched.metadata.resource_version == foreign.metadata.resource_version
    assert untouched.metadata.owner_references is None
    assert aura_env.secret("orders-connection") == {"NEO4J_PASSWORD": "someone-elses-password"}
    assert posts(aura_env) == []

    # The owner removes it: the operator recovers on its own.
    aura_env.core.delete_namespaced_secret("orders-connection", aura_env.namespace)
    obj = aura_env.wait_ready("orders", timeout=30)
    (instance,) = aura_env.sim_instances()
    assert obj["status"]["instanceId"] == instance["id"]
    secret = aura_env.secret("orders-connection")
    assert secret is not None
    assert secret["NEO4J_PASSWORD"] == instance["password"]
    assert condition(obj, "ConnectionSecretReady")["reason"] == "Written"
    assert len(posts(aura_env)) == 1
