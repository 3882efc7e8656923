"""The operator and the Aura simulator as real, separate processes, started the way a user does.

    python -m aura_operator run --namespace NS --liveness http://127.0.0.1:PORT/healthz
    python -m aura_operator simulator --host 127.0.0.1 --port 0 --time-scale N

Both run with the test's Python (the project's virtualenv) and an environment cleaned of the
developer's own KUBECONFIG, in-cluster and AURA_* settings, so that only what the test passes
reaches them.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.harness.procs import ManagedProcess, free_port, http_ok

OPERATOR_START_TIMEOUT = 60.0
SIMULATOR_START_TIMEOUT = 30.0

# The simulator's first stdout line, its contract with every caller that passes --port 0.
LISTENING = re.compile(r"^aura-simulator: listening on (http://\S+?)/?\s*$", re.MULTILINE)

DEMO_CLIENT_ID = "aura-demo"
DEMO_CLIENT_SECRET = "aura-demo-secret"


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without settings that would leak into the child, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AURA_", "KUBERNETES_SERVICE_")) and key != "KUBECONFIG"
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class SimulatorProcess:
    process: ManagedProcess
    base_url: str

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def stop(self) -> int | None:
        return self.process.stop()


def start_simulator(
    log_path: Path, *, time_scale: float = 60.0, args: Sequence[str] = ()
) -> SimulatorProcess:
    """Start the simulator on a port the OS picks and wait for its `listening on` line."""
    argv = [sys.executable, "-m", "aura_operator", "simulator"]
    argv += ["--host", "127.0.0.1", "--port", "0", "--time-scale", f"{time_scale:g}", *args]
    proc = ManagedProcess("aura-simulator", argv, log_path, env=child_env({}), cwd=log_path.parent)

    def listening() -> str | None:
        match = LISTENING.search(proc.log_path.read_text(encoding="utf-8", errors="replace"))
        return match.group(1) if match else None

    try:
        base_url = proc.wait_ready(
            listening, timeout=SIMULATOR_START_TIMEOUT, what="'aura-simulator: listening on URL'"
        )
    except BaseException:
        proc.stop()
        raise
    return SimulatorProcess(process=proc, base_url=base_url)


@dataclass
class OperatorProcess:
    process: ManagedProcess
    namespace: str
    liveness_url: str

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int | None:
        return self.process.stop()


def start_operator(
    log_path: Path,
    *,
    namespace: str,
    kubeconfig: Path,
    api_url: str,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> OperatorProcess:
    """Run the operator for `namespace` and wait until its liveness endpoint answers."""
    liveness = f"http://127.0.0.1:{free_port()}/healthz"
    argv = [sys.executable, "-m", "aura_operator", "run", "--namespace", namespace]
    argv += ["--liveness", liveness, *args]
    child = child_env(
        {
            "KUBECONFIG": str(kubeconfig),
            "AURA_OPERATOR_API_URL": api_url,
            "AURA_CLIENT_ID": client_id,
            "AURA_CLIENT_SECRET": client_secret,
            "AURA_OPERATOR_NAMESPACE": namespace,
            **(env or {}),
        }
    )
    proc = ManagedProcess("aura-operator", argv, log_path, env=child, cwd=log_path.parent)
    try:
        proc.wait_ready(
            lambda: http_ok(liveness),
            timeout=OPERATOR_START_TIMEOUT,
            what=f"the operator's liveness endpoint {liveness}",
        )
    except BaseException:
        proc.stop()
        raise
    return OperatorProcess(process=proc, namespace=namespace, liveness_url=liveness)
