"""docs/development.md's worked example of adding a kind, run as written: the block after the
marker is executed as a module and its tests run against the in-process harness, so the page
cannot drift from what the controller accepts."""

from __future__ import annotations

import types
from pathlib import Path

from tests.inprocess.harness import Harness

PAGE = Path(__file__).resolve().parents[2] / "docs" / "development.md"
MARKER = "<!-- the worked example: tests/inprocess/test_adding_a_kind.py runs this block -->"


def _example() -> types.ModuleType:
    text = PAGE.read_text(encoding="utf-8")
    after = text.split(MARKER, 1)[1]
    assert after.lstrip().startswith("```python\n"), "the marker must precede a python block"
    source = after.split("```python\n", 1)[1].split("\n```", 1)[0]
    module = types.ModuleType("development_example")
    code = compile(source, f"{PAGE}:worked-example", "exec", dont_inherit=True)
    exec(code, module.__dict__)  # noqa: S102
    return module


async def test_the_worked_example_of_adding_a_kind_runs(h: Harness) -> None:
    example = _example()
    tests = [getattr(example, n) for n in dir(example) if n.startswith("test_")]
    assert tests, "the worked example defines no test"
    for test in tests:
        await test(h)
