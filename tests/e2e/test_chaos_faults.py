"""Chaos that must never read as terminal, lose a password or waste the budget (issue 10).

Faults on the token endpoint, a 429 storm on every endpoint for two credentials at once, lost
Secrets, and a burst of invalid objects. Each test ends with the audit of
tests/harness/audit.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client

from tests.harness.audit import audit
from tests.harness.aura_env import BASE_SPEC, AuraEnv, condition, settled, synced

pytestmark = pytest.mark.e2e


def creates(env: AuraEnv) -> list[dict[str, Any]]:
    return [r for r in env.sim_requests() if (r["method"], r["path"]) == ("POST", "/v1/instances")]


def watch_reasons(env: AuraEnv, name: str, seconds: float) -> set[str]:
    """Every Synced reason the object shows during `seconds` (sampled every 0.2 s)."""
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        obj = env.get(name) or {}
        seen.add(condition(obj, "Synced").get("reason", ""))
        time.sleep(0.2)
    return seen


# ---------------------------------------------------------------- the token endpoint fails


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503},
        {"status": None, "drop": True},
        {"status": None, "latency": 60},
    ],
    ids=["503", "connection-reset", "timeout"],
)
def test_a_failing_token_endpoint_is_transient_never_credentials_invalid(
    aura_env: AuraEnv, fault: dict[str, Any]
) -> None:
    aura_env.run_operator(AURA_OPERATOR_HTTP_TIMEOUT="2", AURA_OPERATOR_CONNECT_TIMEOUT="2")
    aura_env.apply("orders")
    aura_env.wait_for("orders", settled, what="settled", timeout=60)

    # For 30 s no token can be had; the current one is expired, so every request needs one.
    aura_env.sim("POST", "/_sim/faults", {"route": "/oauth/token", "duration": 30, **fault})
    aura_env.sim("POST", "/_sim/tokens/expire", {"client_id": "aura-demo"})
    aura_env.patch("orders", {"spec": {"memory": "4GB"}})  # work that needs Aura
    seen = watch_reasons(aura_env, "orders", 30)

    assert "CredentialsInvalid" not in seen, seen
    assert "ReconcileError" in seen, f"the outage was not reported: {seen}"
    assert all(reason != "CredentialsInvalid" for _, reason, _ in aura_env.events("orders"))
    aura_env.wait_for(
        "orders",
        lambda o: settled(o) and o["status"].get("memory") == "4GB",
        what="resized once the token endpoint is back",
        timeout=60,
    )
    audit(aura_env, ["orders"])


# ------------------------------------------------------------- a 429 storm, two credentials


def test_a_429_storm_on_every_endpoint_is_waited_out_by_both_credentials(
    aura_env: AuraEnv,
) -> None:
    config = aura_env.sim("GET", "/_sim/config")
    team = {"client_id": "team-b", "client_secret": "team-b-secret"}
    aura_env.sim("PATCH", "/_sim/config", {"credentials": [*config["credentials"], team]})
    aura_env.core.create_namespaced_secret(
        aura_env.namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="team-b"),
            string_data={"AURA_CLIENT_ID": "team-b", "AURA_CLIENT_SECRET": "team-b-secret"},
        ),
    )
    aura_env.run_operator()
    aura_env.apply("alpha")
    aura_env.apply("beta", {**BASE_SPEC, "credentialsSecretRef": {"name": "team-b"}})
    for name in ("alpha", "beta"):
        aura_env.wait_for(name, settled, what="settled", timeout=60)

    retry_after = 3.0
    aura_env.sim(
        "POST",
        "/_sim/faults",
        {"route": "*", "status": 429, "retry_after": retry_after, "duration": 20},
    )
    for name in ("alpha", "beta"):
        aura_env.patch(name, {"spec": {"memory": "4GB"}})
    seen = watch_reasons(aura_env, "alpha", 20)
    assert "Throttled" in seen, seen

    for name in ("alpha", "beta"):
        aura_env.wait_for(
            name,
            lambda o: settled(o) and o["status"].get("memory") == "4GB",
            what="resized after the storm",
            timeout=60,
        )
    refused = {r["client_id"] for r in aura_env.sim_requests() if r["status"] == 429}
    assert refused >= {"aura-demo", "team-b"}, "the storm did not reach both credentials"
    audit(aura_env, ["alpha", "beta"], retry_after=retry_after)


# ------------------------------------------------------------------------- lost Secrets


def test_connection_secret_and_its_backup_both_deleted(aura_env: AuraEnv) -> None:
    """Every copy of the password lost: the connection Secret, its backup and the Service
    Binding Secret (deleted while the object is paused, so that none is rewritten from
    another in between)."""
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_for("orders", settled, what="settled", timeout=60)
    instance_id = obj["status"]["instanceId"]

    aura_env.patch("orders", {"metadata": {"annotations": {"aura-operator.dev/reconcile": "skip"}}})
    aura_env.wait_for(
        "orders", lambda o: synced(o, "ReconcilePaused", "False"), what="ReconcilePaused"
    )
    for name in (f"aura-backup-{instance_id}", "orders-connection", "orders-binding"):
        aura_env.core.delete_namespaced_secret(name, aura_env.namespace)
    aura_env.patch("orders", {"metadata": {"annotations": {"aura-operator.dev/reconcile": None}}})

    # The instance is kept (deleting it would lose data); the Secret comes back with everything
    # but the password, and the condition says what is missing and what to do.
    obj = aura_env.wait_for(
        "orders",
        lambda o: condition(o, "ConnectionSecretReady").get("reason") == "PasswordUnavailable",
        what="PasswordUnavailable",
    )
    secret = aura_env.secret("orders-connection") or {}
    assert secret.get("AURA_INSTANCEID") == instance_id
    assert "NEO4J_PASSWORD" not in secret
    assert "binding" not in obj["status"]
    assert len(creates(aura_env)) == 1
    assert [i["id"] for i in aura_env.sim_instances()] == [instance_id]
    assert aura_env.operator is not None and aura_env.operator.process.running


def test_credential_secret_deleted_and_restored(aura_env: AuraEnv) -> None:
    credential = client.V1Secret(
        metadata=client.V1ObjectMeta(name="team-aura"),
        string_data={"AURA_CLIENT_ID": "aura-demo", "AURA_CLIENT_SECRET": "aura-demo-secret"},
    )
    aura_env.core.create_namespaced_secret(aura_env.namespace, credential)
    aura_env.run_operator()
    aura_env.apply("orders", {**BASE_SPEC, "credentialsSecretRef": {"name": "team-aura"}})
    aura_env.wait_for("orders", settled, what="settled", timeout=60)

    aura_env.core.delete_namespaced_secret("team-aura", aura_env.namespace)
    aura_env.patch("orders", {"spec": {"memory": "4GB"}})
    obj = aura_env.wait_for(
        "orders", lambda o: synced(o, "CredentialsInvalid", "False"), what="CredentialsInvalid"
    )
    assert "team-aura" in condition(obj, "Synced")["message"]

    aura_env.core.create_namespaced_secret(aura_env.namespace, credential)
    aura_env.wait_for(
        "orders",
        lambda o: settled(o) and o["status"].get("memory") == "4GB",
        what="resized once the credential is back",
        timeout=60,
    )
    assert len(creates(aura_env)) == 1
    audit(aura_env, ["orders"])


# -------------------------------------------------------------- a burst of invalid objects

#: Every way a spec can be refused before anything is sent to Aura (beyond the CRD schema),
#: with the field its condition must name.
INVALID = {
    "no-region": ({k: v for k, v in BASE_SPEC.items() if k != "region"}, "spec.region"),
    "no-memory": ({k: v for k, v in BASE_SPEC.items() if k != "memory"}, "spec.memory"),
    "bad-region": ({**BASE_SPEC, "region": "mars-north1"}, "spec.region"),
    "bad-memory": ({**BASE_SPEC, "memory": "3GB"}, "spec.memory"),
    "other-cloud": ({**BASE_SPEC, "cloudProvider": "azure"}, "spec.region"),
    "bad-tenant": ({**BASE_SPEC, "tenantId": "00000000-dead-beef"}, "spec.tenantId"),
    "vector-small": ({**BASE_SPEC, "vectorOptimized": True}, "spec.vectorOptimized"),
    "gds-on-bc": (
        {**BASE_SPEC, "type": "business-critical", "graphAnalyticsPlugin": True},
        "spec.graphAnalyticsPlugin",
    ),
    "observe-nothing": ({**BASE_SPEC, "managementPolicy": "ObserveOnly"}, "spec.instanceId"),
    "adopt-unknown": ({"instanceId": "ffffffff"}, "spec.instanceId"),
}


def test_a_burst_of_invalid_objects_sends_no_create(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    for name, (spec, _) in INVALID.items():
        aura_env.apply(name, spec)
    for name, (_, field) in INVALID.items():
        obj = aura_env.wait_for(
            name, lambda o: synced(o, "InvalidSpec", "False"), what="InvalidSpec", timeout=60
        )
        assert field in condition(obj, "Synced")["message"], (name, condition(obj, "Synced"))
        aura_env.wait_event(name, "InvalidSpec")  # kopf posts events from a queue: wait
    assert creates(aura_env) == []
    assert aura_env.sim_instances() == []
    audit(aura_env, list(INVALID))
