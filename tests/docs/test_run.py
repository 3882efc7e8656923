"""Every ```sh block of the README and docs/ runs, as a user would type it.

Each page's runnable blocks run in order in one bash session (`set -euo pipefail`), from a copy
of the repository, against one local control plane for the session. A page fails on the first
command that exits non-zero; the failure names the page, the line and the command, with the
command's output. What stands in for what a reader has and this machine has not:

- a Kubernetes cluster: the e2e tests' control plane (etcd, kube-apiserver, controller manager),
  with the CRD installed, and an admin kubeconfig in KUBECONFIG;
- an Aura account: the Aura simulator (`aura-operator simulator`), its credential in
  AURA_CLIENT_ID / AURA_CLIENT_SECRET and its URL in AURA_OPERATOR_API_URL;
- a node to run the operator's image (for the README's Helm install): the operator started as
  that Deployment's container would be, with the chart's credential Secret and namespace;
- a reader who has followed the README's install before a page that builds on it
  (docs/backups.md): that install's namespace and credential Secret, and the operator as above;
- a machine to `pip install .` on: a throwaway virtualenv that sees the project's dependencies.

Objects a page created (namespaces with their AuraInstances, AuraSnapshots and AuraRestores,
cluster roles) are deleted after it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chart import tools_dir
from tests.docs.markdown import ROOT, Command, blocks, commands, page_name, pages
from tests.harness.controlplane import (
    ASSETS_ENV,
    ControlPlane,
    find_assets,
    install_crds,
    load_crds,
    new_client,
)
from tests.harness.procs import ManagedProcess, free_port, http_ok, wait_until
from tests.harness.runners import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    child_env,
    start_simulator,
)

pytestmark = pytest.mark.e2e

PAGE_TIMEOUT = 600.0
MARK = "\x1e@@docs-command "  # starts the line that announces each command in the output
RUNNABLE = [page for page in pages() if any(b.runs for b in blocks(page))]

# Pages that install the operator in the cluster and then use it: on a real cluster a kubelet
# runs its Deployment, here the test runs the same program with the same settings (the values
# below are those the chart gives the container for the README's `helm install`).
README_INSTALL = {
    "AURA_OPERATOR_CREDENTIALS_SECRET": "aura-credentials",
    "AURA_OPERATOR_NAMESPACE": "aura-operator",
}
OPERATOR_FOR = {
    "README.md": README_INSTALL,
    "docs/backups.md": README_INSTALL,
    "docs/platform.md": README_INSTALL,
    "docs/connection-secrets.md": README_INSTALL,
    "docs/metrics.md": README_INSTALL,
    "docs/tenancy.md": README_INSTALL,
    # Settled objects read every 2 s instead of 15 min: the page shows an expiry being noticed.
    "docs/sessions.md": {**README_INSTALL, "AURA_OPERATOR_DRIFT_INTERVAL": "2"},
}
# Pages that start where the README's install ends: the test does that install's kubectl steps
# (the namespace and the credential Secret; the CRDs are in the cluster already) before them.
AFTER_README_INSTALL = frozenset(
    {
        "docs/backups.md",
        "docs/platform.md",
        "docs/connection-secrets.md",
        "docs/sessions.md",
        "docs/metrics.md",
        "docs/tenancy.md",
    }
)
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build",
    "dist", "*.egg-info", "results",
)  # fmt: skip


# --- session: a cluster, a copy of the repository, a virtualenv for `pip install .` -------------


@pytest.fixture(scope="session")
def docs_cluster() -> Iterator[ControlPlane]:
    plane = ControlPlane(find_assets())
    try:
        plane.start()
        with new_client(plane.kubeconfig) as api:
            install_crds(api, load_crds())
        plane.start_controller_manager()
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree as a reader's clone: commands may write into it without harm."""
    dest = tmp_path_factory.mktemp("docs") / "aura-operator"
    shutil.copytree(ROOT, dest, ignore=COPY_IGNORE, symlinks=True)
    # `make demo` uses the project's virtualenv; keep make from reinstalling it from the copy.
    (dest / ".venv").symlink_to(ROOT / ".venv")
    stamp = (ROOT / ".venv" / ".installed").stat().st_mtime
    os.utime(dest / "pyproject.toml", (stamp - 1, stamp - 1))
    return dest


