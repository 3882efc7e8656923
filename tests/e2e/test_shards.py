"""Sharding across releases (issue 20), end to end: two operator processes, each run as its
own Helm release would run it (the chart's RBAC and Lease name for release shard-a or
shard-b, `--selector shard=a` / `shard=b`), over six AuraInstances in one namespace.

While only shard a runs, the three `shard=b` objects (and one no release selects) are left
alone: no finalizer, no status, nothing sent to Aura for them. With both running, every object
is handled by exactly one process, and each release holds its own Lease.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.chart import RBAC_KINDS, is_for_others, render
from tests.harness.aura_env import FAST_SETTINGS, TIME_SCALE, AuraEnv, is_true
from tests.harness.runners import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, OperatorProcess

pytestmark = pytest.mark.e2e

SHARDS = {"a": ("a1", "a2", "a3"), "b": ("b1", "b2", "b3")}
#: One credential per shard (docs/scale-out.md): the simulator's request log then tells which
#: process sent what.
CREDENTIALS = {"a": (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), "b": ("shard-b", "shard-b-secret")}


@pytest.fixture
def sharded_env(
    namespace: str,
    admin_api: client.ApiClient,
    start_aura_simulator: Callable[..., Any],
    run_operator: Callable[..., OperatorProcess],
    tmp_path: Path,
) -> AuraEnv:
    """An AuraEnv whose simulator accepts both shards' credentials (the same tenant)."""
    config = tmp_path / "simulator.json"
    config.write_text(
        json.dumps(
            {"credentials": [{"client_id": i, "client_secret": s} for i, s in CREDENTIALS.values()]}
        )
    )
    simulator = start_aura_simulator(time_scale=TIME_SCALE, args=("--config", str(config)))
    return AuraEnv(namespace, admin_api, simulator, Path(), run_operator)


def release(aura_env: AuraEnv, make_kubeconfig: Any, shard: str) -> OperatorProcess:
    """The operator of release `shard-<shard>`: its chart RBAC, its args, its Lease."""
    name = f"shard-{shard}"
    docs = render(
        {"watchNamespaces": [aura_env.namespace], "selector": f"shard={shard}"},
        namespace=aura_env.namespace,
        release=name,
    )
    rbac = [d for d in docs if d["kind"] in RBAC_KINDS and not is_for_others(d)]
    kubeconfig = make_kubeconfig(rbac, name=f"{name}-aura-operator")
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    selector = [a for a in container["args"] if a.startswith("--selector=")]
    lease = {e["name"]: e.get("value") for e in container["env"]}["AURA_OPERATOR_LEASE_NAME"]
    client_id, secret = CREDENTIALS[shard]
    operator: OperatorProcess = aura_env.start_operator(
        kubeconfig,
        aura_env.simulator.base_url,
        env={**FAST_SETTINGS, "AURA_OPERATOR_LEASE_NAME": lease},
        args=tuple(selector),
        client_id=client_id,
        client_secret=secret,
    )
    return operator


def untouched(obj: dict[str, Any]) -> bool:
    return not obj.get("status") and not obj["metadata"].get("finalizers")


def aura_names(aura_env: AuraEnv) -> list[str]:
    return sorted(str(i["name"]) for i in aura_env.sim_instances())


def instance_path(path: str) -> str:
    """/v1/instances/<id> of any path about one instance (its snapshots, its actions)."""
    return "/".join(path.split("/")[:4])


def instance_paths(aura_env: AuraEnv, names: tuple[str, ...]) -> set[str]:
    ids = {str((aura_env.get(n) or {})["status"]["instanceId"]) for n in names}
    return {f"/v1/instances/{i}" for i in ids}


def test_two_releases_split_six_objects_and_leave_the_unselected_alone(
    sharded_env: AuraEnv, service_account_kubeconfig: Any
) -> None:
    aura_env = sharded_env
    ns = aura_env.namespace
    shard_a = release(aura_env, service_account_kubeconfig, "a")
    aura_env.operator = shard_a
    for shard, names in SHARDS.items():
        for name in names:
            aura_env.apply(name, labels={"shard": shard})
    aura_env.apply("nobody", labels={"shard": "c"})

    for name in SHARDS["a"]:
        aura_env.wait_ready(name, timeout=60)
    # Shard a keeps running (drift reads of its objects), and still leaves b alone.
    since = time.time()
    aura_env.wait_until(lambda: aura_env.sim_requests_since(since), what="shard a's next reads")
    for name in (*SHARDS["b"], "nobody"):
        obj = aura_env.get(name)
        assert obj is not None and untouched(obj), obj
    created = sorted(
        str((aura_env.get(n) or {})["status"]["creation"]["name"]) for n in SHARDS["a"]
    )
    assert aura_names(aura_env) == created  # only a's instances exist in Aura

    shard_b = release(aura_env, service_account_kubeconfig, "b")
    aura_env.operator = shard_b
    for name in SHARDS["b"]:
        aura_env.wait_ready(name, timeout=60)
    assert len(aura_env.sim_instances()) == 6  # each object created once, by one process
    posts = [
        r for r in aura_env.sim_requests() if (r["method"], r["path"]) == ("POST", "/v1/instances")
    ]
    assert len(posts) == 6

    # Each object was handled by its shard's process only: every request about its instance
    # came with that shard's credential, and each shard created its own three.
    requests = aura_env.sim_requests()
    for shard, names in SHARDS.items():
        paths = instance_paths(aura_env, names)
        senders = {r["client_id"] for r in requests if instance_path(r["path"]) in paths}
        assert senders == {CREDENTIALS[shard][0]}, (shard, senders)
        creates = [p for p in posts if p["client_id"] == CREDENTIALS[shard][0]]
        assert len(creates) == 3, (shard, creates)
    nobody = aura_env.get("nobody")
    assert nobody is not None and untouched(nobody)

    # Each release has its own Lease, held by its own process.
    leases = client.CoordinationV1Api(aura_env.admin_api)
    holders = {
        shard: leases.read_namespaced_lease(f"shard-{shard}-aura-operator", ns).spec.holder_identity
        for shard in SHARDS
    }
    assert all(holders.values()) and holders["a"] != holders["b"]
    for name in (*SHARDS["a"], *SHARDS["b"]):
        obj = aura_env.get(name)
        assert obj is not None and is_true(obj, "Ready")
