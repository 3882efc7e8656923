"""The `aura-operator` command line: one script, one sub-command per job.

Each sub-command lives in its own module and registers itself here, so this file stays a
dispatcher and importing it stays cheap (heavy modules are imported inside each command).
Commands shipped beside the operator (`simulator`, from the `aura_simulator` package) are found
through the entry-point group `aura_operator.commands`, so the operator never imports them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from aura_operator import __version__

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

#: Entry points in this group are `register(subparsers)` functions, like the built-in ones.
COMMANDS_GROUP = "aura_operator.commands"


def _registrations() -> list[Register]:
    from aura_operator.cli.doctor import register as register_doctor
    from aura_operator.cli.importer import register as register_import
    from aura_operator.cli.run import register as register_run

    return [register_run, *_plugins(), register_doctor, register_import]


def _plugins() -> list[Register]:
    """Sub-commands declared by installed packages; one that fails to load is left out, so a
    broken extra never stops `aura-operator run`."""
    found: list[Register] = []
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        try:
            found.append(entry.load())
        except Exception as error:  # any failure of an optional command
            print(f"aura-operator: command {entry.name!r} unavailable: {error}", file=sys.stderr)
    return found


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
