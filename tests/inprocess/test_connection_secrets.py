"""Connection Secret templates and the Service Binding Secret, in process (issue 20).

Every template decision, seen as a user sees it: the Secret's keys, the binding Secret, the
conditions and events, and the simulator's request log (what reached Aura). The password must
survive any template: the backup keeps the default keys, and the Secret says (by annotation)
which key holds the bare password.
"""

from __future__ import annotations

import base64
from typing import Any

from aura_operator.kinds.instance.connection_secret import (
    ANNOTATION_INSTANCE_ID,
    ANNOTATION_PASSWORD_KEY,
)
from aura_operator.kinds.instance.service_binding import SECRET_TYPE
from aura_simulator import DEMO_TENANT_ID
from tests.inprocess.harness import NS, SPEC, Harness, harness

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


def templated(data: dict[str, str], policy: str | None = None) -> dict[str, Any]:
    template: dict[str, Any] = {"data": data}
    if policy is not None:
        template["mergePolicy"] = policy
    return {**SPEC, "connectionSecret": {"template": template}}


async def created(h: Harness, name: str, spec: dict[str, Any]) -> tuple[str, str]:
    """Apply, settle; the instance id and the password Aura returned."""
    h.apply(name, spec)
    done = await h.settle(name)
    assert done.condition("Ready")["reason"] == "Available"
    instance_id = done.status["instanceId"]
    return instance_id, h.sim.instance(instance_id).password


async def test_replace_holds_only_the_templates_keys_and_the_backup_keeps_the_password(
    h: Harness,
) -> None:
    instance_id, password = await created(h, "orders", templated(SPRING, "Replace"))
    uri = f"neo4j+s://{instance_id}.databases.neo4j.io"
    assert h.secret("orders-connection") == {
        "SPRING_NEO4J_URI": uri,
        "SPRING_NEO4J_AUTHENTICATION_USERNAME": "neo4j",
        "SPRING_NEO4J_AUTHENTICATION_PASSWORD": password,
    }
    annotations = h.kube.secret(NS, "orders-connection")["metadata"]["annotations"]  # type: ignore[index]
    assert annotations[ANNOTATION_INSTANCE_ID] == instance_id
    assert annotations[ANNOTATION_PASSWORD_KEY] == "SPRING_NEO4J_AUTHENTICATION_PASSWORD"
    backup = h.backup(instance_id)
    assert backup is not None
    assert backup["NEO4J_PASSWORD"] == password
    assert backup["AURA_INSTANCEID"] == instance_id
    assert h.obj("orders")["status"]["conditions"]
    assert len(h.posts()) == 1


async def test_merge_adds_the_templates_keys_to_the_default_ones_and_wins_on_a_shared_key(
    h: Harness,
) -> None:
    spec = templated({**JDBC, "NEO4J_DATABASE": "{{ .database }}-x"})
    instance_id, password = await created(h, "orders", spec)
    secret = h.secret("orders-connection")
    assert secret is not None
    assert set(secret) == DEFAULT_KEYS | {"JDBC_URL"}
    assert secret["NEO4J_PASSWORD"] == password
    assert secret["NEO4J_DATABASE"] == "neo4j-x"
    assert secret["JDBC_URL"] == (
        f"jdbc:neo4j:neo4j+s://{instance_id}.databases.neo4j.io/neo4j"
        f"?user=neo4j&password={password}"
    )


async def test_every_field_of_a_created_instance_is_filled(h: Harness) -> None:
    fields = (
        "instanceId",
        "instanceName",
        "tenantId",
        "cloudProvider",
        "region",
        "host",
        "database",
    )
    spec = templated({f"F_{f}": f"{{{{ .{f} }}}}" for f in fields}, "Replace")
    instance_id, _ = await created(h, "orders", spec)
    assert h.secret("orders-connection") == {
        "F_instanceId": instance_id,
        "F_instanceName": "team-a-orders",
        "F_tenantId": DEMO_TENANT_ID,
        "F_cloudProvider": "gcp",
        "F_region": "europe-west1",
        "F_host": f"{instance_id}.databases.neo4j.io",
        "F_database": "neo4j",
    }


