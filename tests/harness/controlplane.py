"""A real Kubernetes API server for the e2e tests, or an existing test cluster the user opts into.

`ControlPlane` does what controller-runtime's envtest does: it starts etcd, kube-apiserver (token
authentication, RBAC authorisation) and kube-controller-manager (the garbage collector, namespace
and ClusterRole aggregation controllers only) from the binaries in `KUBEBUILDER_ASSETS`, on free
ports, in a temporary directory, and writes an admin kubeconfig. `ExistingCluster` instead uses
the kubeconfig named by `AURA_E2E_KUBECONFIG`, and refuses any context that is not marked as a
test cluster.

Both give the same things to the fixtures: an admin kubeconfig, the cluster entry to build other
identities' kubeconfigs from, and `install_crds` for the CRDs in `crds/`.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.harness.procs import ManagedProcess, StartError, free_port, http_ok, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "crds"
ENVTEST_SCRIPT = REPO_ROOT / "hack" / "envtest.sh"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")

ASSETS_ENV = "KUBEBUILDER_ASSETS"
KUBECONFIG_ENV = "AURA_E2E_KUBECONFIG"
CONTEXT_ENV = "AURA_E2E_CONTEXT"
ALLOW_CONTEXT_ENV = "AURA_E2E_ALLOW_CONTEXT"
KEEP_ENV = "AURA_E2E_KEEP"

START_TIMEOUT = 60.0
#: kube-controller-manager's controllers the e2e tests rely on: owner references (garbage
#: collection), namespace deletion, and ClusterRole aggregation into admin/edit/view.
CONTROLLERS = ("garbagecollector", "namespace", "clusterrole-aggregation")


class SetupError(RuntimeError):
    """The e2e environment cannot be provided; the tests that need it fail (never skip)."""


# --- binaries ---------------------------------------------------------------------------------


def find_assets() -> Path:
    """The directory holding etcd, kube-apiserver and kube-controller-manager.

    `KUBEBUILDER_ASSETS` when set (controller-runtime's convention, so setup-envtest binaries
    work); otherwise whatever `hack/envtest.sh` prints (built once, then cached).
    """
    assets = os.environ.get(ASSETS_ENV)
    if assets:
        source = f"{ASSETS_ENV}={assets}"
    else:
        try:
            result = subprocess.run(
                [str(ENVTEST_SCRIPT)], stdout=subprocess.PIPE, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SetupError(
                f"{ASSETS_ENV} is not set and {ENVTEST_SCRIPT} failed ({exc}); see its output "
                f"above, or set {ASSETS_ENV} or {KUBECONFIG_ENV} (README, e2e section)"
            ) from exc
        assets = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        source = f"the output of {ENVTEST_SCRIPT}"
    directory = Path(assets).expanduser()
    missing = [b for b in BINARIES if not os.access(directory / b, os.X_OK)]
    if missing:
        raise SetupError(
            f"no executable {', '.join(missing)} in {directory} ({source}); the e2e tests need "
            f"{', '.join(BINARIES)}: run hack/envtest.sh, or see the README's e2e section"
        )
    return directory


# --- kubeconfig -------------------------------------------------------------------------------


def kubeconfig_for(cluster: dict[str, Any], user: str, token: str, context: str) -> dict[str, Any]:
    """A kubeconfig (as a dict) with one cluster, one token user and one context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": user}}],
        "current-context": context,
    }


def write_kubeconfig(path: Path, kubeconfig: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path


def new_client(kubeconfig: Path, context: str | None = None) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig), context=context)


# --- the two kinds of cluster -----------------------------------------------------------------


