"""Namespaces are the boundary (issue 19), on a real API server with the real operator process:
one manager per Aura object, cross-namespace references only by grant, deletion protection.

The operator watches two namespaces (the test's own, where it also keeps its claims, and
`other`) under the chart's RBAC for exactly those. What a claimant or a refused reference may
not do is checked on the simulator's request log: nothing mutating reaches Aura.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.chart import RBAC_KINDS, is_user_role, render
from tests.harness.aura_env import (
    BASE_SPEC,
    FAST_SETTINGS,
    GROUP,
    PLURAL,
    VERSION,
    AuraEnv,
    condition,
    is_true,
)
from tests.harness.runners import OperatorProcess

pytestmark = pytest.mark.e2e

GRANTS, RESTORES = "aurareferencegrants", "aurarestores"
MUTATING = ("POST", "PATCH", "DELETE")


@pytest.fixture
def other(admin_api: client.ApiClient, namespace: str) -> Iterator[str]:
    """A second namespace, deleted (finalizers released) after the test."""
    name = f"{namespace[:50]}-o{secrets.token_hex(2)}"
    core = client.CoreV1Api(admin_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    objects = client.CustomObjectsApi(admin_api)
    for plural in (PLURAL, RESTORES):
        for item in objects.list_namespaced_custom_object(GROUP, VERSION, name, plural)["items"]:
            with contextlib.suppress(ApiException):
                objects.patch_namespaced_custom_object(
                    GROUP,
                    VERSION,
                    name,
                    plural,
                    item["metadata"]["name"],
                    {"metadata": {"finalizers": None}},
                    _content_type="application/merge-patch+json",
                )
    core.delete_namespace(name)


@pytest.fixture
def tenants(
    aura_env: AuraEnv,
    other: str,
    service_account_kubeconfig: Callable[..., Path],
) -> Callable[..., OperatorProcess]:
    """Factory: an operator watching both namespaces, under the chart's RBAC for them."""
    docs = render({"watchNamespaces": [aura_env.namespace, other]}, namespace=aura_env.namespace)
    rbac = [d for d in docs if d["kind"] in RBAC_KINDS and not is_user_role(d)]
    kubeconfig = service_account_kubeconfig(rbac)

    def start(**env: str) -> OperatorProcess:
        return aura_env.start_operator(
            kubeconfig,
            aura_env.simulator.base_url,
            env={**FAST_SETTINGS, **env},
            args=["--namespace", other],
        )

    return start


# --- helpers: objects in either namespace ------------------------------------------------------


def create(env: AuraEnv, ns: str, plural: str, kind: str, name: str, spec: dict[str, Any]) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }
    env.objects.create_namespaced_custom_object(GROUP, VERSION, ns, plural, body)


