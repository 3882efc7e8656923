"""`make demo` (`python -m hack.demo`) works: it starts its own control plane, simulator and
operator, shows the sample becoming Ready and the Secret with its password masked, and stops it
all."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.chart import ROOT, tools_dir
from tests.harness.controlplane import ASSETS_ENV, find_assets

pytestmark = pytest.mark.e2e


def test_demo_shows_the_sample_becoming_ready_and_masks_the_password() -> None:
    env = {**os.environ, ASSETS_ENV: str(find_assets()), "AURA_TOOLS": str(tools_dir())}
    result = subprocess.run(
        [sys.executable, "-m", "hack.demo", "--time-scale", "100"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=240, check=False,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "orders: state=running  Ready=True (Available)" in out
    assert re.search(r"^orders\s+True\s+running\s+professional-db\s+8GB\s+\w+", out, re.M), out
    assert re.search(r"NEO4J_PASSWORD\s+\*{8} \(\d+ characters\)", out), out
    assert re.search(r"NEO4J_URI\s+neo4j\+s://", out), out
    assert "done: stopping" in out