@dataclass
class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager started from `assets` in a temp dir."""

    assets: Path
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="aura-e2e-")))
    processes: list[ManagedProcess] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    server: str = ""
    kubeconfig: Path = field(init=False)
    context: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        self.kubeconfig = self.workdir / "admin.kubeconfig"
        self.description = f"envtest control plane from {self.assets} in {self.workdir}"

    @property
    def cluster_entry(self) -> dict[str, Any]:
        # At start the API server generates a CA and a serving certificate for 127.0.0.1 signed
        # by it, and writes both to certs/apiserver.crt: clients verify against that file.
        bundle = (self.workdir / "certs" / "apiserver.crt").read_bytes()
        return {
            "server": self.server,
            "certificate-authority-data": base64.b64encode(bundle).decode(),
        }

    def _spawn(self, name: str, *args: str) -> ManagedProcess:
        proc = ManagedProcess(name, [str(self.assets / name), *args], self.workdir / f"{name}.log")
        self.processes.append(proc)
        return proc

    def _timed(self, step: str, started: float) -> None:
        self.timings[step] = time.monotonic() - started

    def start(self) -> None:
        """Start etcd and the API server and wait until the API server is ready."""
        try:
            self._start_etcd()
            self._start_apiserver()
        except BaseException:
            self.stop()
            raise

    def _start_etcd(self) -> None:
        started = time.monotonic()
        client_port, peer_port = free_port(), free_port()
        url = f"http://127.0.0.1:{client_port}"
        etcd = self._spawn(
            "etcd",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={url}",
            f"--advertise-client-urls={url}",
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
            "--name=default",
        )
        etcd.wait_ready(
            lambda: http_ok(f"{url}/health"), timeout=START_TIMEOUT, what=f"{url}/health"
        )
        self.etcd_url = url
        self._timed("etcd", started)

    def _start_apiserver(self) -> None:
        started = time.monotonic()
        key = self.workdir / "sa.key"
        _generate_signing_key(key)
        self.admin_token = secrets.token_urlsafe(32)
        tokens = self.workdir / "tokens.csv"
        tokens.write_text(f'{self.admin_token},admin,admin-uid,"system:masters"\n')
        tokens.chmod(0o600)
        self._apiserver_port = free_port()
        self._run_apiserver()
        kubeconfig = kubeconfig_for(self.cluster_entry, "admin", self.admin_token, "envtest")
        write_kubeconfig(self.kubeconfig, kubeconfig)
        self._timed("kube-apiserver", started)

    def restart_apiserver(self, down: float) -> None:
        """Stop the API server (SIGTERM), keep it down for `down` seconds, start it again on
        the same port with the same certificates, keys and tokens: what clients see during a
        control-plane upgrade or a crash of the API server."""
        apiserver = next(p for p in self.processes if p.name == "kube-apiserver")
        apiserver.stop()
        self.processes.remove(apiserver)
        time.sleep(down)  # the outage itself is what is being tested
        self._run_apiserver()

    def _run_apiserver(self) -> None:
        key = self.workdir / "sa.key"
        tokens = self.workdir / "tokens.csv"
        port = self._apiserver_port
        apiserver = self._spawn(
            "kube-apiserver",
            f"--etcd-servers={self.etcd_url}",
            f"--cert-dir={self.workdir / 'certs'}",
            f"--secure-port={port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            "--insecure-port=0",
            "--service-cluster-ip-range=10.0.0.0/24",
            f"--token-auth-file={tokens}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={key}",
            f"--service-account-signing-key-file={key}",
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            "--endpoint-reconciler-type=none",
        )
        self.server = f"https://127.0.0.1:{port}"
        apiserver.wait_ready(
            lambda: http_ok(f"{self.server}/readyz", token=self.admin_token),
            timeout=START_TIMEOUT,
            what=f"{self.server}/readyz",
        )

    def start_controller_manager(self) -> None:
        """Start the garbage collector, namespace and ClusterRole aggregation controllers.

        The aggregation controller folds ClusterRoles labelled
        `rbac.authorization.k8s.io/aggregate-to-{admin,edit,view}` into the built-in roles, as
        in every real cluster (the chart's roles for users rely on it).

        Called after the CRDs are installed, so that the garbage collector watches custom
        resources from its first discovery instead of after its 30-second resync.
        """
        started = time.monotonic()
        try:
            manager = self._spawn(
                "kube-controller-manager",
                f"--kubeconfig={self.kubeconfig}",
                f"--controllers={','.join(CONTROLLERS)}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                "--port=0",
            )
            # It serves nothing (no ports); its log says when the controllers run.
            manager.wait_ready(
                lambda: all(_log_has(manager, f'Started "{name}"') for name in CONTROLLERS),
                timeout=START_TIMEOUT,
                what=f"the {', '.join(CONTROLLERS)} controllers to start",
            )
        except BaseException:
            self.stop()
            raise
        self._timed("kube-controller-manager", started)

    def stop(self) -> None:
        """Stop every process by PID: controller manager and API server first, etcd last."""
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()
        if not os.environ.get(KEEP_ENV):
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class ExistingCluster:
    """A cluster the user opted into with AURA_E2E_KUBECONFIG (e.g. kind); nothing is started."""

    kubeconfig: Path
    context: str | None = None
    cluster_entry: dict[str, Any] = field(default_factory=dict)
    server: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def from_env(cls) -> ExistingCluster:
        path = Path(os.environ[KUBECONFIG_ENV]).expanduser().resolve()
        if not path.is_file():
            raise SetupError(f"{KUBECONFIG_ENV}={path}: no such file")
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        name = os.environ.get(CONTEXT_ENV) or raw.get("current-context")
        if not name:
            raise SetupError(f"{path} has no current-context; set {CONTEXT_ENV}")
        check_test_context(name)
        contexts = {c["name"]: c["context"] for c in raw.get("contexts") or []}
        clusters = {c["name"]: c["cluster"] for c in raw.get("clusters") or []}
        if name not in contexts or contexts[name].get("cluster") not in clusters:
            raise SetupError(f"context {name!r} or its cluster is not in {path}")
        entry = dict(clusters[contexts[name]["cluster"]])
        ca = entry.get("certificate-authority")
        if ca and not Path(ca).is_absolute():
            entry["certificate-authority"] = str(path.parent / ca)
        return cls(
            kubeconfig=path,
            context=name,
            cluster_entry=entry,
            server=str(entry.get("server", "")),
            description=f"existing cluster, context {name!r} of {path}",
        )

    def stop(self) -> None:
        """Nothing was started; the per-test namespaces are deleted by their fixture."""


def check_test_context(name: str) -> None:
    """Refuse a context that is not marked as a test cluster (never run e2e tests on prod)."""
    allowed = os.environ.get(ALLOW_CONTEXT_ENV)
    if name.startswith("kind-") or "test" in name.lower() or name == allowed:
        return
    raise SetupError(
        f"refusing to run e2e tests against context {name!r}: it is not marked as a test cluster "
        f"(its name must start with 'kind-' or contain 'test'), and {ALLOW_CONTEXT_ENV} does not "
        f"name it. The tests create and delete namespaces, CRDs and cluster roles there."
    )


# --- CRDs -------------------------------------------------------------------------------------


def load_crds(directory: Path = CRD_DIR) -> list[dict[str, Any]]:
    crds = []
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                crds.append(doc)
    if not crds:
        raise SetupError(f"no CustomResourceDefinition in {directory}")
    return crds


def install_crds(api: client.ApiClient, crds: list[dict[str, Any]], timeout: float = 30) -> None:
    """Create (or replace) each CRD and wait until its resources are served.

    A v1.20 server drops `x-kubernetes-validations` silently; newer servers compile the rules
    and reject the CRD if one is invalid.
    """
    ext = client.ApiextensionsV1Api(api)
    for crd in crds:
        name = crd["metadata"]["name"]
        try:
            ext.create_custom_resource_definition(crd)
        except ApiException as exc:
            if exc.status != 409:
                raise SetupError(f"cannot create CRD {name}: {exc.status} {exc.body}") from exc
            current = ext.read_custom_resource_definition(name)
            body = {**crd, "metadata": {**crd["metadata"]}}
            body["metadata"]["resourceVersion"] = current.metadata.resource_version
            ext.replace_custom_resource_definition(name, body)
    objects = client.CustomObjectsApi(api)
    for crd in crds:
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        for version in (v["name"] for v in crd["spec"]["versions"] if v.get("served")):
            wait_until(
                lambda g=group, v=version, p=plural: _served(objects, g, v, p),
                timeout=timeout,
                what=f"{plural}.{group}/{version} to be served",
            )


def _served(objects: client.CustomObjectsApi, group: str, version: str, plural: str) -> bool:
    try:
        objects.list_cluster_custom_object(group, version, plural, limit=1)
    except ApiException as exc:
        if exc.status in (404, 503):
            return False
        raise
    return True


# --- small helpers ----------------------------------------------------------------------------


def _log_has(proc: ManagedProcess, text: str) -> bool:
    try:
        return text in proc.log_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return False


def _generate_signing_key(path: Path) -> None:
    """An EC P-256 key for the API server to sign service-account tokens with."""
    try:
        subprocess.run(
            ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(path)],
            check=True,
            capture_output=True,
        )
    except FileNotFoundError as exc:
        raise SetupError(
            "openssl is needed to make the API server's service-account signing key "
            "(apt-get install openssl)"
        ) from exc
    except subprocess.CalledProcessError as exc:
        raise StartError(f"openssl could not generate a key: {exc.stderr.decode()}") from exc
    path.chmod(0o600)
