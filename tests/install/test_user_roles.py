"""The roles for the people who use the kinds (templates/rbac-users.yaml), as rendered by the chart
and as shipped in deploy/: aggregated into the built-in view, edit and admin, covering every
namespaced kind in crds/ and never AuraCredential, and off with rbac.aggregateToDefaultRoles.
That the aggregation really grants what it says is proven on a real API server by
tests/e2e/test_user_roles.py."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.chart import ROOT, is_user_role, render, run_tool

GROUP = "aura-operator.dev"
VIEW = "rbac.authorization.k8s.io/aggregate-to-view"
EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"
ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin"
READ = {"get", "list", "watch"}
WRITE = {"create", "update", "patch", "delete", "deletecollection"}


def crd_plurals(scope: str) -> set[str]:
    plurals = set()
    for path in (ROOT / "crds").glob("*.yaml"):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        if crd["spec"]["scope"] == scope:
            plurals.add(crd["spec"]["names"]["plural"])
    return plurals


def deploy_docs() -> list[dict[str, Any]]:
    out = run_tool("kubectl", "kustomize", str(ROOT / "deploy")).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def user_roles(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if is_user_role(d)}


def grants(role: dict[str, Any]) -> dict[str, set[str]]:
    """resource -> verbs, for a role whose rules are all in the operator's API group."""
    result: dict[str, set[str]] = {}
    for rule in role["rules"]:
        assert rule["apiGroups"] == [GROUP], rule
        assert "resourceNames" not in rule, rule
        for resource in rule["resources"]:
            result.setdefault(resource, set()).update(rule["verbs"])
    return result


def aggregated_into(role: dict[str, Any]) -> set[str]:
    labels = role["metadata"]["labels"]
    return {name for label, name in ((VIEW, "view"), (EDIT, "edit"), (ADMIN, "admin"))
            if labels.get(label) == "true"}  # fmt: skip


@pytest.fixture(params=["chart", "deploy"])
def roles(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """The user roles of the chart with default values, and of `kubectl kustomize deploy/`."""
    docs = render(namespace="aura-system") if request.param == "chart" else deploy_docs()
    return user_roles(docs)


def test_there_is_a_view_and_an_edit_role(roles: dict[str, dict[str, Any]]) -> None:
    assert set(roles) == {"aura-operator-view", "aura-operator-edit"}
    # view's rules reach view, edit and admin; edit's reach edit and admin (not view).
    assert aggregated_into(roles["aura-operator-view"]) == {"view", "edit", "admin"}
    assert aggregated_into(roles["aura-operator-edit"]) == {"edit", "admin"}
    for role in roles.values():
        assert "aggregationRule" not in role


def test_view_reads_every_namespaced_kind_and_its_status(roles: dict[str, dict[str, Any]]) -> None:
    namespaced = crd_plurals("Namespaced")
    assert namespaced >= {"aurainstances", "aurasnapshots", "aurarestores",
                          "auracustomermanagedkeys"}  # fmt: skip
    expected = {kind: READ for kind in namespaced} | {f"{k}/status": {"get"} for k in namespaced}
    assert grants(roles["aura-operator-view"]) == expected


def test_edit_creates_changes_and_deletes_every_namespaced_kind_but_not_status(
    roles: dict[str, dict[str, Any]],
) -> None:
    assert grants(roles["aura-operator-edit"]) == {
        kind: WRITE for kind in crd_plurals("Namespaced")
    }


def test_no_user_role_reaches_a_cluster_scoped_kind(roles: dict[str, dict[str, Any]]) -> None:
    cluster_scoped = crd_plurals("Cluster")
    assert "auracredentials" in cluster_scoped
    for role in roles.values():
        for resource in grants(role):
            assert resource.partition("/")[0] not in cluster_scoped, (role, resource)
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule


@pytest.mark.parametrize(
    "values",
    [
        {"rbac": {"aggregateToDefaultRoles": False}},
        {"rbac": {"create": False}},
    ],
)
def test_a_value_turns_them_off(values: dict[str, Any]) -> None:
    assert user_roles(render()) != {}
    docs = render(values)
    assert user_roles(docs) == {}
    if values["rbac"].get("create") is not False:
        # Only the user roles go: the operator's own RBAC stays.
        assert any(d["kind"] == "ClusterRoleBinding" for d in docs)


def test_a_namespace_list_keeps_them_cluster_wide() -> None:
    """watchNamespaces limits the operator, not who may use the kinds: the roles only take
    effect where a RoleBinding to edit or view exists."""
    assert set(user_roles(render({"watchNamespaces": ["shop"]}))) == {
        "aura-operator-view", "aura-operator-edit"
    }  # fmt: skip


def service_binding_roles(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        d
        for d in docs
        if d.get("kind") == "ClusterRole"
        and (d["metadata"].get("labels") or {}).get("servicebinding.io/controller") == "true"
    ]


@pytest.mark.parametrize("source", ["chart", "deploy"])
def test_service_binding_controllers_may_read_instances_and_nothing_else(source: str) -> None:
    """The Service Binding specification's controllers aggregate every ClusterRole labelled
    servicebinding.io/controller: "true": ours lets them read AuraInstances (the Provisioned
    Services), no other kind, no write, no Secret."""
    docs = render() if source == "chart" else deploy_docs()
    (role,) = service_binding_roles(docs)
    assert role["metadata"]["name"] == "aura-operator-service-binding"
    assert grants(role) == {"aurainstances": READ}
    assert not aggregated_into(role)


def test_the_service_binding_role_has_its_own_switch() -> None:
    assert service_binding_roles(render({"rbac": {"serviceBindingRole": False}})) == []
    assert service_binding_roles(render({"rbac": {"create": False}})) == []
    assert user_roles(render({"rbac": {"serviceBindingRole": False}})) != {}
