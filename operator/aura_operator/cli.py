"""The `aura-operator` command line: one script, one sub-command per job.

Each sub-command lives in its own module and registers itself here, so this file stays a
dispatcher and importing it stays cheap (heavy modules are imported inside each command).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from aura_operator import __version__

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrations() -> list[Register]:
    from aura_operator.doctor import register as register_doctor
    from aura_operator.run import register as register_run
    from aura_operator.simulator.cli import register as register_simulator

    return [register_run, register_simulator, register_doctor]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aura-operator",
        description="A Kubernetes operator for Neo4j Aura instances.",
    )
    parser.add_argument("--version", action="version", version=f"aura-operator {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _registrations():
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
