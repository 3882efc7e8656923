"""hack/envtest.sh's check of a build: every binary runs and the Kubernetes ones say v1.20.2.

The check runs on every cache hit (each `make test`), so it must never fail on a good build: the
version is captured and then matched, never piped into `grep -q` under pipefail (issue 17). The
fake builds below print the version and then a lot more, which makes a piped `grep -q` lose its
SIGPIPE race every time; `--check` never builds, so a wrong fake costs nothing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.harness.controlplane import ENVTEST_SCRIPT

#: Checks of the real build per test run: the old, piped shape failed some of these.
CHECK_RUNS = 10
#: Lines printed after the version line: far more than a pipe buffer (64 KiB).
TRAILING_LINES = 20_000


def envtest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENVTEST_SCRIPT), *args], capture_output=True, text=True, timeout=3600, check=False
    )


@pytest.fixture(scope="module")
def existing_build() -> Path:
    """The build the e2e tests use: KUBEBUILDER_ASSETS, else what hack/envtest.sh provides."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        return Path(assets)
    result = envtest()
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


def fake_build(directory: Path, version: str) -> Path:
    directory.mkdir()
    outputs = {
        "etcd": "etcd Version: 3.4.23",
        "kube-apiserver": f"Kubernetes {version}",
        "kube-controller-manager": f"Kubernetes {version}",
    }
    for name, first_line in outputs.items():
        binary = directory / name
        binary.write_text(
            f"#!/bin/sh\necho '{first_line}'\nseq {TRAILING_LINES}\n", encoding="utf-8"
        )
        binary.chmod(0o755)
    return directory


def test_the_existing_build_passes_the_check_every_time(existing_build: Path) -> None:
    results = [envtest("--check", str(existing_build)) for _ in range(CHECK_RUNS)]
    failed = [r.stderr.strip() for r in results if r.returncode != 0]
    assert not failed, f"{len(failed)} of {CHECK_RUNS} checks failed: {failed}"
    assert {r.stdout.strip() for r in results} == {str(existing_build)}


def test_a_cache_hit_prints_the_build_and_builds_nothing(existing_build: Path) -> None:
    result = envtest(str(existing_build))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(existing_build)
    assert "building" not in result.stderr


def test_the_check_matches_a_version_followed_by_more_output(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "build", "v1.20.2")
    for _ in range(3):
        result = envtest("--check", str(build))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == str(build)


def test_the_check_rejects_another_version(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "build", "v1.21.0")
    result = envtest("--check", str(build))
    assert result.returncode != 0
    assert "not Kubernetes v1.20.2" in result.stderr
    assert result.stdout == ""


def test_the_check_rejects_a_build_with_a_binary_missing(tmp_path: Path) -> None:
    build = fake_build(tmp_path / "build", "v1.20.2")
    (build / "kube-controller-manager").unlink()
    result = envtest("--check", str(build))
    assert result.returncode != 0
    assert result.stdout == ""