async def test_an_unknown_placeholder_is_invalid_spec_before_anything_is_sent_or_written(
    h: Harness,
) -> None:
    h.apply("orders", templated({"SPRING_NEO4J_URI": "{{ .url }}", "OK": "{{ .uri }}"}))
    result = await h.run_pass("orders")
    synced = result.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec")
    message = synced["message"]
    assert "spec.connectionSecret.template.data[SPRING_NEO4J_URI]" in message
    assert "unknown placeholder .url" in message
    assert "allowed: .uri, .host, .username, .password, .database" in message
    assert ("Warning", "InvalidSpec", message) in result.events
    assert h.requests() == []  # not even a read: nothing reached Aura
    assert [w.method for w in h.kube.writes] == ["patch_status"]
    assert h.secret("orders-connection") is None
    assert h.secret("orders-binding") is None


async def test_a_malformed_template_is_invalid_spec_naming_its_key(h: Harness) -> None:
    h.apply("orders", templated({"JDBC_URL": "jdbc:neo4j:{{ .uri }", "B": "{{ printf .x }}"}))
    result = await h.run_pass("orders")
    message = result.condition("Synced")["message"]
    assert result.condition("Synced")["reason"] == "InvalidSpec"
    assert "template.data[JDBC_URL]: malformed template" in message
    assert "template.data[B]: malformed template" in message
    assert "no functions" in message
    assert h.requests() == []
    assert h.secret("orders-connection") is None


async def test_replace_without_keys_and_a_bad_key_name_are_invalid_spec(h: Harness) -> None:
    h.apply("empty", templated({}, "Replace"))
    h.apply("badkey", templated({"NEO4J URI": "{{ .uri }}"}))
    empty = await h.run_pass("empty")
    assert "mergePolicy Replace needs at least one key" in empty.condition("Synced")["message"]
    bad = await h.run_pass("badkey")
    assert "template.data[NEO4J URI]: invalid key" in bad.condition("Synced")["message"]
    assert h.requests() == []


async def test_changing_the_template_re_renders_and_a_bad_change_leaves_the_secret_alone(
    h: Harness,
) -> None:
    instance_id, password = await created(h, "orders", SPEC)
    assert set(h.secret("orders-connection") or {}) == DEFAULT_KEYS

    replace = {"template": {"data": SPRING, "mergePolicy": "Replace"}}
    h.kube.edit_instance(NS, "orders", spec={"connectionSecret": replace})
    changed = await h.run_pass("orders")
    assert "SecretWritten" in changed.reasons()
    secret = h.secret("orders-connection")
    assert secret is not None
    assert set(secret) == set(SPRING)
    assert secret["SPRING_NEO4J_AUTHENTICATION_PASSWORD"] == password

    before = h.kube.secret(NS, "orders-connection")
    reads = len(h.requests())
    h.kube.edit_instance(
        NS, "orders", spec={"connectionSecret": {"template": {"data": {"X": "{{ .pw }}"}}}}
    )
    bad = await h.run_pass("orders")
    assert bad.condition("Synced")["reason"] == "InvalidSpec"
    assert h.kube.secret(NS, "orders-connection") == before
    assert len(h.requests()) == reads

    h.kube.edit_instance(NS, "orders", spec={"connectionSecret": {"template": None}})
    back = await h.run_pass("orders")
    assert back.condition("Synced")["reason"] == "ReconcileSuccess"
    assert h.secret("orders-connection") == {
        "NEO4J_URI": f"neo4j+s://{instance_id}.databases.neo4j.io",
        "NEO4J_USERNAME": "neo4j",
        "NEO4J_PASSWORD": password,
        "NEO4J_DATABASE": "neo4j",
        "AURA_INSTANCEID": instance_id,
        "AURA_INSTANCENAME": "team-a-orders",
    }
    assert len(h.posts()) == 1


