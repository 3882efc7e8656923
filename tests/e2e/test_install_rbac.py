"""The Helm chart's install, on a real API server: the operator runs in a namespace of its own
under exactly the RBAC, credential Secret, environment and arguments the chart renders, and
manages AuraInstances in another namespace through create -> resize -> delete.

Only the Deployment itself is not run (no kubelet here): the operator is the same command the
Deployment's container runs, with the rendered environment, as the chart's service account. A
permission the chart lacks fails this test (the operator's log must show no "forbidden"), and
the second test shows that the identity really is bound by the chart's rules.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from tests.chart import RBAC_KINDS, ROOT, render
from tests.harness.aura_env import FAST_SETTINGS, TIME_SCALE, AuraEnv, is_true
from tests.harness.runners import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    OperatorProcess,
    SimulatorProcess,
)

pytestmark = pytest.mark.e2e

SAMPLES = ROOT / "deploy" / "samples"


@pytest.fixture
def operator_namespace(admin_api: client.ApiClient, namespace: str) -> Iterator[str]:
    """The namespace the chart is installed in (the operator's own, where backups go)."""
    name = f"{namespace}-op"
    core = client.CoreV1Api(admin_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name, propagation_policy="Background")


def install(
    admin_api: client.ApiClient,
    service_account_kubeconfig: Callable[..., Path],
    *,
    operator_namespace: str,
    watched: str,
    drop_rule: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[Path, dict[str, str], list[str]]:
    """Apply the chart's Secret and RBAC (less any rule `drop_rule` picks); return the service
    account's kubeconfig and the container's literal environment and arguments."""
    docs = render(
        {
            "watchNamespaces": [watched],
            "aura": {
                "credentials": {"clientId": DEMO_CLIENT_ID, "clientSecret": DEMO_CLIENT_SECRET}
            },
        },
        namespace=operator_namespace,
    )
    rbac = [copy.deepcopy(d) for d in docs if d["kind"] in RBAC_KINDS]
    if drop_rule is not None:
        for doc in rbac:
            doc["rules"] = [r for r in doc.get("rules", []) if not drop_rule(r)] or None
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    DynamicClient(admin_api).resources.get(api_version="v1", kind="Secret").create(
        body=secret, namespace=operator_namespace
    )
    (dep,) = [d for d in docs if d["kind"] == "Deployment"]
    (sa,) = [d for d in docs if d["kind"] == "ServiceAccount"]
    assert dep["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    kubeconfig = service_account_kubeconfig(
        rbac, name=sa["metadata"]["name"], ns=operator_namespace
    )

    (container,) = dep["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    (pod_namespace,) = [e["name"] for e in container["env"] if "valueFrom" in e]
    env[pod_namespace] = operator_namespace  # what the fieldRef metadata.namespace gives
    args = container["args"]
    assert args[0] == "run"
    assert [a for a in args if a.startswith("--namespace")] == [f"--namespace={watched}"]
    # The runner passes --namespace and --liveness itself; the rest is the chart's.
    rest = [a for a in args[1:] if not a.startswith(("--namespace", "--liveness"))]
    return kubeconfig, env, rest


def start(
    run_operator: Callable[..., OperatorProcess],
    kubeconfig: Path,
    simulator: SimulatorProcess,
    watched: str,
    env: dict[str, str],
    args: list[str],
) -> OperatorProcess:
    env = {**env, **FAST_SETTINGS, "AURA_OPERATOR_API_URL": simulator.base_url}
    assert env["AURA_OPERATOR_CREDENTIALS_SECRET"]
    # No credential in the environment: the operator must read the chart's Secret.
    return run_operator(  # type: ignore[no-any-return]
        kubeconfig, simulator.base_url, ns=watched, env=env, args=args,
        client_id="", client_secret="",
    )  # fmt: skip


def test_samples_are_accepted_by_the_api_server(
    admin_api: client.ApiClient, namespace: str
) -> None:
    dyn = DynamicClient(admin_api)
    kinds = []
    for path in sorted(SAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                resource = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
                created = resource.create(body=doc, namespace=namespace, dry_run="All")
                kinds.append((path.name, created.kind))
                if doc["kind"] == "AuraInstance":
                    # Nothing the sample sets is pruned as unknown by the CRD's schema.
                    # (The API server may add defaults beside them, at any depth.)
                    assert _contains(created.to_dict()["spec"], doc["spec"]), path
    assert ("minimal.yaml", "AuraInstance") in kinds and ("full.yaml", "AuraInstance") in kinds


def test_create_resize_delete_under_the_charts_identity(
    admin_api: client.ApiClient,
    namespace: str,
    operator_namespace: str,
    start_aura_simulator: Callable[..., SimulatorProcess],
    service_account_kubeconfig: Callable[..., Path],
    run_operator: Callable[..., OperatorProcess],
) -> None:
    simulator = start_aura_simulator(time_scale=TIME_SCALE)
    kubeconfig, env, args = install(
        admin_api, service_account_kubeconfig,
        operator_namespace=operator_namespace, watched=namespace,
    )  # fmt: skip
    aura = AuraEnv(namespace, admin_api, simulator, kubeconfig, run_operator)
    aura.operator = start(run_operator, kubeconfig, simulator, namespace, env, args)

    sample = yaml.safe_load((SAMPLES / "minimal.yaml").read_text(encoding="utf-8"))
    name = sample["metadata"]["name"]
    aura.apply(name, sample["spec"])

    # Create: Ready, the connection Secret in the watched namespace, its backup in the chart's.
    obj = aura.wait_ready(name, timeout=60)
    instance_id = obj["status"]["instanceId"]
    (instance,) = [i for i in aura.sim_instances() if i["id"] == instance_id]
    secret = aura.secret(f"{name}-connection")
    assert secret is not None and secret["NEO4J_PASSWORD"] == instance["password"]
    binding = aura.secret(obj["status"]["binding"]["name"])  # the chart's Role writes it too
    assert binding is not None and binding["password"] == instance["password"]
    backup = aura.secret(f"aura-backup-{instance_id}", namespace=operator_namespace)
    assert backup is not None and backup["NEO4J_PASSWORD"] == instance["password"]
    assert instance["memory"] == sample["spec"]["memory"]

    # Resize in place.
    aura.patch(name, {"spec": {"memory": "16GB"}})
    generation = aura.get(name)["metadata"]["generation"]  # type: ignore[index]
    aura.wait_for(
        name,
        lambda o: (
            o["status"].get("observedGeneration") == generation
            and o["status"].get("memory") == "16GB"
            and is_true(o, "Ready")
        ),
        what="the resize to 16GB applied",
        timeout=60,
    )
    (instance,) = [i for i in aura.sim_instances() if i["id"] == instance_id]
    assert instance["memory"] == "16GB"

    # Delete (the sample's deletionPolicy is Delete): the instance, the backup and, by garbage
    # collection, the connection Secret go.
    aura.delete(name)
    aura.wait_gone(name, timeout=60)
    aura.wait_until(
        lambda: all(i["id"] != instance_id for i in aura.sim_instances()),
        what=f"Aura instance {instance_id} deleted",
    )
    aura.wait_until(
        lambda: aura.secret(f"aura-backup-{instance_id}", namespace=operator_namespace) is None,
        what="the backup Secret deleted",
    )
    aura.wait_until(
        lambda: aura.secret(f"{name}-connection") is None,
        what="the connection Secret garbage-collected",
    )
    assert "forbidden" not in aura.operator_log().lower(), aura.operator_log()[-4000:]


def test_a_permission_the_chart_lacked_would_fail(
    admin_api: client.ApiClient,
    namespace: str,
    operator_namespace: str,
    start_aura_simulator: Callable[..., SimulatorProcess],
    service_account_kubeconfig: Callable[..., Path],
    run_operator: Callable[..., OperatorProcess],
) -> None:
    """Without the chart's status rule the operator cannot report anything: the identity it
    runs under is really held to the chart's rules (it is not cluster admin)."""
    simulator = start_aura_simulator(time_scale=TIME_SCALE)
    kubeconfig, env, args = install(
        admin_api, service_account_kubeconfig,
        operator_namespace=operator_namespace, watched=namespace,
        drop_rule=lambda r: r["resources"] == ["aurainstances/status"],
    )  # fmt: skip
    aura = AuraEnv(namespace, admin_api, simulator, kubeconfig, run_operator)
    aura.operator = start(run_operator, kubeconfig, simulator, namespace, env, args)
    aura.apply("orders")
    aura.wait_until(
        lambda: "forbidden" in aura.operator_log().lower(),
        what="the operator to be refused the status update",
    )
    assert not (aura.get("orders") or {}).get("status", {}).get("conditions")


def _contains(found: Any, asked: Any) -> bool:
    """Whether `found` holds everything `asked` sets (maps may hold more keys: defaults)."""
    if isinstance(asked, dict):
        return isinstance(found, dict) and all(
            key in found and _contains(found[key], value) for key, value in asked.items()
        )
    return bool(found == asked)