@pytest.fixture(scope="session")
def reader_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv whose `pip install .` installs the project without downloading its
    dependencies: they are found on a path to the project's own virtualenv."""
    venv = tmp_path_factory.mktemp("reader") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    purelib = Path(sysconfig.get_paths()["purelib"])
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (venv / "lib" / version / "site-packages" / "project-deps.pth").write_text(f"{purelib}\n")
    return venv


# --- one page ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    returncode: int
    output: str


def script(page_commands: list[Command]) -> str:
    lines = [
        "set -euo pipefail",
        "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
    ]
    for n, command in enumerate(page_commands):
        lines.append(f"printf '%s%d\\n' {shlex.quote(MARK)} {n}")
        lines.append(command.text)
    lines.append(f"printf '%s%s\\n' {shlex.quote(MARK)} done")
    return "\n".join(lines) + "\n"


def run_page(script_text: str, env: dict[str, str], cwd: Path, log: Path) -> Outcome:
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", script_text],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=PAGE_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:
            # Whatever the page left running (background jobs the trap missed) is in its group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            if proc.poll() is None:
                proc.wait(timeout=10)
    return Outcome(proc.returncode, log.read_text(encoding="utf-8", errors="replace"))


def report(outcome: Outcome, page_commands: list[Command]) -> str:
    """The command that failed (or was running at the timeout) and its output."""
    parts = outcome.output.split(MARK)
    last = parts[-1]
    index, _, output = last.partition("\n")
    if index.strip() == "done":
        return f"the page ran to its end but bash exited {outcome.returncode}:\n{outcome.output}"
    command = page_commands[int(index)]
    how = "timed out" if outcome.returncode in (None, -signal.SIGTERM) else "failed"
    return (
        f"{command.where}: this command {how} (exit status {outcome.returncode}):\n"
        f"  {command.text}\n--- its output ---\n{output.rstrip()}"
    )


def kubectl_json(env: dict[str, str], *args: str) -> list[dict[str, object]]:
    result = subprocess.run(
        ["kubectl", *args, "-o", "json"], env=env, capture_output=True, text=True, check=True
    )
    items: list[dict[str, object]] = json.loads(result.stdout)["items"]
    return items


def names(env: dict[str, str], kind: str) -> set[str]:
    return {str(item["metadata"]["name"]) for item in kubectl_json(env, "get", kind)}  # type: ignore[index]


def readme_install(env: dict[str, str]) -> None:
    """What the README's install leaves in the cluster besides the CRDs and the operator."""
    namespace = README_INSTALL["AURA_OPERATOR_NAMESPACE"]
    secret = README_INSTALL["AURA_OPERATOR_CREDENTIALS_SECRET"]
    for args in (
        ["create", "namespace", namespace],
        ["-n", namespace, "create", "secret", "generic", secret,
         f"--from-literal=AURA_CLIENT_ID={env['AURA_CLIENT_ID']}",
         f"--from-literal=AURA_CLIENT_SECRET={env['AURA_CLIENT_SECRET']}"],
    ):  # fmt: skip
        subprocess.run(["kubectl", *args], env=env, check=True, capture_output=True)