def get(env: AuraEnv, ns: str, plural: str, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = env.objects.get_namespaced_custom_object(
            GROUP, VERSION, ns, plural, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def wait_obj(
    env: AuraEnv,
    ns: str,
    name: str,
    check: Callable[[dict[str, Any] | None], bool],
    what: str,
    *,
    plural: str = PLURAL,
    timeout: float = 30.0,
) -> dict[str, Any] | None:
    def found() -> Any:
        obj = get(env, ns, plural, name)
        return (obj or True) if check(obj) else None

    result = env.wait_until(found, what=f"{what} on {ns}/{name}", timeout=timeout)
    return result if isinstance(result, dict) else None


def synced_reason(reason: str) -> Callable[[dict[str, Any] | None], bool]:
    def check(obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        for c in (obj.get("status") or {}).get("conditions") or []:
            if c["type"] == "Synced":
                return bool(c["reason"] == reason)
        return False

    return check


def events(env: AuraEnv, ns: str, name: str) -> list[tuple[str, str]]:
    items = env.core.list_namespaced_event(ns, field_selector=f"involvedObject.name={name}").items
    return [(e.reason, e.message) for e in items]


def wait_event(env: AuraEnv, ns: str, name: str, reason: str) -> None:
    env.wait_until(
        lambda: reason in [r for r, _ in events(env, ns, name)], what=f"a {reason} event on {name}"
    )


def mutating(env: AuraEnv, since: float, instance_id: str | None = None) -> list[str]:
    """Requests that could change something in Aura since `since` (of one instance)."""
    return [
        f"{r['method']} {r['path']}"
        for r in env.sim_requests_since(since)
        if r["method"] in MUTATING
        and r["path"].startswith("/v1/")
        and (instance_id is None or instance_id in r["path"])
    ]


def grant(env: AuraEnv, name: str, from_ns: str, from_kind: str) -> None:
    create(
        env,
        env.namespace,
        GRANTS,
        "AuraReferenceGrant",
        name,
        {"from": [{"namespace": from_ns, "kind": from_kind}], "to": [{"kind": "AuraInstance"}]},
    )


def owned(env: AuraEnv, **spec: Any) -> tuple[str, str]:
    """`owner` in the test namespace, created and Ready: (instance id, its password)."""
    env.apply("owner", {**BASE_SPEC, "deletionPolicy": "Retain", **spec})
    obj = env.wait_ready("owner")
    instance_id: str = obj["status"]["instanceId"]
    password = (env.secret("owner-connection") or {})["NEO4J_PASSWORD"]
    return instance_id, password


# --- one manager per Aura object ---------------------------------------------------------------


def test_second_claimants_send_nothing_get_no_password_and_the_next_takes_over(
    aura_env: AuraEnv, other: str, tenants: Callable[..., OperatorProcess]
) -> None:
    tenants()
    ns = aura_env.namespace
    instance_id, password = owned(aura_env)
    since = time.time()

    claim = {**BASE_SPEC, "instanceId": instance_id, "deletionPolicy": "Delete"}
    aura_env.apply("copycat", {**claim, "memory": "4GB"})
    create(aura_env, other, PLURAL, "AuraInstance", "intruder", {**claim, "memory": "8GB"})
    for where, name in ((ns, "copycat"), (other, "intruder")):
        obj = wait_obj(aura_env, where, name, synced_reason("AlreadyManaged"), "AlreadyManaged")
        assert obj is not None
        assert f"AuraInstance {ns}/owner" in condition(obj, "Synced")["message"]
        wait_event(aura_env, where, name, "AlreadyManaged")  # kopf posts events after the write
    assert aura_env.secret("copycat-connection") is None
    assert aura_env.secret("intruder-connection", other) is None

    # Deleting a claimant (deletionPolicy Delete) leaves the instance alone.
    aura_env.objects.delete_namespaced_custom_object(GROUP, VERSION, other, PLURAL, "intruder")
    wait_obj(aura_env, other, "intruder", lambda o: o is None, "deletion")
    wait_event(aura_env, other, "intruder", "LeftAlone")
    assert mutating(aura_env, since) == []
    assert any(i["id"] == instance_id for i in aura_env.sim_instances())
    assert is_true(aura_env.get("owner") or {}, "Ready")

    # The manager lets go (Retain): the claimant in its namespace takes over at once.
    aura_env.delete("owner")
    aura_env.wait_gone("owner")
    message = aura_env.wait_event("copycat", "TookOver")
    assert instance_id in message
    aura_env.wait_for("copycat", lambda o: is_true(o, "Ready"), what="Ready as the manager")
    assert (aura_env.secret("copycat-connection") or {}).get("NEO4J_PASSWORD") == password


def test_two_claimants_in_the_same_second_on_two_replicas_make_one_manager(
    aura_env: AuraEnv, other: str, tenants: Callable[..., OperatorProcess]
) -> None:
    # No leader election: both replicas act on both objects, so the claim ConfigMap's atomic
    # create is what makes one manager.
    tenants(AURA_OPERATOR_LEADER_ELECTION="false")
    tenants(AURA_OPERATOR_LEADER_ELECTION="false")
    instance_id = aura_env.sim_create_by_hand("shared")
    spec = {**BASE_SPEC, "instanceId": instance_id}
    aura_env.apply("left", spec)
    create(aura_env, other, PLURAL, "AuraInstance", "right", spec)

    def decided(obj: dict[str, Any] | None) -> bool:
        return synced_reason("AlreadyManaged")(obj) or bool(obj and is_true(obj, "Synced"))

    left = wait_obj(aura_env, aura_env.namespace, "left", decided, "a decision", timeout=60)
    right = wait_obj(aura_env, other, "right", decided, "a decision", timeout=60)
    assert left is not None and right is not None
    reasons = sorted(condition(o, "Synced")["reason"] for o in (left, right))
    assert reasons == ["AlreadyManaged", "ReconcileSuccess"]
    claims = aura_env.core.list_namespaced_config_map(
        aura_env.namespace, label_selector="aura-operator.dev/claim"
    ).items
    assert [c.data["auraId"] for c in claims] == [instance_id]
    winner = left if is_true(left, "Synced") else right
    assert claims[0].data["managerUid"] == winner["metadata"]["uid"]


# --- cross-namespace references ---------------------------------------------------------------


def test_a_cross_namespace_clone_and_overwrite_are_refused_until_granted(
    aura_env: AuraEnv, other: str, tenants: Callable[..., OperatorProcess]
) -> None:
    tenants()
    instance_id, _ = owned(aura_env)
    since = time.time()

    clone = {**BASE_SPEC, "source": {"instanceId": instance_id}}
    create(aura_env, other, PLURAL, "AuraInstance", "copy", clone)
    refused = wait_obj(aura_env, other, "copy", synced_reason("ReferenceNotPermitted"), "refusal")
    assert refused is not None
    assert (
        f"no AuraReferenceGrant in namespace {aura_env.namespace}"
        in (condition(refused, "Synced")["message"])
    )
    assert mutating(aura_env, since) == []

    grant(aura_env, "clones", other, "AuraInstance")  # the grant wakes it: no long requeue
    copy = wait_obj(aura_env, other, "copy", lambda o: bool(o and is_true(o, "Ready")), "Ready")
    assert copy is not None
    assert [r for r in mutating(aura_env, since) if r == "POST /v1/instances"] == [
        "POST /v1/instances"
    ]

    # Overwrite `copy` (in other) from the instance `owner` manages: refused, then granted.
    since = time.time()
    overwrite = {
        "instanceRef": {"name": "copy"},
        "source": {"instanceId": instance_id},
        "snapshotFirst": False,
    }
    create(aura_env, other, RESTORES, "AuraRestore", "refresh", overwrite)
    refusal = synced_reason("ReferenceNotPermitted")
    wait_obj(aura_env, other, "refresh", refusal, "refusal", plural=RESTORES)
    assert mutating(aura_env, since) == []

    grant(aura_env, "overwrites", other, "AuraRestore")

    def completed(obj: dict[str, Any] | None) -> bool:
        return bool(obj and (obj.get("status") or {}).get("phase") == "Completed")

    wait_obj(aura_env, other, "refresh", completed, "Completed", plural=RESTORES, timeout=60)
    assert any(r.endswith("/overwrite") for r in mutating(aura_env, since))


# --- deletion protection ----------------------------------------------------------------------


def test_deletion_protection_holds_the_deletion_until_it_is_set_false(
    aura_env: AuraEnv, tenants: Callable[..., OperatorProcess]
) -> None:
    tenants()
    instance_id, _ = owned(aura_env, deletionPolicy="Delete", deletionProtection=True)
    since = time.time()
    aura_env.delete("owner")
    held = aura_env.wait_for(
        "owner", synced_reason("DeletionProtected"), what="Synced=False DeletionProtected"
    )
    assert "spec.deletionProtection is true" in condition(held, "Synced")["message"]
    aura_env.wait_event("owner", "DeletionProtected")
    assert mutating(aura_env, since) == []

    aura_env.patch("owner", {"spec": {"deletionProtection": False}})
    aura_env.wait_gone("owner", timeout=60)
    assert f"DELETE /v1/instances/{instance_id}" in mutating(aura_env, since)