async def test_a_deleted_replace_secret_comes_back_from_the_backup_under_the_custom_key(
    h: Harness,
) -> None:
    instance_id, password = await created(h, "orders", templated(SPRING, "Replace"))
    await h.kube.delete_secret(NS, "orders-connection")
    restored = await h.run_pass("orders")
    assert ("Normal", "SecretRestored", "Restored Secret orders-connection from its backup") in (
        restored.events
    )
    secret = h.secret("orders-connection")
    assert secret is not None
    assert secret["SPRING_NEO4J_AUTHENTICATION_PASSWORD"] == password
    assert set(secret) == set(SPRING)
    assert restored.condition("ConnectionSecretReady")["reason"] == "Written"
    assert h.backup(instance_id) is not None
    assert len(h.posts()) == 1


async def test_without_backups_a_template_with_no_bare_password_key_keeps_the_password() -> None:
    """JDBC_URL holds the password inside a URL: no key gives it back bare, and there is no
    backup. The binding Secret's `password` does."""
    async with harness(backup_secrets=False) as h:
        instance_id, password = await created(h, "orders", templated(JDBC, "Replace"))
        annotations = h.kube.secret(NS, "orders-connection")["metadata"]["annotations"]  # type: ignore[index]
        assert annotations[ANNOTATION_PASSWORD_KEY] == ""
        assert h.backup(instance_id) is None
        again = await h.run_pass("orders")
        assert again.condition("ConnectionSecretReady")["reason"] == "Written"
        assert password in (h.secret("orders-connection") or {})["JDBC_URL"]

        await h.kube.delete_secret(NS, "orders-connection")
        restored = await h.run_pass("orders")
        assert "Restored Secret orders-connection from the binding Secret" in [
            m for _, _, m in restored.events
        ]
        assert password in (h.secret("orders-connection") or {})["JDBC_URL"]
        assert restored.status["binding"] == {"name": "orders-binding"}


