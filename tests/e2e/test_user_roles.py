"""The chart's roles for the people who use the kinds, on a real API server: the ClusterRoles it
renders are aggregated into the built-in admin, edit and view by kube-controller-manager's
clusterrole-aggregation controller, and `kubectl auth can-i` (a SelfSubjectAccessReview as the
impersonated user, answered by the API server's RBAC authoriser) shows what each user may do.

alice is bound to `edit` in the test's namespace, carol to `admin`, bob to `view`; erin is bound to
`edit` cluster-wide, so that "no AuraCredential" is proven by the aggregated rules themselves (a
RoleBinding could never grant a cluster-scoped kind anyway).
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from tests.chart import is_user_role, render, tools_dir
from tests.harness.identity import Applied, apply
from tests.harness.procs import wait_until

pytestmark = pytest.mark.e2e

GROUP = "aura-operator.dev"
KINDS = (
    "aurainstances", "aurasnapshots", "aurarestores", "auracustomermanagedkeys",
    "auragraphanalyticssessions",
)  # fmt: skip
READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")
AGGREGATION_TIMEOUT = 30.0


class CanI:
    """`kubectl auth can-i` with the admin kubeconfig, impersonating a user."""

    def __init__(self, cluster: Any) -> None:
        self.base = [str(tools_dir() / "kubectl"), f"--kubeconfig={cluster.kubeconfig}"]
        if cluster.context:
            self.base.append(f"--context={cluster.context}")

    def __call__(self, user: str, verb: str, resource: str, namespace: str | None = None) -> bool:
        kind, _, subresource = resource.partition("/")
        argv = [*self.base, "auth", "can-i", verb, f"{kind}.{GROUP}", f"--as={user}"]
        if subresource:
            argv.append(f"--subresource={subresource}")
        argv.append(f"--namespace={namespace}" if namespace else "--all-namespaces")
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        answer = result.stdout.strip()
        # 0 and "yes", or 1 and "no": anything else is an error, not a "no".
        assert (result.returncode, answer) in ((0, "yes"), (1, "no")), (
            f"{' '.join(argv[1:])}: exit {result.returncode}: {result.stdout}{result.stderr}"
        )
        return answer == "yes"


@pytest.fixture
def user_roles(admin_api: client.ApiClient, namespace: str) -> Iterator[list[dict[str, Any]]]:
    """The chart's user roles (under a release name of this test's own, so that nothing else
    shares them), applied; bindings of alice, bob, carol and erin; all deleted afterwards."""
    release = f"roles-{secrets.token_hex(3)}"
    roles = [d for d in render(release=release, namespace=namespace) if is_user_role(d)]
    assert len(roles) == 2
    bindings = [
        _binding("RoleBinding", "alice-edit", "alice", "edit"),
        _binding("RoleBinding", "carol-admin", "carol", "admin"),
        _binding("RoleBinding", "bob-view", "bob", "view"),
        _binding("ClusterRoleBinding", f"{release}-erin-edit", "erin", "edit"),
    ]
    dyn = DynamicClient(admin_api)
    applied = Applied()
    try:
        apply(dyn, [*roles, *bindings], namespace, applied)
        yield roles
    finally:
        applied.delete(dyn)


def _binding(kind: str, name: str, user: str, role: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def test_edit_and_admin_manage_the_kinds_view_reads_them_none_reaches_credentials(
    cluster: Any, namespace: str, user_roles: list[dict[str, Any]]
) -> None:
    can_i = CanI(cluster)
    # The aggregation controller folds the roles in within moments of their creation.
    wait_until(
        lambda: (
            can_i("alice", "deletecollection", "auracustomermanagedkeys", namespace)
            and can_i("bob", "get", "aurarestores/status", namespace)
        ),
        timeout=AGGREGATION_TIMEOUT,
        what="the chart's roles to be aggregated into edit and view",
    )
    expected = expectations(namespace)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = dict(zip(expected, pool.map(lambda q: can_i(*q), expected), strict=True))
    wrong = {query: answer for query, answer in answers.items() if answer != expected[query]}
    assert not wrong, (
        f"(user, verb, resource, namespace): answer, where the opposite was due: {wrong}"
    )


Query = tuple[str, str, str, str | None]


def expectations(namespace: str) -> dict[Query, bool]:
    """What each user may do: (user, verb, resource, namespace or None for all) -> allowed."""
    expected: dict[Query, bool] = {}
    for kind in KINDS:
        for user in ("alice", "carol", "bob"):
            for verb in READ:
                expected[user, verb, kind, namespace] = True
            expected[user, "get", f"{kind}/status", namespace] = True
            # Status is the operator's: nobody but it writes there.
            for verb in ("update", "patch"):
                expected[user, verb, f"{kind}/status", namespace] = False
            # A namespace binding reaches that namespace only.
            expected[user, "list", kind, "default"] = False
            expected[user, "create", kind, "default"] = False
        for verb in WRITE:
            expected["alice", verb, kind, namespace] = True
            expected["carol", verb, kind, namespace] = True
            expected["bob", verb, kind, namespace] = False  # view cannot create or change
        # Bound cluster-wide, edit reaches every namespace.
        expected["erin", "create", kind, None] = True
        expected["erin", "list", kind, None] = True
    for user in ("alice", "carol", "bob", "erin"):
        for verb in (*READ, *WRITE):
            expected[user, verb, "auracredentials", None] = False
        expected[user, "get", "auracredentials", namespace] = False
        expected[user, "get", "auracredentials/status", None] = False
    return expected


def test_a_service_binding_controller_aggregates_the_read_of_instances(
    cluster: Any, admin_api: client.ApiClient, namespace: str
) -> None:
    """A ServiceBinding controller's ClusterRole aggregates every role labelled
    servicebinding.io/controller: "true" (the specification's convention): with the chart's, it
    may read AuraInstances (the Provisioned Services) and nothing else of ours."""
    release = f"binding-{secrets.token_hex(3)}"
    (role,) = [
        d
        for d in render(release=release, namespace=namespace)
        if d["kind"] == "ClusterRole"
        and (d["metadata"].get("labels") or {}).get("servicebinding.io/controller") == "true"
    ]
    controller = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": f"{release}-controller"},
        "aggregationRule": {
            "clusterRoleSelectors": [{"matchLabels": {"servicebinding.io/controller": "true"}}]
        },
        "rules": [],
    }
    user = f"{release}-sbc"
    binding = _binding(
        "ClusterRoleBinding", f"{release}-controller", user, controller["metadata"]["name"]
    )
    dyn = DynamicClient(admin_api)
    applied = Applied()
    can_i = CanI(cluster)
    try:
        apply(dyn, [role, controller, binding], namespace, applied)
        wait_until(
            lambda: can_i(user, "watch", "aurainstances"),
            timeout=AGGREGATION_TIMEOUT,
            what="the chart's service-binding role to be aggregated into the controller's",
        )
        assert can_i(user, "get", "aurainstances", namespace)
        assert not can_i(user, "patch", "aurainstances", namespace)
        assert not can_i(user, "get", "aurainstances/status", namespace)
        for other in ("aurasnapshots", "auracredentials", "auragraphanalyticssessions"):
            assert not can_i(user, "list", other), other
    finally:
        applied.delete(dyn)
