"""The ScrapeConfig an AuraInstance asks for (its own, the chart-wide default, opted out) and
the body built from Aura's metrics URL; and the uptime decisions of a pass (pause_schedule)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aura_operator.kinds.instance import pause_schedule
from aura_operator.kinds.instance.model import AuraInstance
from aura_operator.kinds.instance.scrape_config import build, wanted
from aura_operator.runtime.model import SpecProblem
from aura_operator.runtime.settings import Settings

URL = "https://customer-metrics-api.neo4j.io/api/v1/tenant-1/abcd1234/metrics"


def instance(spec: dict[str, Any], status: dict[str, Any] | None = None) -> AuraInstance:
    meta = {"name": "orders", "namespace": "shop", "uid": "u-1", "generation": 1}
    return AuraInstance.from_body({"metadata": meta, "spec": spec, "status": status or {}})


def test_own_default_and_opt_out() -> None:
    plain, default = Settings(), Settings(scrape_config_secret="reader")
    assert wanted(instance({}), plain) is None
    from_default = wanted(instance({}), default)
    assert from_default is not None and from_default.secret_name == "reader"
    own = wanted(instance({"metrics": {"scrapeConfig": {"secretName": "mine"}}}), default)
    assert own is not None and own.secret_name == "mine"
    no_name = instance({"metrics": {"scrapeConfig": {"scrapeInterval": "2m"}}})
    filled = wanted(no_name, default)
    assert filled is not None and (filled.secret_name, filled.scrape_interval) == ("reader", "2m")
    off = instance({"metrics": {"scrapeConfig": {"enabled": False}}})
    assert wanted(off, default) is None


def test_the_body_follows_the_url() -> None:
    spec = wanted(instance({"metrics": {"scrapeConfig": {"secretName": "r"}}}), Settings())
    assert spec is not None
    body = build(instance({}), spec, URL, "https://api.neo4j.io/oauth/token")
    assert body["spec"]["metricsPath"] == "/api/v1/tenant-1/abcd1234/metrics"
    assert body["spec"]["staticConfigs"][0]["targets"] == ["customer-metrics-api.neo4j.io"]
    assert body["spec"]["scheme"] == "HTTPS"
    assert body["metadata"]["ownerReferences"][0]["uid"] == "u-1"


def test_a_transition_is_due_once_its_recorded_time_has_come() -> None:
    status = {"uptime": {"nextTransition": "2026-03-27T19:30:00Z", "nextAction": "Pause"}}
    obj = instance({"uptime": "Mon-Fri 07:30-20:30 Europe/Berlin"}, status)
    before = pause_schedule.wanted(obj, datetime(2026, 3, 27, 19, 29, tzinfo=UTC))
    after = pause_schedule.wanted(obj, datetime(2026, 3, 27, 19, 31, tzinfo=UTC))
    assert (before.paused, before.due) == (False, False)
    assert (after.paused, after.due) == (True, True)
    paused = instance({"uptime": "Mon-Fri 07:30-20:30 Europe/Berlin", "paused": True}, status)
    assert pause_schedule.wanted(paused, datetime(2026, 3, 27, 10, tzinfo=UTC)).paused


def test_a_bad_schedule_is_a_spec_problem_naming_the_field() -> None:
    problem = pause_schedule.schedule_of(instance({"uptime": "weekdays"}))
    assert isinstance(problem, SpecProblem) and problem.field == "spec.uptime"
    assert pause_schedule.wake_within(instance({"uptime": "weekdays"}), datetime.now(UTC)) is None
    assert pause_schedule.status(instance({}), datetime.now(UTC)) == {"uptime": None}
