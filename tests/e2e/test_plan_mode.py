"""Plan mode and --dry-run (issue 20), end to end: the operator process against a real API
server and the Aura simulator, whose request log is the ground truth of what reached Aura.

- `aura-operator.dev/reconcile: plan` on a new object and on a change: 0 mutating requests
  while planned (through several passes), then, once the annotation is removed, exactly the
  planned request, once;
- `aura-operator run --dry-run`: only GETs (and token requests) reach Aura.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.harness.aura_env import BASE_SPEC, FAST_SETTINGS, AuraEnv, condition

pytestmark = pytest.mark.e2e

PLAN = {"aura-operator.dev/reconcile": "plan"}


def mutating(env: AuraEnv, since: float) -> list[str]:
    """Requests since `since` that could change something in Aura (token requests aside)."""
    return [
        f"{r['method']} {r['path']}"
        for r in env.sim_requests_since(since)
        if r["method"] != "GET" and r["path"] != "/oauth/token"
    ]


def reads_after(env: AuraEnv, since: float, path: str) -> int:
    return sum(
        1 for r in env.sim_requests_since(since) if (r["method"], r["path"]) == ("GET", path)
    )


def planned(obj: dict[str, Any]) -> str | None:
    synced = next(
        (c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "Synced"),
        None,
    )
    if synced is None or (synced["status"], synced["reason"]) != ("False", "Planned"):
        return None
    return str(synced["message"])


def test_a_planned_create_sends_nothing_then_exactly_the_plan(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    since = time.time()
    aura_env.apply("orders", {**BASE_SPEC, "memory": "4GB"}, annotations=PLAN)

    obj = aura_env.wait_for("orders", planned, what="Synced=False Planned")
    message = planned(obj)
    assert message is not None
    assert message.startswith("would POST /v1/instances: cloud_provider=gcp, memory=4GB, ")
    assert "(remove the annotation aura-operator.dev/reconcile: plan to send it)" in message
    assert "creation" not in obj["status"]  # no intent without its POST
    assert aura_env.wait_event("orders", "Planned") == message
    # Passes later (the drift interval re-plans, reading again), still nothing was sent.
    shown = time.time()
    aura_env.wait_until(lambda: aura_env.sim_requests_since(shown), what="another planned pass")
    assert mutating(aura_env, since) == []
    assert aura_env.sim_instances() == []

    applying = time.time()
    aura_env.patch("orders", {"metadata": {"annotations": {"aura-operator.dev/reconcile": None}}})
    ready = aura_env.wait_ready("orders")
    assert mutating(aura_env, applying) == ["POST /v1/instances"]
    (instance,) = aura_env.sim_instances()
    assert (instance["id"], instance["memory"]) == (ready["status"]["instanceId"], "4GB")
    applied = aura_env.wait_event("orders", "PlanApplied")
    assert applied.startswith("sent as planned: POST /v1/instances: cloud_provider=gcp, ")


def test_a_planned_change_sends_nothing_then_exactly_the_plan(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders")
    instance_id = aura_env.wait_ready("orders")["status"]["instanceId"]

    since = time.time()
    aura_env.patch("orders", {"metadata": {"annotations": PLAN}, "spec": {"memory": "4GB"}})
    obj = aura_env.wait_for("orders", planned, what="Synced=False Planned")
    expected = f"would PATCH /v1/instances/{instance_id}: memory 2GB → 4GB"
    assert (
        planned(obj)
        == f"{expected} (remove the annotation aura-operator.dev/reconcile: plan to send it)"
    )
    assert condition(obj, "Ready")["status"] == "True"
    shown = time.time()
    path = f"/v1/instances/{instance_id}"
    aura_env.wait_until(lambda: reads_after(aura_env, shown, path), what="a planned re-read")
    assert mutating(aura_env, since) == []
    assert aura_env.sim_instances()[0]["memory"] == "2GB"

    applying = time.time()
    aura_env.patch("orders", {"metadata": {"annotations": {"aura-operator.dev/reconcile": None}}})
    aura_env.wait_until(
        lambda: aura_env.sim_instances()[0]["memory"] == "4GB", what="the planned resize"
    )
    assert aura_env.wait_event("orders", "PlanApplied") == (
        f"sent as planned: PATCH {path}: memory 2GB → 4GB"
    )
    aura_env.wait_for(
        "orders",
        lambda o: (
            condition(o, "Synced")["reason"] == "ReconcileSuccess"
            and o["status"].get("memory") == "4GB"
        ),
        what="the resize applied",
    )
    assert mutating(aura_env, applying) == [f"PATCH {path}"]


def test_dry_run_sends_only_gets(aura_env: AuraEnv) -> None:
    since = time.time()
    aura_env.operator = aura_env.start_operator(
        aura_env.kubeconfig, aura_env.simulator.base_url, env=FAST_SETTINGS, args=("--dry-run",)
    )
    aura_env.apply("orders")
    aura_env.apply("billing", {**BASE_SPEC, "memory": "4GB"})
    for name in ("orders", "billing"):
        shown = planned(aura_env.wait_for(name, planned, what="Synced=False Planned"))
        assert shown is not None and shown.startswith("would POST /v1/instances: ")
        assert shown.endswith("(the operator runs with --dry-run)")
    # A deleted object that never reached Aura goes without a request either.
    aura_env.delete("billing")
    aura_env.wait_gone("billing")
    shown = time.time()
    aura_env.wait_until(lambda: len(aura_env.sim_requests_since(shown)) >= 2, what="more reads")
    assert mutating(aura_env, since) == []
    assert aura_env.sim_instances() == []
    assert "dry run: only GETs are sent" in aura_env.operator_log()
