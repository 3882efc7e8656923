"""Connection Secret templates and the Service Binding Secret (issue 20), end to end.

The real operator process under its service account's Role, a real API server (with the garbage
collector) and the Aura simulator. A Secret is read as an application sees it: its data keys
decoded, which is what `envFrom` turns into environment variables and a volume into files.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from kubernetes import client

from tests.harness.aura_env import BASE_SPEC, AuraEnv, condition

pytestmark = pytest.mark.e2e

SPRING = {
    "SPRING_NEO4J_URI": "{{ .uri }}",
    "SPRING_NEO4J_AUTHENTICATION_USERNAME": "{{ .username }}",
    "SPRING_NEO4J_AUTHENTICATION_PASSWORD": "{{ .password }}",
}
JDBC = {
    "JDBC_URL": "jdbc:neo4j:neo4j+s://{{ .host }}/{{ .database }}"
    "?user={{ .username }}&password={{ .password }}"
}
DEFAULT_KEYS = {
    "NEO4J_URI",
    "NEO4J_USERNAME",
    "NEO4J_PASSWORD",
    "NEO4J_DATABASE",
    "AURA_INSTANCEID",
    "AURA_INSTANCENAME",
}


def templated(data: dict[str, str], policy: str) -> dict[str, Any]:
    return {**BASE_SPEC, "connectionSecret": {"template": {"data": data, "mergePolicy": policy}}}


def password_of(env: AuraEnv, instance_id: str) -> str:
    (instance,) = [i for i in env.sim_instances() if i["id"] == instance_id]
    password: str = instance["password"]
    return password


def aura_requests(env: AuraEnv) -> list[str]:
    return [
        f"{r['method']} {r['path']}" for r in env.sim_requests() if r["path"].startswith("/v1/")
    ]


def test_a_spring_boot_app_reads_its_keys_and_a_deleted_secret_returns_with_the_password(
    aura_env: AuraEnv,
) -> None:
    """Replace: the Secret holds exactly the keys Spring Boot reads. Deleted, it comes back
    from the backup with the same password under the custom key."""
    aura_env.run_operator(AURA_OPERATOR_DRIFT_INTERVAL="60")
    aura_env.apply("shop", templated(SPRING, "Replace"))
    obj = aura_env.wait_ready("shop")
    instance_id = obj["status"]["instanceId"]
    password = password_of(aura_env, instance_id)

    app_env = aura_env.secret("shop-connection")
    assert app_env == {
        "SPRING_NEO4J_URI": f"neo4j+s://{instance_id}.databases.neo4j.io",
        "SPRING_NEO4J_AUTHENTICATION_USERNAME": "neo4j",
        "SPRING_NEO4J_AUTHENTICATION_PASSWORD": password,
    }
    annotations = aura_env.secret_object("shop-connection").metadata.annotations
    assert annotations["aura-operator.dev/instance-id"] == instance_id
    backup = aura_env.secret(f"aura-backup-{instance_id}")
    assert backup is not None
    assert backup["NEO4J_PASSWORD"] == password  # the backup keeps the default keys

    aura_env.core.delete_namespaced_secret("shop-connection", aura_env.namespace)
    deleted_at = time.monotonic()
    restored = aura_env.wait_until(
        lambda: aura_env.secret("shop-connection"),
        what="the templated connection Secret to be restored",
        timeout=15,
    )
    assert time.monotonic() - deleted_at < 10, "restored by a drift read, not by the watch"
    assert restored == app_env
    assert "from its backup" in aura_env.wait_event("shop", "SecretRestored")
    assert [r for r in aura_requests(aura_env) if r.startswith("POST")] == ["POST /v1/instances"]
    assert password not in aura_env.operator_log()


def test_merge_adds_a_jdbc_url_and_a_template_change_re_renders(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("reports", templated(JDBC, "Merge"))
    obj = aura_env.wait_ready("reports")
    instance_id = obj["status"]["instanceId"]
    password = password_of(aura_env, instance_id)
    app_env = aura_env.secret("reports-connection")
    assert app_env is not None
    assert set(app_env) == DEFAULT_KEYS | {"JDBC_URL"}
    assert app_env["NEO4J_PASSWORD"] == password
    assert app_env["JDBC_URL"] == (
        f"jdbc:neo4j:neo4j+s://{instance_id}.databases.neo4j.io/neo4j"
        f"?user=neo4j&password={password}"
    )

    # A merge patch: JDBC_URL is removed from the template by setting it to null.
    template = {"data": {**SPRING, "JDBC_URL": None}, "mergePolicy": "Replace"}
    aura_env.patch("reports", {"spec": {"connectionSecret": {"template": template}}})
    rendered = aura_env.wait_until(
        lambda: (s := aura_env.secret("reports-connection")) and "JDBC_URL" not in s and s,
        what="the Secret re-rendered from the new template",
    )
    assert set(rendered) == set(SPRING)
    assert rendered["SPRING_NEO4J_AUTHENTICATION_PASSWORD"] == password


def test_an_unknown_placeholder_is_invalid_spec_and_nothing_reaches_aura(
    aura_env: AuraEnv,
) -> None:
    aura_env.run_operator()
    aura_env.apply("typo", templated({"SPRING_NEO4J_URI": "{{ .url }}"}, "Replace"))
    obj = aura_env.wait_for(
        "typo",
        lambda o: condition(o, "Synced").get("reason") == "InvalidSpec",
        what="Synced=False InvalidSpec",
    )
    message = condition(obj, "Synced")["message"]
    assert condition(obj, "Synced")["status"] == "False"
    assert "spec.connectionSecret.template.data[SPRING_NEO4J_URI]" in message
    assert "unknown placeholder .url; allowed: .uri, .host, .username, .password" in message
    assert "SPRING_NEO4J_URI" in aura_env.wait_event("typo", "InvalidSpec")
    assert aura_requests(aura_env) == []
    assert aura_env.secret("typo-connection") is None
    assert aura_env.secret("typo-binding") is None
    assert not (obj.get("status") or {}).get("instanceId")


def test_status_binding_name_resolves_to_a_service_binding_secret(aura_env: AuraEnv) -> None:
    """AuraInstance as a Provisioned Service: what a ServiceBinding controller reads."""
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_ready("orders")
    instance_id = obj["status"]["instanceId"]
    name = obj["status"]["binding"]["name"]
    assert name == "orders-binding"
    secret: client.V1Secret = aura_env.secret_object(name)
    assert secret.type == "servicebinding.io/neo4j"
    (owner,) = secret.metadata.owner_references
    assert (owner.kind, owner.name, owner.controller) == ("AuraInstance", "orders", True)
    entries = {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}
    assert entries == {
        "type": "neo4j",
        "provider": "neo4j-aura",
        "uri": f"neo4j+s://{instance_id}.databases.neo4j.io",
        "host": f"{instance_id}.databases.neo4j.io",
        "username": "neo4j",
        "password": password_of(aura_env, instance_id),
        "database": "neo4j",
    }
    # The .env-style Secret an app mounts with envFrom gets no new variables from this.
    assert set(aura_env.secret("orders-connection") or {}) == DEFAULT_KEYS
    # Found by type, as servicebinding.io suggests.
    by_type = aura_env.core.list_namespaced_secret(
        aura_env.namespace, field_selector="type=servicebinding.io/neo4j"
    ).items
    assert [s.metadata.name for s in by_type] == ["orders-binding"]

    # Deleted, it is written again (the Secret watch wakes its owner).
    aura_env.core.delete_namespaced_secret(name, aura_env.namespace)
    back = aura_env.wait_until(
        lambda: aura_env.secret(name), what="the binding Secret to be rewritten", timeout=15
    )
    assert back == entries