async def test_the_binding_secret_holds_the_well_known_entries_and_is_owned(h: Harness) -> None:
    instance_id, password = await created(h, "orders", SPEC)
    assert h.obj("orders")["status"]["binding"] == {"name": "orders-binding"}
    body = h.kube.secret(NS, "orders-binding")
    assert body is not None
    assert body["type"] == SECRET_TYPE == "servicebinding.io/neo4j"
    (owner,) = body["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("AuraInstance", "orders", True)
    assert h.secret("orders-binding") == {
        "type": "neo4j",
        "provider": "neo4j-aura",
        "uri": f"neo4j+s://{instance_id}.databases.neo4j.io",
        "host": f"{instance_id}.databases.neo4j.io",
        "username": "neo4j",
        "password": password,
        "database": "neo4j",
    }
    # The .env-style Secret gets no new keys (envFrom would turn them into variables).
    assert set(h.secret("orders-connection") or {}) == DEFAULT_KEYS


async def test_a_foreign_secret_of_the_binding_name_is_left_alone(h: Harness) -> None:
    foreign = {
        "metadata": {"namespace": NS, "name": "orders-binding"},
        "type": "Opaque",
        "data": {"mine": base64.b64encode(b"yes").decode()},
    }
    h.kube.put_secret(NS, foreign)
    _, password = await created(h, "orders", SPEC)
    assert h.secret("orders-binding") == {"mine": "yes"}
    assert "binding" not in h.obj("orders")["status"]
    assert "BindingSecretConflict" in [r for _, r, _ in h.events]
    assert (h.secret("orders-connection") or {})["NEO4J_PASSWORD"] == password


async def test_an_unknown_password_leaves_it_out_and_names_the_key_to_add(h: Harness) -> None:
    """An adopted instance: Aura never returns its password. The keys that need it wait;
    status.binding stays unset (a binding without a password connects nobody)."""
    instance_id = await h.console_instance("legacy")
    template = {"data": {**SPRING, **JDBC}, "mergePolicy": "Replace"}
    spec = {"instanceId": instance_id, "connectionSecret": {"template": template}}
    h.apply("legacy", spec)
    result = await h.settle("legacy")
    secret = h.secret("legacy-connection")
    assert secret == {
        "SPRING_NEO4J_URI": f"neo4j+s://{instance_id}.databases.neo4j.io",
        "SPRING_NEO4J_AUTHENTICATION_USERNAME": "neo4j",
    }
    ready = result.condition("ConnectionSecretReady")
    assert (ready["status"], ready["reason"]) == ("False", "PasswordUnavailable")
    assert "Add the key SPRING_NEO4J_AUTHENTICATION_PASSWORD" in ready["message"]
    assert "binding" not in result.status
    assert "password" not in (h.secret("legacy-binding") or {})

    # The user adds it: the operator keeps it and renders the rest from it.
    body = h.kube.secret(NS, "legacy-connection")
    assert body is not None
    body["data"]["SPRING_NEO4J_AUTHENTICATION_PASSWORD"] = base64.b64encode(b"pw").decode()
    h.kube.put_secret(NS, body)
    kept = await h.run_pass("legacy")
    assert kept.condition("ConnectionSecretReady")["reason"] == "Written"
    assert (h.secret("legacy-connection") or {})["JDBC_URL"].endswith("&password=pw")
    assert (h.secret("legacy-binding") or {})["password"] == "pw"
    assert kept.status["binding"] == {"name": "legacy-binding"}
    assert (h.backup(instance_id) or {})["NEO4J_PASSWORD"] == "pw"
    assert h.changes() == []


async def test_a_secret_written_before_templates_keeps_its_password_under_a_new_template() -> None:
    """A Secret from an older operator has neither annotation; its NEO4J_PASSWORD is read."""
    async with harness(backup_secrets=False) as h:
        _, password = await created(h, "orders", SPEC)
        for name in ("orders-connection", "orders-binding"):
            body = h.kube.secret(NS, name)
            assert body is not None
            if name == "orders-binding":
                await h.kube.delete_secret(NS, name)
                continue
            del body["metadata"]["annotations"][ANNOTATION_PASSWORD_KEY]
            h.kube.put_secret(NS, body)
        replace = {"template": {"data": SPRING, "mergePolicy": "Replace"}}
        h.kube.edit_instance(NS, "orders", spec={"connectionSecret": replace})
        moved = await h.run_pass("orders")
        assert moved.condition("ConnectionSecretReady")["reason"] == "Written"
        secret = h.secret("orders-connection") or {}
        assert secret["SPRING_NEO4J_AUTHENTICATION_PASSWORD"] == password


async def test_a_lost_status_write_is_recovered_by_the_password_under_the_custom_key() -> None:
    """The create recovery reads the password through the Secret's annotation, not a fixed key:
    with backups off, only the templated Secret (and the binding Secret) hold it."""
    async with harness(backup_secrets=False) as h:
        h.apply("orders", templated(SPRING, "Replace"))
        h.kube.fail(methods={"patch_status"}, skip=1)
        lost = await h.run_pass("orders")
        assert lost.write_error is not None
        await h.kube.delete_secret(NS, "orders-binding")
        recovered = await h.run_pass("orders")
        assert "Recovered" in recovered.reasons()
        await h.settle("orders")
        assert len(h.posts()) == 1
        assert h.changes() == ["POST /v1/instances 202"]


async def test_a_value_that_needs_an_unknown_password_is_kept_not_dropped() -> None:
    """No backup, no bare password key, and the binding Secret gone: the operator no longer
    knows the password, but JDBC_URL still holds it. It stays as it is (the only copy left);
    the condition says the operator cannot keep it, and status.binding goes."""
    async with harness(backup_secrets=False) as h:
        _, password = await created(h, "orders", templated(JDBC, "Replace"))
        await h.kube.delete_secret(NS, "orders-binding")
        after = await h.run_pass("orders")
        assert password in (h.secret("orders-connection") or {})["JDBC_URL"]
        ready = after.condition("ConnectionSecretReady")
        assert (ready["status"], ready["reason"]) == ("False", "PasswordUnavailable")
        assert "add a template key that holds only {{ .password }}" in ready["message"]
        assert after.status.get("binding") is None
        assert "password" not in (h.secret("orders-binding") or {})
