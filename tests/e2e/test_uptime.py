"""spec.uptime with the real operator process: the instance is paused when its uptime range ends
and resumed when the next begins, each at its time, woken by the transition itself (the drift
interval is an hour here, so nothing else would read the instance in time).

Absolute ranges (ISO 8601, to the second) make the transitions come within seconds; the
recurring weekly ranges and daylight-saving changes are the fake clock's job
(tests/inprocess/test_uptime.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.harness.aura_env import BASE_SPEC, AuraEnv, condition

pytestmark = pytest.mark.e2e


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def posts(env: AuraEnv, path: str) -> list[float]:
    """When the operator sent POST `path` (epoch seconds)."""
    return [r["time"] for r in env.sim_requests() if r["method"] == "POST" and r["path"] == path]


def test_the_instance_is_paused_and_resumed_at_the_schedules_transitions(
    aura_env: AuraEnv,
) -> None:
    aura_env.run_operator(AURA_OPERATOR_DRIFT_INTERVAL="3600")
    now = datetime.now(UTC).replace(microsecond=0)
    pause_at, resume_at = now + timedelta(seconds=25), now + timedelta(seconds=40)
    first = f"{iso(now - timedelta(hours=1))}-{iso(pause_at)}"
    uptime = f"{first}, {iso(resume_at)}-{iso(now + timedelta(days=1))}"
    aura_env.apply("orders", {**BASE_SPEC, "uptime": uptime})

    obj = aura_env.wait_for(
        "orders",
        lambda o: (
            condition(o, "Ready").get("reason") == "Available"
            and (o["status"].get("uptime") or {}).get("nextAction") == "Pause"
        ),
        what="running, the next transition a pause",
        timeout=20,
    )
    assert obj["status"]["uptime"]["nextTransition"] == pause_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    instance_id = obj["status"]["instanceId"]

    obj = aura_env.wait_for(
        "orders",
        lambda o: o["status"].get("state") == "paused",
        what="paused by the schedule",
        timeout=45,
    )
    assert obj["status"]["uptime"] == {
        "nextTransition": resume_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nextAction": "Resume",
    }
    (paused,) = posts(aura_env, f"/v1/instances/{instance_id}/pause")
    assert pause_at.timestamp() <= paused < pause_at.timestamp() + 10

    aura_env.wait_for(
        "orders",
        lambda o: (
            o["status"].get("state") == "running"
            and condition(o, "Ready").get("reason") == "Available"
        ),
        what="resumed by the schedule",
        timeout=45,
    )
    (resumed,) = posts(aura_env, f"/v1/instances/{instance_id}/resume")
    assert resume_at.timestamp() <= resumed < resume_at.timestamp() + 10
    reasons = [reason for _, reason, _ in aura_env.events("orders")]
    assert "Pausing" in reasons and "Resuming" in reasons
    assert "DriftDetected" not in reasons  # the schedule's own transitions
