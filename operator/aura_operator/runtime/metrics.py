"""Prometheus metrics: what the operator asks of Aura, how long it waits, what it manages.

One `Metrics` object per process (kept in the context), registered in its own registry so that
tests can build as many as they like. It is also the Aura client's `RequestObserver`.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from aura_operator.aura.ratelimit import Priority

logger = logging.getLogger(__name__)

_WAIT_BUCKETS = (0.0, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
_READY_BUCKETS = (10.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "aura_operator_aura_requests_total",
            "Requests sent to the Aura API, by method, route and HTTP status (0: no answer).",
            ["method", "route", "status"],
            registry=r,
        )
        self.rate_limited = Counter(
            "aura_operator_aura_rate_limited_total",
            "429 answers received from the Aura API.",
            registry=r,
        )
        self.budget_wait = Histogram(
            "aura_operator_budget_wait_seconds",
            "Time a request waited for its credential's request budget, by priority.",
            ["priority"],
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.instances = Gauge(
            "aura_operator_instances",
            "AuraInstances by Aura status ('none' before an instance exists).",
            ["state"],
            registry=r,
        )
        self.time_to_ready = Histogram(
            "aura_operator_time_to_ready_seconds",
            "Time from the create request to the instance first being Ready.",
            buckets=_READY_BUCKETS,
            registry=r,
        )
        self.drift_interval = Gauge(
            "aura_operator_drift_interval_seconds",
            "Current interval between drift reads of settled instances (stretched to fit the "
            "drift share of the budget), by credential (its client id; never the secret).",
            ["credential"],
            registry=r,
        )
        self.sweeps = Counter(
            "aura_operator_sweeps_total",
            "List sweeps (one GET /v1/instances watching every instance of a credential), by "
            "credential (its client id) and result (ok, error).",
            ["credential", "result"],
            registry=r,
        )
        self.sweep_wakes = Counter(
            "aura_operator_sweep_wakes_total",
            "Objects a list sweep woke, by reason (missing: the instance left the list; "
            "renamed: its name differs from the spec).",
            ["reason"],
            registry=r,
        )
        self.leader = Gauge(
            "aura_operator_leader",
            "1 while this process holds the leader-election Lease (and acts), else 0.",
            registry=r,
        )
        self._states: dict[str, str] = {}
        self._published: set[str] = set()

    # RequestObserver
    def on_response(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        if status == 429:
            self.rate_limited.inc()

    def on_budget_wait(self, priority: Priority, seconds: float) -> None:
        self.budget_wait.labels(priority.name.lower()).observe(seconds)

    def set_state(self, uid: str, state: str | None) -> None:
        self._states[uid] = state or "none"
        self._publish()

    def forget(self, uid: str) -> None:
        if self._states.pop(uid, None) is not None:
            self._publish()

    def _publish(self) -> None:
        tally = Tally(self._states.values())
        self._published |= set(tally)
        for state in self._published:
            self.instances.labels(state).set(tally.get(state, 0))

    def serve(self, port: int) -> None:
        """Expose /metrics on `port` (0: off). A port in use is logged, not fatal."""
        if port <= 0:
            return
        try:
            start_http_server(port, registry=self.registry)
        except OSError as exc:
            logger.warning("metrics endpoint on port %d not started: %s", port, exc)
        else:
            logger.info("metrics on http://0.0.0.0:%d/metrics", port)
