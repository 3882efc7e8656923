"""The process fixtures: the Aura simulator and the operator run as separate processes, reachable
the way users reach them, and are stopped by PID after the test."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from tests.chart import operator_rbac
from tests.harness.procs import http_ok
from tests.harness.runners import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    OperatorProcess,
    SimulatorProcess,
)

pytestmark = pytest.mark.e2e


def test_simulator_runs_as_a_separate_process_and_stops(
    start_aura_simulator: Callable[..., SimulatorProcess],
) -> None:
    simulator = start_aura_simulator(time_scale=100)
    assert simulator.process.pid != os.getpid()
    assert simulator.process.running
    response = httpx.post(
        f"{simulator.base_url}/oauth/token",
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]

    simulator.stop()
    assert not simulator.process.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{simulator.base_url}/v1/tenants")


def test_operator_runs_as_a_separate_process_under_a_service_account(
    service_account_kubeconfig: Callable[..., Path],
    aura_simulator: SimulatorProcess,
    run_operator: Callable[..., OperatorProcess],
    namespace: str,
) -> None:
    kubeconfig = service_account_kubeconfig(operator_rbac(namespace))
    user = yaml.safe_load(kubeconfig.read_text())["users"][0]["name"]
    assert user == f"system:serviceaccount:{namespace}:aura-operator"

    operator = run_operator(kubeconfig, aura_simulator.base_url)
    assert operator.process.pid != os.getpid()
    assert http_ok(operator.liveness_url)

    operator.stop()
    assert not operator.process.running
    assert not http_ok(operator.liveness_url)
