"""The layout's rules (docs/layout.md), checked on the tree.

- The runtime (and the Kubernetes access) never imports a kind: a kind is a model, its
  decisions and one registration, and the runtime serves every kind alike. The exceptions that
  remain are listed here with their reason; a new one fails.
- A kind reaches another kind only through the references it declares (`REFERENCES` in
  `kinds/<kind>/__init__.py`).
- docs/layout.md lists every module of the package, and only modules that exist.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from tests.unit.test_package_boundaries import OPERATOR, imported_modules

DOCS = OPERATOR.parents[1] / "docs" / "layout.md"
KINDS = sorted(p.name for p in (OPERATOR / "kinds").iterdir() if (p / "__init__.py").exists())

#: runtime module -> kind modules it still imports, and why.
KNOWN_RUNTIME_IMPORTS = {
    # The process-wide context holds the AuraInstance's Secret store.
    "runtime/context.py": {"aura_operator.kinds.instance.connection_secret"},
    # Credential resolution reads AuraCredential objects (every kind names one).
    "runtime/credentials.py": {"aura_operator.kinds.credential.model"},
}


def _kind_modules(modules: set[str]) -> set[str]:
    """The `aura_operator.kinds.<kind>.<module>` among `modules` (names imported from a
    module are dropped: `from m import x` also yields `m.x`)."""
    found = set()
    for module in modules:
        parts = module.split(".")
        if parts[:2] == ["aura_operator", "kinds"] and len(parts) >= 4:
            found.add(".".join(parts[:4]))
    return {m for m in found if (OPERATOR / Path(*m.split(".")[1:])).with_suffix(".py").exists()}


def test_the_runtime_and_the_kubernetes_access_import_no_kind() -> None:
    found: dict[str, set[str]] = {}
    for folder in ("runtime", "kube"):
        for path in sorted((OPERATOR / folder).rglob("*.py")):
            kinds = _kind_modules(imported_modules(path))
            if kinds:
                found[str(path.relative_to(OPERATOR))] = kinds
    assert found == KNOWN_RUNTIME_IMPORTS


def test_a_kind_reaches_other_kinds_only_through_its_declared_references() -> None:
    assert KINDS == ["credential", "customer_key", "instance", "restore", "session", "snapshot"]
    undeclared: dict[str, set[str]] = {}
    for kind in KINDS:
        declared = set(importlib.import_module(f"aura_operator.kinds.{kind}").REFERENCES)
        assert declared <= set(KINDS), (kind, declared)
        reached = set()
        for path in (OPERATOR / "kinds" / kind).rglob("*.py"):
            for module in _kind_modules(imported_modules(path)):
                reached.add(module.split(".")[2])
        extra = reached - declared - {kind}
        if extra:
            undeclared[kind] = extra
    assert undeclared == {}


def test_the_kubernetes_client_is_imported_only_by_the_kubernetes_access() -> None:
    users = {
        str(path.relative_to(OPERATOR))
        for path in OPERATOR.rglob("*.py")
        if any(m.split(".")[0] == "kubernetes" for m in imported_modules(path))
    }
    assert "kube/api.py" in users
    assert {u for u in users if not u.startswith("kube/")} == set()


def _listed() -> set[str]:
    """The module paths docs/layout.md lists in its package block."""
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("## The operator package", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    listed: set[str] = set()
    for line in block.splitlines():
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]  # the path column
        listed.update(re.findall(r"[\w/]+\.py", names))
    return listed


def test_docs_layout_lists_every_module_and_nothing_else() -> None:
    tree = {str(path.relative_to(OPERATOR)) for path in OPERATOR.rglob("*.py")}
    tree = {p for p in tree if not _package_marker(p)}
    listed = _listed()
    assert sorted(tree - listed) == [], "modules missing from docs/layout.md"
    assert sorted(listed - tree) == [], "docs/layout.md lists modules that do not exist"


def _package_marker(path: str) -> bool:
    """A package's `__init__.py` that only says what the folder is (listed as the folder)."""
    return path.endswith("__init__.py") and path not in ("__init__.py", "cli/__init__.py")


def test_the_layout_check_sees_a_module_the_page_does_not_list() -> None:
    """The check above can fail: a module that is not listed is found missing."""
    assert "runtime/controller.py" in _listed()
    assert "runtime/not_a_module.py" not in _listed()
