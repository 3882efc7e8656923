"""The operator package ships nothing test-only: it never imports the simulator.

`aura_simulator` sits beside `aura_operator` in one distribution; `aura-operator simulator`
reaches it through the `aura_operator.commands` entry point, not through an import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import aura_operator
from aura_operator.cli import build_parser

OPERATOR = Path(aura_operator.__file__).resolve().parent
FORBIDDEN = ("aura_simulator", "tests")


def imported_modules(source: Path, root: Path = OPERATOR.parent) -> set[str]:
    """Every module an `import` or `from ... import` in `source` names, relative ones resolved
    (`root` is the directory the top-level package is in)."""
    package = source.relative_to(root).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def forbidden(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in FORBIDDEN}


def test_the_operator_package_imports_neither_the_simulator_nor_the_tests() -> None:
    sources = sorted(OPERATOR.rglob("*.py"))
    assert len(sources) > 10, sources
    offenders = {
        str(path.relative_to(OPERATOR)): sorted(forbidden(imported_modules(path)))
        for path in sources
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_import_check_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The check above would catch an import hidden inside a function or under TYPE_CHECKING."""
    module = tmp_path / "aura_operator" / "aura" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from aura_simulator.config import SimulatorConfig\n"
        "def f():\n    import aura_simulator.server\n"
        "from .. import cli\n",
        encoding="utf-8",
    )
    found = imported_modules(module, root=tmp_path)
    assert forbidden(found) == {"aura_simulator.config", "aura_simulator.config.SimulatorConfig",
                                "aura_simulator.server"}  # fmt: skip
    assert "aura_operator.cli" in found


def test_importing_the_operator_and_its_command_line_loads_no_simulator_module() -> None:
    """At run time too: the `run` path (cli, settings, client) never pulls the simulator in."""
    code = (
        "import sys, aura_operator.cli, aura_operator.cli.run, aura_operator.aura\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aura_simulator'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("command", ["run", "simulator", "doctor"])
def test_the_command_line_has_every_sub_command(command: str) -> None:
    args = build_parser().parse_args([command] if command != "run" else [command, "-A"])
    assert args.command == command
