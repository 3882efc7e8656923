"""The README and docs/ follow their conventions: size, fences, not-run markers, links.

Running the commands is test_run.py's job; these checks need no cluster.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.markdown import (
    KNOWN_LANGS,
    README,
    ROOT,
    blocks,
    commands,
    misplaced_markers,
    page_name,
    pages,
)

README_MAX_BYTES = 20 * 1024

# Every block a user is told to type that is not run here, per page. A new marker must be added
# here too, so that it is a decision, not a way round a failing block.
NOT_RUN_PER_PAGE = {
    "README.md": 2,  # Argo CD; make test itself
    "docs/benchmark.md": 1,  # make bench: 10 to 40 minutes
    "docs/development.md": 2,  # make test itself; the whole e2e suite by hand
    "docs/install.md": 1,  # docker build and push
}

USER_DOCS = (
    "simulator", "client", "benchmark", "development", "layout", "install", "operations", "backups",
    "configuration", "reliability", "aura-api", "platform", "tenancy", "troubleshooting",
    "sessions", "scale-out", "connection-secrets", "metrics",
)  # fmt: skip

LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_is_at_most_20_kb() -> None:
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail into docs/"


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_every_fence_names_a_known_language(page: Path) -> None:
    unknown = [f"{b.where}: ```{b.lang}" for b in blocks(page) if b.lang not in KNOWN_LANGS]
    assert not unknown, "use ```sh for commands, ```text for output:\n" + "\n".join(unknown)


def test_not_run_markers_have_a_reason_and_are_counted() -> None:
    misplaced = [bad for page in pages() for bad in misplaced_markers(page)]
    assert not misplaced, "a marker belongs on the line right before a fence:\n" + "\n".join(
        misplaced
    )
    counted: dict[str, int] = {}
    for page in pages():
        for block in blocks(page):
            if block.not_run is None:
                continue
            assert block.lang == "sh", f"{block.where}: a not-run marker on a ```{block.lang}"
            assert len(block.not_run.split()) >= 3, f"{block.where}: the marker needs a reason"
            counted[page_name(page)] = counted.get(page_name(page), 0) + 1
    assert counted == NOT_RUN_PER_PAGE


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_command_blocks_parse(page: Path) -> None:
    for block in blocks(page):
        if block.lang == "sh":
            assert commands(block), f"{block.where}: an empty command block"


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    inside_fence = False
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside_fence = not inside_fence
        elif not inside_fence and line.startswith("#"):
            found.add(_slug(line.lstrip("#")))
    return found


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        path = (page.parent / file_part).resolve() if file_part else page
        if ROOT not in path.parents and path != ROOT:
            broken.append(f"{target}: outside the repository")
            continue
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {page_name(path)}")
    assert not broken, f"{page_name(page)}:\n" + "\n".join(broken)


def test_readme_links_every_doc() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name for name in USER_DOCS if f"](docs/{name}.md" not in text]
    assert not missing, f"README.md does not link docs/{missing}"
    assert sorted(p.stem for p in (ROOT / "docs").glob("*.md")) == sorted(USER_DOCS)


def test_readme_keeps_the_reliability_and_configuration_sections() -> None:
    text = README.read_text(encoding="utf-8")
    reliability = text.split("\n## Reliability\n", 1)
    assert len(reliability) == 2, "README.md lacks '## Reliability'"
    body = reliability[1].split("\n## ", 1)[0].strip()
    assert "](docs/reliability.md)" in body, "the Reliability section does not link the details"
    configuration = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    assert "](docs/configuration.md)" in configuration
    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert "| variable | default | meaning |" in reference


def test_the_readme_sets_up_with_two_commands_and_ci_runs_the_second() -> None:
    typed = [c.text for b in blocks(README) if b.lang == "sh" for c in commands(b)]
    assert "make demo" in typed
    assert "make test" in typed
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line.startswith("make")] == ["make test"]
