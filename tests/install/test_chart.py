"""The Helm chart and the plain manifests in deploy/, rendered by real helm and kubectl binaries
and validated against the Kubernetes API schemas (kubernetes-validate, strict: unknown fields
are errors). That the chart's RBAC is enough for the operator is proven on a real API server by
every operator e2e test, which runs under it (tests/harness/aura_env.py, test_install_rbac.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from aura_operator.cli import build_parser
from aura_operator.runtime.settings import Settings
from tests.chart import (
    CHART,
    RBAC_KINDS,
    RELEASE,
    ROOT,
    helm_template,
    is_for_others,
    render,
    run_tool,
    tools_dir,
)

#: The oldest Kubernetes version kubernetes-validate has schemas for, and its newest.
K8S_VERSIONS = ("1.25.0", latest_version())
SHA = "sha256:" + "ab" * 32

#: Value sets the chart is rendered and linted with: the defaults and non-default ones.
VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "watch-list": {
        "watchNamespaces": ["shop", "billing"],
        "aura": {"credentials": {"clientId": "id", "clientSecret": "secret"}},
        "defaultDeletionPolicy": "Delete",
        "logLevel": "debug",
        "logFormat": "json",
    },
    "everything-on": {
        "image": {"repository": "registry.example.com/aura-operator", "digest": SHA},
        "imagePullSecrets": [{"name": "pull"}],
        "aura": {
            "apiUrl": "http://aura-simulator.ci:8088",
            "credentials": {"existingSecret": "aura-credentials"},
            "requestsPerMinute": 20,
            "requestBurst": 2,
        },
        "backupSecrets": False,
        "extraEnv": [{"name": "AURA_OPERATOR_DRIFT_INTERVAL", "value": "600"}],
        "metrics": {
            "service": {"enabled": True},
            "serviceMonitor": {"enabled": True},
            "prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}},
            "dashboard": {"enabled": True, "namespace": "monitoring"},
            "auraScrapeConfig": {"secretName": "aura-metrics-reader"},
        },
        "networkPolicy": {
            "enabled": True,
            "metricsFrom": [{"namespaceSelector": {"matchLabels": {"team": "monitoring"}}}],
        },
        "podAnnotations": {"a": "b"},
        "priorityClassName": "system-cluster-critical",
        "tolerations": [{"key": "dedicated", "operator": "Exists"}],
    },
    "metrics-off-no-credential": {"metrics": {"enabled": False}, "rbac": {"create": True}},
}


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (dep,) = by_kind(docs, "Deployment")
    return dep


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (c,) = deployment(docs)["spec"]["template"]["spec"]["containers"]
    return c


def env_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(docs)["env"]}


def validate_strict(docs: list[dict[str, Any]], version: str) -> None:
    for doc in docs:
        if doc["kind"] in ("ServiceMonitor", "PrometheusRule"):
            continue  # not Kubernetes kinds: test_metrics_service_and_monitor, test_metrics_rules
        kubernetes_validate.validate(doc, version, strict=True)


# --- lint, render, validate -------------------------------------------------------------------


def test_tools_are_the_pinned_versions() -> None:
    assert run_tool("helm", "version", "--short").stdout.startswith("v4.")
    assert "v1.35" in run_tool("kubectl", "version", "--client").stdout


@pytest.mark.parametrize("name", VALUE_SETS)
def test_helm_lint_passes(name: str, tmp_path: Any) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(VALUE_SETS[name]))
    result = run_tool("helm", "lint", "--strict", str(CHART), "--values", str(values), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("name", VALUE_SETS)
def test_rendered_chart_is_valid_kubernetes(name: str, version: str) -> None:
    docs = render(VALUE_SETS[name], namespace="aura-system")
    assert by_kind(docs, "Deployment")
    validate_strict(docs, version)


def test_a_broken_manifest_is_caught_by_the_validation() -> None:
    docs = render()
    c = container(docs)
    c["securityContext"]["readOnlyRootFs"] = True  # a typo kubectl would silently drop
    with pytest.raises(kubernetes_validate.ValidationError, match="readOnlyRootFs"):
        validate_strict(docs, K8S_VERSIONS[-1])


def test_chart_crds_are_the_crds_directory() -> None:
    chart_crds = sorted(p.name for p in (CHART / "crds").iterdir())
    source = sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))
    assert chart_crds == source
    for name in source:
        assert (CHART / "crds" / name).read_bytes() == (ROOT / "crds" / name).read_bytes(), (
            f"charts/aura-operator/crds/{name} differs from crds/{name}: copy it over"
        )


def test_crds_directory_holds_only_kubernetes_objects() -> None:
    """`kubectl apply -f crds/` applies every *.yaml, *.yml and *.json file: each must be a CRD
    (the kustomization that deploy/ uses is the extension-less `crds/Kustomization`)."""
    files = [p for p in (ROOT / "crds").iterdir() if p.suffix in (".yaml", ".yml", ".json")]
    assert files
    for path in files:
        kinds = [d["kind"] for d in yaml.safe_load_all(path.read_text()) if d]
        assert kinds == ["CustomResourceDefinition"], f"{path.name}: {kinds}"
    result = run_tool("kubectl", "kustomize", str(ROOT / "crds"))
    assert [d["kind"] for d in yaml.safe_load_all(result.stdout) if d] == [
        "CustomResourceDefinition"
    ] * len(files)


def test_deploy_manifests_are_the_rendered_chart() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "render-manifests.py"), "--check"],
        capture_output=True,
        text=True,
        env={**os.environ, "AURA_TOOLS": str(tools_dir())},
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kustomize_build_of_deploy_is_valid_kubernetes(version: str) -> None:
    out = run_tool("kubectl", "kustomize", str(ROOT / "deploy")).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    kinds = {d["kind"] for d in docs}
    assert kinds == {
        "CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole",
        "ClusterRoleBinding", "Role", "RoleBinding", "Deployment",
    }  # fmt: skip
    validate_strict(docs, version)
    crds = sorted(by_kind(docs, "CustomResourceDefinition"), key=lambda c: c["metadata"]["name"])
    assert crds == [
        yaml.safe_load(path.read_text()) for path in sorted((ROOT / "crds").glob("*.yaml"))
    ]
    cluster_scoped = ("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding")
    namespaced = [d for d in docs if d["kind"] not in cluster_scoped]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"aura-operator"}
    env = env_of(docs)
    assert env["AURA_OPERATOR_CREDENTIALS_SECRET"] == "aura-credentials"


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_an_overlay_with_the_pdb_component_is_valid_kubernetes(
    version: str, tmp_path: Path
) -> None:
    # deploy/ stays appliable on 1.20 (no policy/v1 there); the PodDisruptionBudget the chart
    # renders by default is a component an overlay adds on 1.21 and later.
    deploy = os.path.relpath(ROOT / "deploy", tmp_path)  # kustomize takes relative paths
    (tmp_path / "kustomization.yaml").write_text(
        f"resources: [{deploy}]\ncomponents: [{deploy}/components/pdb]\n"
    )
    out = run_tool("kubectl", "kustomize", "--load-restrictor=LoadRestrictionsNone", str(tmp_path))
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    validate_strict(docs, version)
    (pdb,) = by_kind(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert (
        pdb["spec"]["selector"]["matchLabels"]
        == (deployment(docs)["spec"]["selector"]["matchLabels"])
    )


# --- values.schema.json ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"logLevel": "trace"}, "at '/logLevel': value must be one of 'debug', 'info', 'warning'"),
        ({"logFormat": "xml"}, "at '/logFormat'"),
        ({"defaultDeletionPolicy": "Keep"}, "at '/defaultDeletionPolicy'"),
        ({"aura": {"requestsPerMinute": 500}}, "at '/aura/requestsPerMinute': maximum"),
        ({"aura": {"requestsPerMinute": 0}}, "at '/aura/requestsPerMinute'"),
        ({"aura": {"apiUrl": "api.neo4j.io"}}, "at '/aura/apiUrl'"),
        ({"watchNamespaces": ["Shop"]}, "at '/watchNamespaces/0'"),
        ({"watchNamespaces": ["shop-*"]}, "at '/watchNamespaces/0'"),
        ({"watchNamespaces": "shop"}, "at '/watchNamespaces'"),
        ({"aura": {"credentials": {"clientId": "x"}}}, "at '/aura/credentials/clientSecret'"),
        (
            {
                "aura": {
                    "credentials": {"existingSecret": "s", "clientId": "x", "clientSecret": "y"}
                }
            },
            "at '/aura/credentials/clientId'",
        ),
        ({"metrics": {"serviceMonitor": {"enabled": True}}}, "at '/metrics/service/enabled'"),
        ({"image": {"digest": "latest"}}, "at '/image/digest'"),
        ({"replicaCount": 0}, "at '/replicaCount'"),
        ({"leaderElection": {"leaseDuration": 0}}, "at '/leaderElection/leaseDuration'"),
        ({"metrics": {"port": 70000}}, "at '/metrics/port'"),
        (
            {"metrics": {"prometheusRule": {"failingFor": "30 min"}}},
            "at '/metrics/prometheusRule/failingFor'",
        ),
        (
            {"metrics": {"dashboard": {"labels": {"grafana_dashboard": 1}}}},
            "at '/metrics/dashboard/labels/grafana_dashboard'",
        ),
        ({"extraEnv": [{"value": "x"}]}, "at '/extraEnv/0'"),
    ],
)
def test_schema_rejects_bad_values_with_a_message_naming_them(
    values: dict[str, Any], message: str
) -> None:
    result = helm_template(values)
    assert result.returncode != 0, f"accepted {values}"
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr, result.stderr


# --- RBAC ---------------------------------------------------------------------------------------


def rules_of(docs: list[dict[str, Any]]) -> list[tuple[str | None, str, dict[str, Any]]]:
    """(namespace or None for cluster-wide, role name, rule) for every rule rendered for the
    operator (the roles for users, aggregated into edit and view, are tested in
    test_user_roles.py)."""
    return [
        (d["metadata"].get("namespace") if d["kind"] == "Role" else None, d["metadata"]["name"], r)
        for d in docs
        if d["kind"] in ("Role", "ClusterRole") and not is_for_others(d)
        for r in d["rules"]
    ]


def verbs_on(docs: list[dict[str, Any]], resource: str, namespace: str | None) -> set[str]:
    return {
        verb
        for ns, _, rule in rules_of(docs)
        if ns == namespace and resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_rbac_has_no_wildcards_and_grants_only_what_the_operator_uses() -> None:
    for docs in (render(), render({"watchNamespaces": ["shop"]})):
        for _, _, rule in rules_of(docs):
            assert "*" not in rule["verbs"] and "*" not in rule["resources"], rule
            assert "*" not in rule["apiGroups"], rule
        cluster_wide = [d for d in by_kind(docs, "ClusterRole") if d["metadata"]["name"] == RELEASE]
        scope = None if cluster_wide else "shop"
        assert verbs_on(docs, "aurainstances", scope) == {"get", "list", "watch", "patch"}
        assert verbs_on(docs, "aurainstances/status", scope) == {"get", "patch"}
        assert verbs_on(docs, "aurainstances/finalizers", scope) == {"update"}
        assert verbs_on(docs, "events", scope) == {"create", "patch"}
        # Connection Secrets are never deleted by the operator (garbage collection does it).
        assert verbs_on(docs, "secrets", scope) == {"get", "list", "watch", "create", "update",
                                                    "patch"}  # fmt: skip
        # Backups in its own namespace: no list or watch, so no Secret is read unasked.
        assert verbs_on(docs, "secrets", "aura-operator") >= {"get", "create", "update", "delete"}
        # Claims (docs/tenancy.md): ConfigMaps by name in its own namespace, never listed.
        assert verbs_on(docs, "configmaps", "aura-operator") == {"get", "create", "delete"}
        assert verbs_on(docs, "configmaps", scope) == set()
        assert verbs_on(docs, "aurareferencegrants", scope) == {"get", "list", "watch"}
        # ScrapeConfigs of AuraInstances (docs/metrics.md): applied, read, deleted; never listed.
        assert verbs_on(docs, "scrapeconfigs", scope) == {"get", "create", "patch", "delete"}


def test_rbac_rules_are_grouped_and_commented() -> None:
    text = helm_template().stdout
    assert "# --- kopf itself" in text
    assert "# --- the operator's reconcile loop" in text
    assert "# Password backups aura-backup-<instance id>" in text


def test_all_namespaces_uses_a_cluster_role() -> None:
    docs = render(namespace="ops")
    (binding,) = [b for b in by_kind(docs, "ClusterRoleBinding") if b["roleRef"]["name"] == RELEASE]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "aura-operator"
    }  # fmt: skip
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "aura-operator", "namespace": "ops"}
    ]
    assert {d["metadata"]["namespace"] for d in by_kind(docs, "Role")} == {"ops"}
    assert "--all-namespaces" in container(docs)["args"]


def test_a_namespace_list_uses_one_role_per_namespace_and_nothing_cluster_wide() -> None:
    docs = render({"watchNamespaces": ["shop", "billing"]}, namespace="ops")
    # Cluster-wide only what cluster-scoped AuraCredentials need: never Secrets or instances
    # (for the operator; the roles aggregated into edit and view grant it nothing).
    (cluster_role,) = [d for d in by_kind(docs, "ClusterRole") if not is_for_others(d)]
    assert cluster_role["metadata"]["name"] == f"{RELEASE}-credentials"
    assert {r for rule in cluster_role["rules"] for r in rule["resources"]} == {
        "auracredentials", "auracredentials/status", "namespaces"
    }  # fmt: skip
    roles = {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in by_kind(docs, "Role")}
    assert roles == {
        ("shop", "aura-operator"),
        ("billing", "aura-operator"),
        ("ops", "aura-operator-own-namespace"),
        ("ops", "aura-operator-credential-events"),  # events of cluster-scoped credentials
    }
    for b in by_kind(docs, "RoleBinding"):
        assert b["subjects"] == [
            {"kind": "ServiceAccount", "name": "aura-operator", "namespace": "ops"}
        ]
        assert b["roleRef"]["name"] == b["metadata"]["name"]
    # Secrets only where the operator works: the watched namespaces and its own.
    secret_namespaces = {ns for ns, _, r in rules_of(docs) if "secrets" in r["resources"]}
    assert secret_namespaces == {"shop", "billing", "ops"}
    args = container(docs)["args"]
    assert [a for a in args if a.startswith("--namespace")] == ["--namespace=shop",
                                                                "--namespace=billing"]  # fmt: skip
    assert "--all-namespaces" not in args


def test_without_backups_only_the_credential_secret_is_readable_in_the_own_namespace() -> None:
    docs = render(
        {"backupSecrets": False, "aura": {"credentials": {"existingSecret": "aura-creds"}}},
        namespace="ops",
    )
    own = [r for ns, _, r in rules_of(docs) if ns == "ops" and "secrets" in r["resources"]]
    assert own == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["aura-creds"],
         "verbs": ["get"]}
    ]  # fmt: skip
    docs = render({"backupSecrets": False}, namespace="ops")
    assert not [r for ns, _, r in rules_of(docs) if ns == "ops" and "secrets" in r["resources"]]


def test_without_backups_credential_secrets_are_readable_by_name_only() -> None:
    docs = render(
        {"backupSecrets": False, "credentialSecrets": ["aura-team-a", "aura-team-b"]},
        namespace="ops",
    )
    own = [r for ns, _, r in rules_of(docs) if ns == "ops" and "secrets" in r["resources"]]
    assert own == [
        {"apiGroups": [""], "resources": ["secrets"],
         "resourceNames": ["aura-team-a", "aura-team-b"], "verbs": ["get"]}
    ]  # fmt: skip
    assert helm_template({"credentialSecrets": ["Bad_Name"]}).returncode != 0


def test_leader_election_may_use_only_its_own_lease() -> None:
    docs = render(namespace="ops")
    leases = [r for ns, _, r in rules_of(docs) if "leases" in r["resources"]]
    assert {ns for ns, _, r in rules_of(docs) if "leases" in r["resources"]} == {"ops"}
    assert leases == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "resourceNames": ["aura-operator"], "verbs": ["get", "update"]},
    ]  # fmt: skip
    assert env_of(docs)["AURA_OPERATOR_LEASE_NAME"] == "aura-operator"
    docs = render({"leaderElection": {"enabled": False}, "replicaCount": 1}, namespace="ops")
    assert not [r for _, _, r in rules_of(docs) if "leases" in r["resources"]]
    assert env_of(docs)["AURA_OPERATOR_LEADER_ELECTION"] == "false"


def test_several_replicas_need_leader_election() -> None:
    result = helm_template({"leaderElection": {"enabled": False}, "replicaCount": 2})
    assert result.returncode != 0
    assert "replicaCount > 1 needs leaderElection.enabled" in result.stderr


def test_rbac_create_false_renders_no_rbac() -> None:
    docs = render({"rbac": {"create": False}})
    assert not [d for d in docs if d["kind"] in RBAC_KINDS]


# --- the Deployment ----------------------------------------------------------------------------


def test_deployment_is_two_hardened_replicas_that_roll_safely() -> None:
    docs = render()
    dep = deployment(docs)
    # One leads, one stands by; a rolling update starts the new pod before the old one goes,
    # and the old leader releases the Lease as it stops.
    assert dep["spec"]["replicas"] == 2
    assert dep["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}
    }  # fmt: skip
    (pdb,) = by_kind(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]
    single = deployment(render({"replicaCount": 1}))
    assert single["spec"]["replicas"] == 1
    assert not by_kind(render({"replicaCount": 1}), "PodDisruptionBudget")
    pod = dep["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "aura-operator"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    c = container(docs)
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert set(c["resources"]["requests"]) == {"cpu", "memory"}
    # The liveness probe asks the endpoint the operator is told to serve.
    probe = c["livenessProbe"]["httpGet"]
    (port,) = [p for p in c["ports"] if p["name"] == probe["port"]]
    assert f"--liveness=http://0.0.0.0:{port['containerPort']}{probe['path']}" in c["args"]


@pytest.mark.parametrize("name", VALUE_SETS)
def test_container_args_are_accepted_by_the_operator_cli(name: str) -> None:
    args = container(render(VALUE_SETS[name]))["args"]
    parsed = build_parser().parse_args(args)
    assert parsed.command == "run"


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_variable_the_chart_sets_is_a_setting(name: str) -> None:
    """A misspelt variable would be ignored silently by pydantic-settings."""
    known = {"POD_NAMESPACE"}
    for field_name, field in Settings.model_fields.items():
        known.add(f"AURA_OPERATOR_{field_name.upper()}")
        if field.validation_alias is not None:
            known.update(getattr(field.validation_alias, "choices", []))
    assert set(env_of(render(VALUE_SETS[name]))) <= known


def test_values_reach_the_operator() -> None:
    docs = render(VALUE_SETS["watch-list"], namespace="ops")
    env = env_of(docs)
    assert env["AURA_OPERATOR_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["AURA_OPERATOR_DEFAULT_DELETION_POLICY"] == "Delete"
    assert env["AURA_OPERATOR_CREDENTIALS_SECRET"] == "aura-operator-credentials"
    (secret,) = by_kind(docs, "Secret")
    assert secret["metadata"] == secret["metadata"] | {"name": "aura-operator-credentials",
                                                       "namespace": "ops"}  # fmt: skip
    assert secret["stringData"] == {"AURA_CLIENT_ID": "id", "AURA_CLIENT_SECRET": "secret"}
    args = container(docs)["args"]
    assert "--log-level=debug" in args and "--log-format=json" in args

    docs = render(VALUE_SETS["everything-on"])
    env = env_of(docs)
    assert not by_kind(docs, "Secret")
    assert env["AURA_OPERATOR_CREDENTIALS_SECRET"] == "aura-credentials"
    assert env["AURA_OPERATOR_API_URL"] == "http://aura-simulator.ci:8088"
    assert env["AURA_OPERATOR_REQUESTS_PER_MINUTE"] == "20"
    assert env["AURA_OPERATOR_BACKUP_SECRETS"] == "false"
    assert env["AURA_OPERATOR_DRIFT_INTERVAL"] == "600"
    assert container(docs)["image"] == f"registry.example.com/aura-operator@{SHA}"

    docs = render(VALUE_SETS["metrics-off-no-credential"])
    env = env_of(docs)
    assert env["AURA_OPERATOR_METRICS_PORT"] == "0"
    assert "AURA_OPERATOR_CREDENTIALS_SECRET" not in env
    assert [p["name"] for p in container(docs)["ports"]] == ["healthz"]
    assert container(render())["image"] == "aura-operator:0.1.0"


def test_metrics_service_and_monitor_select_the_operator_pod() -> None:
    docs = render(VALUE_SETS["everything-on"])
    pod_labels = deployment(docs)["spec"]["template"]["metadata"]["labels"]
    (service,) = by_kind(docs, "Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert "metrics" in [p["name"] for p in container(docs)["ports"]]
    (monitor,) = by_kind(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["aura-operator"]}
    assert not by_kind(render(), "Service") and not by_kind(render(), "ServiceMonitor")


def test_network_policy_allows_metrics_in_and_dns_api_out() -> None:
    docs = render(VALUE_SETS["everything-on"])
    (policy,) = by_kind(docs, "NetworkPolicy")
    pod_labels = deployment(docs)["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["spec"]["ingress"]
    assert ingress["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert ingress["from"] == VALUE_SETS["everything-on"]["networkPolicy"]["metricsFrom"]
    egress_ports = {(p["port"], p["protocol"]) for rule in policy["spec"]["egress"]
                    for p in rule["ports"]}  # fmt: skip
    assert egress_ports == {(53, "UDP"), (53, "TCP"), (443, "TCP"), (6443, "TCP")}
    assert not by_kind(render(), "NetworkPolicy")


def test_a_shard_release_runs_with_its_selector_its_own_lease_and_optionally_dry() -> None:
    docs = render({"selector": "shard in (b,a)", "dryRun": True}, release="shard-a")
    args = container(docs)["args"]
    assert "--selector=shard in (b,a)" in args and "--dry-run" in args
    parsed = build_parser().parse_args(args)
    assert (parsed.selector, parsed.dry_run) == ("shard in (b,a)", True)
    assert env_of(docs)["AURA_OPERATOR_LEASE_NAME"] == "shard-a-aura-operator"
    (lease_rule,) = [
        r for d in by_kind(docs, "Role") for r in d["rules"] if r.get("resourceNames") and
        r["resources"] == ["leases"]
    ]  # fmt: skip
    assert lease_rule["resourceNames"] == ["shard-a-aura-operator"]


def test_without_a_selector_or_dry_run_the_operator_handles_everything() -> None:
    args = container(render({}))["args"]
    assert not [a for a in args if a.startswith(("--selector", "--dry-run"))]


def test_the_scrape_config_default_is_set_only_when_named() -> None:
    assert "AURA_OPERATOR_SCRAPE_CONFIG_SECRET" not in env_of(render())
    named = render({"metrics": {"auraScrapeConfig": {"secretName": "metrics-reader"}}})
    assert env_of(named)["AURA_OPERATOR_SCRAPE_CONFIG_SECRET"] == "metrics-reader"
