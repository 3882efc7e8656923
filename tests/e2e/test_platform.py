"""Issue 13 on a real API server, the operator under the chart's RBAC, the simulator over HTTP:
AuraCredential (budgets, allowedNamespaces, status, finalizer) and AuraCustomerManagedKey."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.harness.aura_env import GROUP, VERSION, AuraEnv, condition, is_true, synced

pytestmark = pytest.mark.e2e

CREDENTIALS, KEYS = "auracredentials", "auracustomermanagedkeys"
ENTERPRISE = {
    "type": "enterprise-db",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "memory": "2GB",
    "deletionPolicy": "Delete",
}


def _secret(aura_env: AuraEnv, name: str, client_id: str, secret: str) -> None:
    aura_env.core.create_namespaced_secret(
        aura_env.namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name=name),
            data={
                "AURA_CLIENT_ID": base64.b64encode(client_id.encode()).decode(),
                "AURA_CLIENT_SECRET": base64.b64encode(secret.encode()).decode(),
            },
        ),
    )


def _credential(aura_env: AuraEnv, name: str, secret: str, rpm: float, **spec: Any) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AuraCredential",
        "metadata": {"name": name},
        "spec": {
            "secretRef": {"namespace": aura_env.namespace, "name": secret},
            "requestsPerMinute": rpm,
            **spec,
        },
    }
    aura_env.objects.create_cluster_custom_object(GROUP, VERSION, CREDENTIALS, body)


def _get_credential(aura_env: AuraEnv, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = aura_env.objects.get_cluster_custom_object(
            GROUP, VERSION, CREDENTIALS, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def _wait_credential(aura_env: AuraEnv, name: str, predicate: Any, what: str) -> dict[str, Any]:
    return aura_env.wait_until(
        lambda: (c := _get_credential(aura_env, name)) is not None and predicate(c) and c,
        what=f"{what} on AuraCredential {name}",
        timeout=60,
    )


@pytest.fixture
def credentials(aura_env: AuraEnv) -> Any:
    """Two credentials of the test's own (unique names), removed with their finalizers after."""
    suffix = aura_env.namespace[-6:]
    names = {"a": f"team-a-{suffix}", "b": f"team-b-{suffix}", "c": f"team-c-{suffix}"}
    yield names
    for name in names.values():
        try:
            aura_env.objects.patch_cluster_custom_object(
                GROUP, VERSION, CREDENTIALS, name, {"metadata": {"finalizers": None}}
            )
            aura_env.objects.delete_cluster_custom_object(GROUP, VERSION, CREDENTIALS, name)
        except ApiException:
            pass


