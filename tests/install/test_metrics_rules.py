"""The chart's PrometheusRule and Grafana dashboard for the operator's own metrics: off by default,
every metric they read is one the operator exports (the names come from its registry, not from a
list here), `promtool check rules` accepts the rendered rules and the dashboard's queries, and
`promtool test rules` shows that the alerts fire on the series they are about and stay quiet
otherwise.

promtool comes from AURA_PROMTOOL or hack/promtool.sh (tests/chart.py); without it these tests
fail, never skip.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.chart import CHART, helm_template, promtool, render

ON = {"metrics": {"prometheusRule": {"enabled": True}, "dashboard": {"enabled": True}}}
NAMESPACE = "aura-system"
#: What Grafana substitutes in the dashboard's queries, for promtool to parse them.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$namespace": NAMESPACE}


# --- the metrics the operator exports -------------------------------------------------------------


def exported_series() -> set[str]:
    """Every series name the operator's registry exposes (counters as <name>_total, histograms as
    _bucket, _sum and _count), whether or not a sample exists yet."""
    # Issue 18 moves the module to aura_operator.runtime; either place is the one registry.
    for module_name in ("aura_operator.runtime.metrics", "aura_operator.metrics"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        registry = module.Metrics().registry
        break
    else:
        raise AssertionError("no aura_operator metrics module")
    names: set[str] = set()
    for family in registry.collect():
        suffixes = {
            "counter": ("_total", "_created"),
            "gauge": ("",),
            "histogram": ("_bucket", "_sum", "_count", "_created"),
            "summary": ("", "_sum", "_count", "_created"),
        }[family.type]
        names.update(family.name + suffix for suffix in suffixes)
    return names


# --- PromQL: the metric names an expression reads -------------------------------------------------

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_NAME = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(\s*\()?")
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
     "unless", "offset", "inf", "nan", "atan2"}
)  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: identifiers that are not functions, aggregation
    operators, keywords, label names (in {...} or by/on/... lists), strings or durations."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _LABEL_LIST.sub(" ", text)
    return {
        m.group(1)
        for m in _NAME.finditer(text)
        if not m.group(2) and m.group(1).lower() not in _KEYWORDS
    }


def test_metric_names_finds_metrics_and_nothing_else() -> None:
    expr = (
        'histogram_quantile(0.9, sum by (le, priority) (rate(a_bucket{x="y{z}", le!~"1e3"}[5m])))'
        " > on (instance) group_left () b offset 5m or absent(c) unless count without (d) (e)"
        " * 1e3 > bool Inf"
    )
    assert metric_names(expr) == {"a_bucket", "b", "c", "e"}


# --- the rendered objects -------------------------------------------------------------------------


def rule_groups() -> list[dict[str, Any]]:
    docs = render(ON, namespace=NAMESPACE)
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def dashboard() -> dict[str, Any]:
    docs = render(ON, namespace=NAMESPACE)
    (config_map,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    (text,) = config_map["data"].values()
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def dashboard_queries(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]


def variable_queries(board: dict[str, Any]) -> list[str]:
    """The metric of each `label_values(metric, label)` variable query (Grafana, not PromQL)."""
    metrics = []
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((\w+),\s*\w+\)", variable["query"]["query"])
            assert match, variable
            metrics.append(match.group(1))
    return metrics


def test_both_are_off_by_default_and_on_by_their_values() -> None:
    kinds = [d["kind"] for d in render(namespace=NAMESPACE)]
    assert "PrometheusRule" not in kinds
    assert "ConfigMap" not in kinds
    assert rule_groups()
    assert dashboard()["panels"]
    only_rule = render({"metrics": {"prometheusRule": {"enabled": True}}})
    assert [d["kind"] for d in only_rule].count("ConfigMap") == 0


def test_the_rule_alerts_on_what_the_issue_names() -> None:
    alerts = {r["alert"] for g in rule_groups() for r in g["rules"]}
    assert alerts == {
        "AuraOperatorBudgetSaturated",
        "AuraOperatorRateLimited",
        "AuraOperatorInstancesNotCreated",
        "AuraOperatorAuraRequestsFailing",
        "AuraOperatorSweepsFailing",
        "AuraOperatorNoLeader",
        "AuraOperatorAbsent",
        "AuraOperatorLeaderFlapping",
    }
    for group in rule_groups():
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("warning", "critical"), rule
            assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule


def test_every_metric_the_rule_and_the_dashboard_use_is_exported() -> None:
    exported = exported_series()
    assert "aura_operator_leader" in exported
    assert "aura_operator_budget_wait_seconds_bucket" in exported
    used: dict[str, set[str]] = {}
    for group in rule_groups():
        for rule in group["rules"]:
            used[rule["alert"]] = metric_names(rule["expr"])
    board = dashboard()
    for panel in board["panels"]:
        for target in panel["targets"]:
            used[f"panel {panel['title']!r}"] = metric_names(target["expr"])
    used["the namespace variable"] = set(variable_queries(board))
    assert all(used.values()), f"a query that reads no metric: {used}"
    unknown = {where: names - exported for where, names in used.items() if names - exported}
    assert not unknown, f"metrics the operator does not export: {unknown}"


def test_every_query_selects_this_operator() -> None:
    for group in rule_groups():
        for rule in group["rules"]:
            assert rule["expr"].count(f'namespace="{NAMESPACE}"') >= len(
                metric_names(rule["expr"])
            ), rule["expr"]
    for expr in dashboard_queries(dashboard()):
        assert 'namespace="$namespace"' in expr, expr
    custom = render(
        {"metrics": {"prometheusRule": {"enabled": True, "selector": 'job="aura"'}}},
        namespace=NAMESPACE,
    )
    (rule,) = [d for d in custom if d["kind"] == "PrometheusRule"]
    assert all('job="aura"' in r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    result = helm_template({"metrics": {"prometheusRule": {"selector": 'job="aura",'}}})
    assert "at '/metrics/prometheusRule/selector'" in result.stderr


# --- promtool ------------------------------------------------------------------------------------


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool()), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_checks_the_rendered_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule_groups()}))
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout, result.stdout


def test_promtool_parses_the_dashboard_queries(tmp_path: Path) -> None:
    """Each panel query, Grafana's variables substituted, as a recording rule: promtool parses
    them as Prometheus would."""
    rules = []
    for i, expr in enumerate(dashboard_queries(dashboard())):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, expr
        rules.append({"record": f"aura_operator:dashboard_query_{i}", "expr": expr})
    path = tmp_path / "dashboard.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout, result.stdout


def test_promtool_catches_a_broken_expression(tmp_path: Path) -> None:
    groups = rule_groups()
    groups[0]["rules"][0]["expr"] = "sum by (namespace) (rate(aura_operator_leader[5m])"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}))
    result = run_promtool("check", "rules", str(path))
    assert result.returncode != 0, result.stdout


def test_the_alerts_fire_when_they_should(tmp_path: Path) -> None:
    """`promtool test rules` with series shaped like the operator's (tests/install/alerts.yaml).

    The annotations are left out: promtool compares them word for word, and their templates are
    already checked by `promtool check rules` above."""
    groups = rule_groups()
    for group in groups:
        for rule in group["rules"]:
            del rule["annotations"]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    tests = Path(__file__).with_name("alerts.yaml")
    (tmp_path / "alerts.yaml").write_text(tests.read_text(encoding="utf-8"))
    result = run_promtool("test", "rules", str(tmp_path / "alerts.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout, result.stdout


def test_the_dashboard_file_is_the_one_the_chart_ships() -> None:
    shipped = json.loads((CHART / "dashboards" / "aura-operator.json").read_text())
    assert dashboard() == shipped
    assert shipped["uid"] == "aura-operator"
    assert {v["name"] for v in shipped["templating"]["list"]} == {"datasource", "namespace"}
