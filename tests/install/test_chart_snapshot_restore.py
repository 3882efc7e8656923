"""The chart's RBAC for AuraSnapshot and AuraRestore: exactly what their loops use (watch, read,
patch kopf's annotations, write status), no delete, no finalizers, in every namespace the
operator watches; and the CRDs of both kinds ship with the chart."""

from __future__ import annotations

import pytest

from tests.chart import CHART, ROOT, render
from tests.install.test_chart import verbs_on


@pytest.mark.parametrize("kind", ["aurasnapshots", "aurarestores"])
def test_the_operator_may_watch_read_and_write_status_of_both_kinds(kind: str) -> None:
    docs = render({"watchNamespaces": ["shop"]})
    assert verbs_on(docs, kind, "shop") == {"get", "list", "watch", "patch"}
    assert verbs_on(docs, f"{kind}/status", "shop") == {"get", "patch"}
    assert verbs_on(docs, f"{kind}/finalizers", "shop") == set()


@pytest.mark.parametrize("kind", ["aurasnapshots", "aurarestores"])
def test_the_crds_of_both_kinds_ship_with_the_chart(kind: str) -> None:
    name = f"{kind}.aura-operator.dev.yaml"
    assert (CHART / "crds" / name).read_bytes() == (ROOT / "crds" / name).read_bytes()
    assert f"  - {name}" in (ROOT / "crds" / "Kustomization").read_text(encoding="utf-8")
