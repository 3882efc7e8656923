"""A faithful local Aura API for tests, the demo and users' CI (docs/simulator.md).

A package of its own beside `aura_operator`, in the same distribution: the operator never
imports it, so nothing test-only ships in the operator's import graph. `async with
Simulator(time_scale=100) as sim:` serves the API at `sim.base_url`; `aura-operator simulator`
and `python -m aura_simulator` serve it until stopped. The names below are imported lazily so
that building the `aura-operator` command line (which loads `aura_simulator.cli`) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aura_simulator.config import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_TENANT_ID,
        SimulatorConfig,
    )
    from aura_simulator.faults import Fault, FaultSpec
    from aura_simulator.gateway import RequestRecord
    from aura_simulator.server import Simulator

_EXPORTS = {
    "DEMO_CLIENT_ID": "config",
    "DEMO_CLIENT_SECRET": "config",
    "DEMO_TENANT_ID": "config",
    "SimulatorConfig": "config",
    "Fault": "faults",
    "FaultSpec": "faults",
    "RequestRecord": "gateway",
    "Simulator": "server",
}

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_TENANT_ID",
    "Fault",
    "FaultSpec",
    "RequestRecord",
    "Simulator",
    "SimulatorConfig",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
