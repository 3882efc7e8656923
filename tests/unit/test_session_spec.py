"""AuraGraphAnalyticsSession's spec rules, twice: the CRD's CEL rules (evaluated with cel-python
as an API server 1.25+ applies them, tests/unit/test_crd_cel.py) and the operator's own check
(`spec_problem`), which is what a user of an older API server meets."""

from __future__ import annotations

from typing import Any

import pytest

from aura_operator.kinds.session.model import AuraGraphAnalyticsSession
from aura_operator.kinds.session.placement import spec_problem
from tests.harness.controlplane import load_crds
from tests.unit.test_crd_cel import ENV, all_rules, violations, with_defaults

CRD = next(c for c in load_crds() if c["spec"]["names"]["kind"] == "AuraGraphAnalyticsSession")
SCHEMA: dict[str, Any] = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
STANDALONE = {"memory": "8GB", "cloudProvider": "gcp", "region": "europe-west1"}
ATTACHED = {"sizing": {"nodeCount": 10, "relationshipCount": 20}, "instanceRef": {"name": "db"}}


def on_create(spec: dict[str, Any]) -> list[str]:
    return violations(SCHEMA, with_defaults(SCHEMA, {"spec": spec}))


def on_update(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before = with_defaults(SCHEMA, {"spec": old})
    return violations(SCHEMA, with_defaults(SCHEMA, {"spec": new}), before)


def problem(spec: dict[str, Any]) -> str | None:
    body = {"metadata": {"namespace": "ns", "name": "people"}, "spec": spec}
    found = spec_problem(AuraGraphAnalyticsSession.from_body(body))
    return None if found is None else found.message


def test_every_rule_compiles_and_says_what_is_wrong() -> None:
    for path, rule in all_rules(SCHEMA):
        ENV.compile(rule["rule"])
        assert rule.get("message"), path


@pytest.mark.parametrize("spec", [STANDALONE, ATTACHED, {**STANDALONE, "tenantId": "t-1"}])
def test_attached_and_standalone_specs_are_accepted(spec: dict[str, Any]) -> None:
    assert on_create(spec) == []
    assert problem(spec) is None
    assert with_defaults(SCHEMA, {"spec": spec})["spec"]["renew"] == "Never"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({**STANDALONE, **ATTACHED}, "exactly one of memory and sizing"),
        ({k: v for k, v in STANDALONE.items() if k != "memory"}, "exactly one of memory"),
        ({**ATTACHED, "region": "europe-west1"}, "not both"),
        ({"memory": "8GB", "cloudProvider": "gcp"}, "not both"),
    ],
)
def test_a_spec_that_is_neither_or_both_is_refused_by_both_checks(
    spec: dict[str, Any], message: str
) -> None:
    assert any(message in v for v in on_create(spec))
    assert problem(spec) is not None


def test_the_operator_refuses_an_unreadable_ttl() -> None:
    assert "spec.ttl" in (problem({**STANDALONE, "ttl": "soon"}) or "")
    assert problem({**STANDALONE, "ttl": "1h30m"}) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "other"), ("instanceRef", {"name": "other"}), ("region", "us-east1")],
)
def test_where_and_what_a_session_is_cannot_change(field: str, value: Any) -> None:
    base = ATTACHED if field == "instanceRef" else {**STANDALONE, "name": "people"}
    assert any("immutable" in v for v in on_update(base, {**base, field: value}))


def test_memory_ttl_and_renew_may_change() -> None:
    changed = {**STANDALONE, "memory": "16GB", "ttl": "2h", "renew": "OnExpiry"}
    assert on_update(STANDALONE, changed) == []