def test_two_credentials_keep_their_own_budgets_and_namespaces(
    aura_env: AuraEnv, credentials: dict[str, str]
) -> None:
    # Aura (the simulator) allows team-a 20 requests a minute and team-b 125; team-a's
    # AuraCredential asks for 60, so team-a meets 429s; team-b asks for 30 and never does.
    config = aura_env.sim("GET", "/_sim/config")
    config["credentials"] += [
        {"client_id": "team-a", "client_secret": "a-secret", "rate_limit": 20},
        {"client_id": "team-b", "client_secret": "b-secret"},
    ]
    aura_env.sim("PATCH", "/_sim/config", {"credentials": config["credentials"]})
    _secret(aura_env, "aura-team-a", "team-a", "a-secret")
    _secret(aura_env, "aura-team-b", "team-b", "b-secret")
    ns = aura_env.namespace
    everyone: dict[str, Any] = {"matchLabels": {"aura-operator.dev/e2e": "true"}}
    _credential(aura_env, credentials["a"], "aura-team-a", 60, allowedNamespaces=everyone)
    _credential(aura_env, credentials["b"], "aura-team-b", 30, allowedNamespaces=everyone)
    _credential(aura_env, credentials["c"], "aura-team-b", 30)  # allows no namespace
    aura_env.run_operator(
        AURA_OPERATOR_DRIFT_INTERVAL="1",
        AURA_OPERATOR_DRIFT_JITTER="0",
        AURA_OPERATOR_DRIFT_BUDGET_SHARE="1",
        AURA_OPERATOR_CREDENTIAL_STATUS_INTERVAL="1",
    )

    started = time.time()
    # A namespace the credential does not allow: CredentialsInvalid, naming both; nothing sent.
    aura_env.apply("denied", {**ENTERPRISE, "credentialRef": {"name": credentials["c"]}})
    denied = aura_env.wait_for(
        "denied", lambda o: synced(o, "CredentialsInvalid", "False"), what="CredentialsInvalid"
    )
    message = condition(denied, "Synced")["message"]
    assert credentials["c"] in message and ns in message, message

    for team in ("a", "b"):
        for i in range(3):
            spec = {**ENTERPRISE, "credentialRef": {"name": credentials[team]}}
            aura_env.apply(f"{team}{i}", spec)
    for i in range(3):  # team-a's creates may wait out Aura's holds: not waited for
        aura_env.wait_ready(f"b{i}", timeout=60)
    # team-a exceeds what Aura allows it (and waits out the holds since)...
    aura_env.wait_until(
        lambda: (
            429 in [r["status"] for r in aura_env.sim_requests_since(started, client_id="team-a")]
        ),
        what="team-a's requests beyond what Aura allows it",
    )
    # ... and team-b, under load too (six instances read as often as the budgets allow),
    # never sees it. That team-b stays within its own 30/min (burst 10) while drift wants far
    # more is counted over a window in the in-process layer, at time scale
    # (tests/inprocess/test_platform.py, test_a_credentials_budget_holds_under_load...).
    assert 429 not in [r["status"] for r in aura_env.sim_requests_since(started, "team-b")]
    denied = aura_env.get("denied") or {}
    assert not (denied.get("status") or {}).get("creation")  # nothing was even attempted

    b = _wait_credential(
        aura_env,
        credentials["b"],
        lambda c: is_true(c, "Ready") and (c.get("status") or {}).get("usedBy") == 3,
        "Ready, used by 3",
    )
    assert b["status"]["throttled"]["lastMinute"] == 0
    assert 0 < b["status"]["requests"]["lastMinute"] <= 30 + 10
    a = _wait_credential(
        aura_env,
        credentials["a"],
        lambda c: ((c.get("status") or {}).get("throttled") or {}).get("lastMinute", 0) > 0,
        "429s counted",
    )
    assert a["status"]["usedBy"] == 3
    assert 429 not in [r["status"] for r in aura_env.sim_requests_since(started, "team-b")]

    # requestsPerMinute changes without a restart.
    aura_env.objects.patch_cluster_custom_object(
        GROUP, VERSION, CREDENTIALS, credentials["b"], {"spec": {"requestsPerMinute": 12}}
    )
    _wait_credential(
        aura_env,
        credentials["b"],
        lambda c: (c.get("status") or {}).get("requestsPerMinute") == 12,
        "the new budget",
    )
    # That the new budget binds what is sent is counted in the in-process layer, as above.

    # Deleting a credential in use is held, with an event naming the users. (A generous budget
    # first, so that the passes queued at 12/min drain before the instances are deleted.)
    aura_env.objects.patch_cluster_custom_object(
        GROUP, VERSION, CREDENTIALS, credentials["b"], {"spec": {"requestsPerMinute": 120}}
    )
    _wait_credential(
        aura_env,
        credentials["b"],
        lambda c: (c.get("status") or {}).get("requestsPerMinute") == 120,
        "the generous budget",
    )
    aura_env.objects.delete_cluster_custom_object(GROUP, VERSION, CREDENTIALS, credentials["b"])
    held = _wait_credential(
        aura_env,
        credentials["b"],
        lambda c: condition(c, "Ready").get("reason") == "Deleting",
        "Deleting, held",
    )
    assert f"AuraInstance {ns}/b0" in condition(held, "Ready")["message"]
    events = aura_env.core.list_namespaced_event(
        ns, field_selector=f"involvedObject.name={credentials['b']}"
    ).items
    assert any(e.reason == "CredentialInUse" and "b1" in e.message for e in events)
    for i in range(3):
        aura_env.patch(f"b{i}", {"spec": {"deletionPolicy": "Retain"}})
        aura_env.delete(f"b{i}")
        aura_env.wait_gone(f"b{i}", timeout=60)
    aura_env.wait_until(
        lambda: _get_credential(aura_env, credentials["b"]) is None,
        what="the credential to go once unused",
        timeout=90,
    )


def _key(aura_env: AuraEnv, name: str, **spec: Any) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AuraCustomerManagedKey",
        "metadata": {"name": name},
        "spec": {
            "keyId": "arn:aws:kms:eu:1:key/1",
            "cloudProvider": "gcp",
            "region": "europe-west1",
            "instanceType": "enterprise-db",
            "deletionPolicy": "Delete",
            **spec,
        },
    }
    aura_env.objects.create_namespaced_custom_object(GROUP, VERSION, aura_env.namespace, KEYS, body)


