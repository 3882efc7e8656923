"""pytest fixtures for the e2e tests: a real Kubernetes API server, identities, the operator.

Session-wide (started once, on first use, stopped at the end even when tests fail):
  `cluster`     etcd + kube-apiserver + kube-controller-manager from KUBEBUILDER_ASSETS (or from
                hack/envtest.sh when unset), with the CRDs from crds/ installed; or, with
                AURA_E2E_KUBECONFIG, an existing test cluster (see controlplane.check_test_context)
  `admin_api`   a kubernetes ApiClient with cluster-admin rights

Per test:
  `namespace`                   a fresh namespace, deleted afterwards
  `service_account_kubeconfig`  factory: RBAC manifests -> kubeconfig of a service account
  `aura_simulator`, `start_aura_simulator`   the Aura simulator as a separate process
  `run_operator`                factory: the operator as a separate process (`aura_operator run`)

Missing binaries fail these tests; they are never skipped. The log of every process a test
started is shown under the test's report when it fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from tests.harness.aura_env import AuraEnv, make_env
from tests.harness.controlplane import (
    KUBECONFIG_ENV,
    ControlPlane,
    ExistingCluster,
    find_assets,
    install_crds,
    load_crds,
    new_client,
)
from tests.harness.identity import Applied, Manifests, ServiceAccountIdentity, load_manifests
from tests.harness.procs import tail
from tests.harness.runners import OperatorProcess, SimulatorProcess, start_operator, start_simulator

E2E_DIR = Path(__file__).parent
LOG_TAIL_LINES = 80
NAMESPACE_LABEL = "aura-operator.dev/e2e"

Cluster = ControlPlane | ExistingCluster

_LOGS = pytest.StashKey[list[tuple[str, Path]]]()
_CLUSTER = pytest.StashKey[Cluster]()


# --- hooks ------------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        for name, path in item.stash.get(_LOGS, []):
            section = f"{name} log (last {LOG_TAIL_LINES} lines of {path})"
            report.sections.append((section, tail(path, LOG_TAIL_LINES) or "(empty)"))
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    cluster = config.stash.get(_CLUSTER, None)
    if cluster is not None and cluster.timings:
        steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in cluster.timings.items())
        terminalreporter.write_line(f"e2e: {cluster.description}; start-up: {steps}")


def attach_log(request: pytest.FixtureRequest, name: str, path: Path) -> None:
    """Show this log file's tail under the test's report if the test fails."""
    request.node.stash.setdefault(_LOGS, []).append((name, path))


# --- session fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    started = time.monotonic()
    plane: Cluster
    if os.environ.get(KUBECONFIG_ENV):
        plane = ExistingCluster.from_env()
    else:
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():  # let a first build's progress show
            assets = find_assets()
        plane = ControlPlane(assets)
    request.config.stash[_CLUSTER] = plane
    try:
        if isinstance(plane, ControlPlane):
            plane.start()
        crds_started = time.monotonic()
        with new_client(plane.kubeconfig, plane.context) as api:
            install_crds(api, load_crds())
        plane.timings["CRDs"] = time.monotonic() - crds_started
        if isinstance(plane, ControlPlane):
            plane.start_controller_manager()
        plane.timings["total"] = time.monotonic() - started
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def admin_api(cluster: Cluster) -> Iterator[client.ApiClient]:
    with new_client(cluster.kubeconfig, cluster.context) as api:
        yield api


# --- per-test fixtures ------------------------------------------------------------------------


@pytest.fixture
def namespace(request: pytest.FixtureRequest, admin_api: client.ApiClient) -> Iterator[str]:
    """A namespace of this test's own, deleted (with everything in it) after the test."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"e2e-{slug}-{secrets.token_hex(3)}"
    core = client.CoreV1Api(admin_api)
    core.create_namespace(
        client.V1Namespace(
            metadata=client.V1ObjectMeta(name=name, labels={NAMESPACE_LABEL: "true"})
        )
    )
    yield name
    # The operator is stopped by now (its fixture depends on this one), so finalizers it left
    # would keep the namespace terminating forever: release them, then delete everything.
    objects = client.CustomObjectsApi(admin_api)
    for crd in load_crds():
        if crd["spec"].get("scope") == "Cluster":
            continue  # not in the namespace; the tests that make them delete them
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        version = next(v["name"] for v in crd["spec"]["versions"] if v.get("storage"))
        listed = objects.list_namespaced_custom_object(group, version, name, plural)
        for item in listed["items"]:
            if item["metadata"].get("finalizers"):
                with contextlib.suppress(ApiException):
                    objects.patch_namespaced_custom_object(
                        group,
                        version,
                        name,
                        plural,
                        item["metadata"]["name"],
                        {"metadata": {"finalizers": None}},
                    )
    try:
        core.delete_namespace(name, propagation_policy="Background")
    except ApiException as exc:
        if exc.status != 404:
            raise


