"""The metrics a user scrapes: requests by route and status, 429s, budget waits, states."""

from __future__ import annotations

from prometheus_client import generate_latest

from aura_operator.aura.ratelimit import Priority
from aura_operator.runtime.metrics import Metrics


def scrape(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_requests_429s_and_waits_are_counted() -> None:
    metrics = Metrics()
    metrics.on_response("GET", "/v1/instances/{id}", 200, 0.01)
    metrics.on_response("GET", "/v1/instances/{id}", 429, 0.01)
    metrics.on_budget_wait(Priority.BACKGROUND, 2.5)
    text = scrape(metrics)
    labels = 'method="GET",route="/v1/instances/{id}",status="200"'
    assert f"aura_operator_aura_requests_total{{{labels}}} 1.0" in text
    assert "aura_operator_aura_rate_limited_total 1.0" in text
    assert 'aura_operator_budget_wait_seconds_count{priority="background"} 1.0' in text


def test_instances_by_state_follow_changes_and_deletions() -> None:
    metrics = Metrics()
    metrics.set_state("a", "creating")
    metrics.set_state("b", "creating")
    metrics.set_state("a", "running")
    text = scrape(metrics)
    assert 'aura_operator_instances{state="creating"} 1.0' in text
    assert 'aura_operator_instances{state="running"} 1.0' in text
    metrics.forget("b")
    assert 'aura_operator_instances{state="creating"} 0.0' in scrape(metrics)