def _get_key(aura_env: AuraEnv, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = aura_env.objects.get_namespaced_custom_object(
            GROUP, VERSION, aura_env.namespace, KEYS, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def test_customer_managed_key_is_created_once_used_and_held_while_active(
    aura_env: AuraEnv,
) -> None:
    aura_env.run_operator()
    # Refused before any POST, naming the field: a tier without keys, a key of another region.
    started = time.time()
    _key(aura_env, "orders-key")
    aura_env.apply(
        "wrong-tier",
        {**ENTERPRISE, "type": "professional-db", "customerManagedKeyRef": {"name": "orders-key"}},
    )
    aura_env.apply(
        "wrong-region",
        {**ENTERPRISE, "region": "us-central1", "customerManagedKeyRef": {"name": "orders-key"}},
    )
    aura_env.apply("orders", {**ENTERPRISE, "customerManagedKeyRef": {"name": "orders-key"}})
    for name in ("wrong-tier", "wrong-region"):
        obj = aura_env.wait_for(
            name, lambda o: synced(o, "InvalidSpec", "False"), what="InvalidSpec"
        )
        assert "spec.customerManagedKeyRef" in condition(obj, "Synced")["message"]

    key = aura_env.wait_until(
        lambda: (k := _get_key(aura_env, "orders-key")) is not None and is_true(k, "Ready") and k,
        what="the key Ready",
    )
    key_id = key["status"]["customerManagedKeyId"]
    obj = aura_env.wait_ready("orders", timeout=60)
    instance = next(i for i in aura_env.sim_instances() if i["id"] == obj["status"]["instanceId"])
    assert instance["customer_managed_key_id"] == key_id
    posts = [
        r
        for r in aura_env.sim_requests_since(started)
        if r["method"] == "POST" and r["path"] in ("/v1/instances", "/v1/customer-managed-keys")
    ]
    assert [r["path"] for r in posts] == ["/v1/customer-managed-keys", "/v1/instances"]

    # Deleting the key while it encrypts an instance: Aura refuses, the finalizer stays.
    aura_env.objects.delete_namespaced_custom_object(
        GROUP, VERSION, aura_env.namespace, KEYS, "orders-key"
    )
    message = aura_env.wait_event("orders-key", "KeyInUse")
    assert key_id in message and "encryption-key-is-active" in message
    held = _get_key(aura_env, "orders-key")
    assert held is not None and condition(held, "Ready")["reason"] == "Deleting"
    aura_env.delete("orders")
    aura_env.wait_gone("orders", timeout=60)
    aura_env.wait_until(
        lambda: _get_key(aura_env, "orders-key") is None, what="the key deleted", timeout=60
    )
    assert [
        r["status"]
        for r in aura_env.sim_requests_since(started)
        if r["method"] == "DELETE" and key_id in r["path"]
    ][-1] == 204


def test_import_adopts_every_instance_and_changes_none(aura_env: AuraEnv) -> None:
    ids = [aura_env.sim_create_by_hand(name) for name in ("Orders DB", "orders db", "9 lives")]
    aura_env.wait_until(
        lambda: all(i["status"] == "running" for i in aura_env.sim_instances()),
        what="the instances running",
    )
    env = {
        **os.environ,
        "AURA_OPERATOR_API_URL": aura_env.simulator.base_url,
        "AURA_CLIENT_ID": "aura-demo",
        "AURA_CLIENT_SECRET": "aura-demo-secret",
    }
    result = subprocess.run(
        [sys.executable, "-m", "aura_operator", "import", "--namespace", aura_env.namespace],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert "aura-demo-secret" not in result.stdout + result.stderr
    assert "password" in result.stdout  # the note: Aura cannot return it
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    names = sorted(d["metadata"]["name"] for d in docs)
    assert names == ["aura-9-lives", "orders-db", "orders-db-2"]
    assert sorted(d["spec"]["instanceId"] for d in docs) == sorted(ids)
    assert {d["spec"]["managementPolicy"] for d in docs} == {"ObserveOnly"}
    assert {d["spec"]["deletionPolicy"] for d in docs} == {"Retain"}

    started = time.time()
    for doc in docs:  # what kubectl apply -f would do
        aura_env.objects.create_namespaced_custom_object(
            GROUP, VERSION, aura_env.namespace, "aurainstances", doc
        )
    aura_env.run_operator()
    for name in names:
        obj = aura_env.wait_for(
            name, lambda o: is_true(o, "Ready") and synced(o, "ReconcileSuccess"), what="adopted"
        )
        assert obj["status"]["instanceId"] in ids
    sent = aura_env.sim_requests_since(started)
    assert sent and {r["method"] for r in sent if r["path"] != "/oauth/token"} == {"GET"}
