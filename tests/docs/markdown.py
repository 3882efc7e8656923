"""The fenced blocks of the README and docs/, and the commands in them.

The convention (docs/development.md, "The documentation is run"):

- ```sh      commands a user types; tests/docs runs every one of them;
- ```text    output from a real run, shown, not run;
- any other  a file's content (yaml, python, lua), not run.

A `<!-- not-run: REASON -->` comment on the line right before a fence exempts that block, and
says why it cannot run here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS_DIR = ROOT / "docs"

RUN_LANG = "sh"
KNOWN_LANGS = frozenset({"sh", "text", "yaml", "json", "python", "lua"})
FENCE = re.compile(r"^```(\S*)\s*$")
NOT_RUN = re.compile(r"^<!--\s*not-run:(.*?)-->\s*$")
NOT_RUN_LOOSE = re.compile(r"not-run", re.IGNORECASE)


def pages() -> list[Path]:
    """The README first, then docs/ in name order: the order a reader follows the links."""
    return [README, *sorted(DOCS_DIR.glob("*.md"))]


def page_name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    lines: tuple[str, ...]  # the content, without the fences
    not_run: str | None  # the marker's reason ("" for a marker without one), or None

    @property
    def where(self) -> str:
        return f"{page_name(self.path)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.lang == RUN_LANG and self.not_run is None


@dataclass(frozen=True)
class Command:
    """One logical command: a line and its backslash continuations."""

    path: Path
    line: int  # 1-based line in the page
    text: str

    @property
    def where(self) -> str:
        return f"{page_name(self.path)}:{self.line}"


class MarkdownError(ValueError):
    pass


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        start = i
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            i += 1
        if i == len(lines):
            raise MarkdownError(f"{page_name(path)}:{start + 1}: fence never closed")
        marker = NOT_RUN.match(lines[start - 1]) if start > 0 else None
        found.append(
            Block(
                path=path,
                line=start + 1,
                lang=opening.group(1),
                lines=tuple(lines[start + 1 : i]),
                not_run=marker.group(1).strip() if marker else None,
            )
        )
        i += 1
    return found


def misplaced_markers(path: Path) -> list[str]:
    """Lines mentioning not-run that are not a well-formed marker right before a fence."""
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = []
    for n, line in enumerate(lines):
        if not line.startswith("<!--") or not NOT_RUN_LOOSE.search(line):
            continue
        well_formed = NOT_RUN.match(line) is not None
        before_fence = n + 1 < len(lines) and FENCE.match(lines[n + 1]) is not None
        if not (well_formed and before_fence):
            bad.append(f"{page_name(path)}:{n + 1}: {line}")
    return bad


def commands(block: Block) -> list[Command]:
    """The block's commands, comments and blank lines left out, continuations joined."""
    found: list[Command] = []
    pending: list[str] = []
    first = 0
    for offset, raw in enumerate(block.lines):
        line_no = block.line + 1 + offset
        if not pending:
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            first = line_no
        pending.append(raw)
        if raw.rstrip().endswith("\\"):
            continue
        found.append(Command(block.path, first, "\n".join(pending)))
        pending = []
    if pending:
        raise MarkdownError(f"{block.where}: the last line ends with a backslash")
    return found