def clean_up(env: dict[str, str], before: dict[str, set[str]]) -> None:
    """Delete what the page created, releasing finalizers no operator will release now."""
    new_namespaces = names(env, "namespaces") - before["namespaces"]
    for ns in sorted(new_namespaces):
        for kind in (
            "aurainstances", "aurasnapshots", "aurarestores", "auracustomermanagedkeys",
            "auragraphanalyticssessions",
        ):  # fmt: skip
            for item in kubectl_json(env, "get", kind, "-n", ns):
                name = str(item["metadata"]["name"])  # type: ignore[index]
                subprocess.run(
                    ["kubectl", "patch", kind, name, "-n", ns, "--type", "merge",
                     "-p", '{"metadata":{"finalizers":null}}'],
                    env=env, capture_output=True, check=False,
                )  # fmt: skip
        subprocess.run(
            ["kubectl", "delete", "namespace", ns, "--wait=false"], env=env, check=True,
            capture_output=True,
        )  # fmt: skip
    for name in sorted(names(env, "auracredentials") - before["auracredentials"]):
        subprocess.run(
            ["kubectl", "patch", "auracredential", name, "--type", "merge",
             "-p", '{"metadata":{"finalizers":null}}'],
            env=env, capture_output=True, check=False,
        )  # fmt: skip
        subprocess.run(
            ["kubectl", "delete", "auracredential", name, "--wait=false"],
            env=env, capture_output=True, check=False,
        )  # fmt: skip
    for kind in ("clusterroles", "clusterrolebindings"):
        for name in sorted(names(env, kind) - before[kind]):
            subprocess.run(
                ["kubectl", "delete", kind, name], env=env, check=True, capture_output=True
            )
    wait_until(
        lambda: not (names(env, "namespaces") & new_namespaces),
        timeout=120,
        what=f"namespaces {sorted(new_namespaces)} to be deleted",
        interval=0.5,
    )


@pytest.mark.parametrize("page", RUNNABLE, ids=page_name)
def test_the_page_runs(
    page: Path,
    docs_cluster: ControlPlane,
    checkout: Path,
    reader_venv: Path,
    tmp_path: Path,
) -> None:
    page_commands = [c for b in blocks(page) if b.runs for c in commands(b)]
    simulator = start_simulator(tmp_path / "aura-simulator.log", time_scale=100)
    env = child_env(
        {
            "PATH": os.pathsep.join(
                [str(reader_venv / "bin"), str(tools_dir()), os.environ["PATH"]]
            ),
            "KUBECONFIG": str(docs_cluster.kubeconfig),
            "AURA_CLIENT_ID": DEMO_CLIENT_ID,
            "AURA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
            "AURA_OPERATOR_API_URL": simulator.base_url,
            "AURA_TOOLS": str(tools_dir()),
            ASSETS_ENV: str(docs_cluster.assets),
        }
    )
    env.pop("VIRTUAL_ENV", None)
    before = {
        kind: names(env, kind)
        for kind in ("namespaces", "clusterroles", "clusterrolebindings", "auracredentials")
    }
    operator: ManagedProcess | None = None
    try:
        if page_name(page) in AFTER_README_INSTALL:
            readme_install(env)
        settings = OPERATOR_FOR.get(page_name(page))
        if settings is not None:
            liveness = f"http://127.0.0.1:{free_port()}/healthz"
            operator_env = {k: v for k, v in env.items() if not k.startswith("AURA_CLIENT_")}
            operator_env.update({"AURA_OPERATOR_POLL_INTERVAL": "1", **settings})
            operator = ManagedProcess(
                "aura-operator",
                [sys.executable, "-m", "aura_operator", "run", "--all-namespaces",
                 "--liveness", liveness],
                tmp_path / "aura-operator.log",
                env=operator_env,
                cwd=tmp_path,
            )  # fmt: skip
            operator.wait_ready(lambda: http_ok(liveness), timeout=60, what="liveness")
        outcome = run_page(script(page_commands), env, checkout, tmp_path / "page.log")
        if outcome.returncode != 0:
            detail = report(outcome, page_commands)
            if operator is not None:
                detail += f"\n--- the operator's log ---\n{operator.tail(40)}"
            detail += f"\n--- the simulator's log ---\n{simulator.process.tail(20)}"
            pytest.fail(f"{page_name(page)}: {detail}", pytrace=False)
        assert f"{MARK}done\n" in outcome.output
    finally:
        if operator is not None:
            operator.stop()
        simulator.stop()
        clean_up(env, before)
