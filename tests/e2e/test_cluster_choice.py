"""Choosing the cluster: AURA_E2E_KUBECONFIG is used only for contexts marked as test clusters,
and missing binaries are an error that names what is missing (the tests fail, never skip)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.harness.controlplane import (
    ALLOW_CONTEXT_ENV,
    ASSETS_ENV,
    CONTEXT_ENV,
    KUBECONFIG_ENV,
    ExistingCluster,
    SetupError,
    find_assets,
)

pytestmark = pytest.mark.e2e


def write_kubeconfig(path: Path, *contexts: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": c, "cluster": {"server": "https://127.0.0.1:6443"}} for c in contexts
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": c, "context": {"cluster": c, "user": "u"}} for c in contexts],
                "current-context": contexts[0],
            }
        )
    )
    return path


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (KUBECONFIG_ENV, CONTEXT_ENV, ALLOW_CONTEXT_ENV, ASSETS_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("context", ["kind-aura", "aura-test", "TEST-cluster"])
def test_a_context_marked_as_test_cluster_is_used(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, context: str
) -> None:
    clean_env.setenv(KUBECONFIG_ENV, str(write_kubeconfig(tmp_path / "kc", context)))
    cluster = ExistingCluster.from_env()
    assert cluster.context == context
    assert cluster.server == "https://127.0.0.1:6443"


def test_any_other_context_is_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv(KUBECONFIG_ENV, str(write_kubeconfig(tmp_path / "kc", "prod-eu", "kind-a")))
    with pytest.raises(SetupError, match="refusing to run e2e tests against context 'prod-eu'"):
        ExistingCluster.from_env()
    # Choosing a test context explicitly works; allowing the other one by name too.
    clean_env.setenv(CONTEXT_ENV, "kind-a")
    assert ExistingCluster.from_env().context == "kind-a"
    clean_env.delenv(CONTEXT_ENV)
    clean_env.setenv(ALLOW_CONTEXT_ENV, "prod-eu")
    assert ExistingCluster.from_env().context == "prod-eu"


def test_missing_binaries_are_an_error(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "etcd").write_text("#!/bin/sh\n")
    (tmp_path / "etcd").chmod(0o755)
    clean_env.setenv(ASSETS_ENV, str(tmp_path))
    with pytest.raises(SetupError, match="no executable kube-apiserver, kube-controller-manager"):
        find_assets()