@pytest.fixture
def service_account_kubeconfig(
    cluster: Cluster, admin_api: client.ApiClient, namespace: str, tmp_path: Path
) -> Iterator[Callable[..., Path]]:
    """Factory: `(rbac, name="aura-operator", namespace=<test ns>) -> kubeconfig path`.

    Creates the ServiceAccount, applies `rbac` (dicts, or a YAML file path) and returns a
    kubeconfig authenticating as `system:serviceaccount:<namespace>:<name>`. Cluster-scoped
    objects it applied are deleted after the test; namespaced ones go with the namespace.
    """
    applied = Applied()

    def make(rbac: Manifests = (), *, name: str = "aura-operator", ns: str | None = None) -> Path:
        ns = ns or namespace
        identity = ServiceAccountIdentity.create(
            admin_api,
            cluster.cluster_entry,
            namespace=ns,
            name=name,
            manifests=load_manifests(rbac),
            kubeconfig_path=tmp_path / f"{ns}-{name}.kubeconfig",
            applied=applied,
        )
        return identity.kubeconfig

    yield make
    if applied.cluster_scoped:
        applied.delete(DynamicClient(admin_api))


@pytest.fixture
def start_aura_simulator(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., SimulatorProcess]]:
    """Factory: `(time_scale=60.0, args=()) -> SimulatorProcess` (stopped after the test)."""
    started: list[SimulatorProcess] = []

    def start(time_scale: float = 60.0, args: tuple[str, ...] = ()) -> SimulatorProcess:
        log = tmp_path / f"aura-simulator-{len(started)}.log"
        attach_log(request, "aura-simulator", log)
        sim = start_simulator(log, time_scale=time_scale, args=args)
        started.append(sim)
        return sim

    yield start
    for sim in reversed(started):
        sim.stop()


@pytest.fixture
def aura_simulator(start_aura_simulator: Callable[..., SimulatorProcess]) -> SimulatorProcess:
    return start_aura_simulator()


@pytest.fixture
def run_operator(
    request: pytest.FixtureRequest, namespace: str, tmp_path: Path
) -> Iterator[Callable[..., OperatorProcess]]:
    """Factory: `(kubeconfig, api_url, namespace=<test ns>, env=None, args=()) -> OperatorProcess`.

    Runs `python -m aura_operator run --namespace NS --liveness URL` with KUBECONFIG set to
    `kubeconfig` (use `service_account_kubeconfig` to run under RBAC), waits for its liveness
    endpoint, and stops it (SIGTERM, then SIGKILL) after the test.
    """
    started: list[OperatorProcess] = []

    def start(kubeconfig: Path, api_url: str, *, ns: str | None = None, **kwargs: Any) -> Any:
        log = tmp_path / f"aura-operator-{len(started)}.log"
        attach_log(request, "aura-operator", log)
        operator = start_operator(
            log, namespace=ns or namespace, kubeconfig=kubeconfig, api_url=api_url, **kwargs
        )
        started.append(operator)
        return operator

    yield start
    for operator in reversed(started):
        operator.stop()


@pytest.fixture
def aura_env(
    namespace: str,
    admin_api: client.ApiClient,
    start_aura_simulator: Callable[..., SimulatorProcess],
    service_account_kubeconfig: Callable[..., Path],
    run_operator: Callable[..., OperatorProcess],
) -> Iterator[AuraEnv]:
    """A namespace with the simulator, an operator identity under its Role, and helpers.

    The operator is not started: call `aura_env.run_operator(**settings)` when the test is
    ready (some tests prepare Aura or Kubernetes first).
    """
    yield from make_env(
        namespace, admin_api, start_aura_simulator, service_account_kubeconfig, run_operator
    )
