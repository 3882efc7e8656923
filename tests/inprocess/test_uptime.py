"""spec.uptime through the production controller: pauses and resumes at the right local times
across a daylight-saving change (fake clock), `paused: true` winning, Aura's own resume after
30 days paused undone with an event, and an unparsable schedule sending nothing.

The operator's `now` is the harness's fake clock, set to the Friday before Europe's 2026 change
to summer time (Sunday 29 March, 02:00 CET -> 03:00 CEST): "Mon-Fri 07:30-20:30 Europe/Berlin"
pauses on Friday at 19:30 UTC and resumes on Monday at 05:30 UTC, not 06:30.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime

from tests.clock import FakeClock
from tests.inprocess.harness import Harness

SCHEDULE = "Mon-Fri 07:30-20:30 Europe/Berlin"
FRIDAY_EVENING = datetime(2026, 3, 27, 19, 0, tzinfo=UTC)  # 20:00 CET


def at(h: Harness, wall: datetime) -> None:
    """The operator's clock reads `wall` from now on."""
    h.clock = FakeClock(time.monotonic(), wall=wall)


async def settled(h: Harness, name: str, state: str) -> None:
    instance_id = h.obj(name)["status"]["instanceId"]
    await h.until(lambda: h.sim_status(instance_id) == state, what=f"{name} {state}")


async def test_pauses_and_resumes_at_local_times_across_the_change_to_summer_time(
    h: Harness,
) -> None:
    at(h, FRIDAY_EVENING)
    h.apply("orders", uptime=SCHEDULE)
    running = await h.settle("orders")
    instance_id = running.status["instanceId"]
    assert running.status["uptime"] == {
        "nextTransition": "2026-03-27T19:30:00Z",
        "nextAction": "Pause",
    }
    # The object is woken at the transition (not polled): the loop waits no longer than that.
    assert running.delay is not None and running.delay <= 30 * 60 + 1
    h.sim.requests.clear()

    at(h, datetime(2026, 3, 27, 19, 30, 1, tzinfo=UTC))  # 20:30:01 CET
    pausing = await h.run_pass("orders", background=True)  # the timer's pass
    assert h.changes() == [f"POST /v1/instances/{instance_id}/pause 202"]
    assert "DriftDetected" not in pausing.reasons()  # the schedule's own transition
    assert any("spec.uptime" in m for _, r, m in pausing.events if r == "Pausing")
    # Monday 07:30 CEST is 05:30 UTC: the clocks went forward on Sunday.
    assert pausing.status["uptime"] == {
        "nextTransition": "2026-03-30T05:30:00Z",
        "nextAction": "Resume",
    }
    monday = datetime(2026, 3, 30, 5, 30, tzinfo=UTC)
    assert pausing.outcome.wake_within == (monday - h.clock.now()).total_seconds() + 1

    await settled(h, "orders", "paused")
    at(h, datetime(2026, 3, 30, 5, 29, 59, tzinfo=UTC))  # 07:29:59 CEST: still paused
    waiting = await h.run_pass("orders", background=True)
    assert waiting.condition("Synced")["message"].startswith("the instance is paused as")
    assert waiting.status["state"] == "paused"

    at(h, datetime(2026, 3, 30, 5, 30, 1, tzinfo=UTC))
    resuming = await h.run_pass("orders", background=True)
    assert h.changes() == [
        f"POST /v1/instances/{instance_id}/pause 202",
        f"POST /v1/instances/{instance_id}/resume 202",
    ]
    assert "DriftDetected" not in resuming.reasons()
    assert resuming.status["uptime"] == {
        "nextTransition": "2026-03-30T18:30:00Z",  # 20:30 CEST
        "nextAction": "Pause",
    }
    await settled(h, "orders", "running")
    calm = await h.settle("orders")
    assert calm.condition("Synced")["message"] == "the instance matches the spec"
    assert len(h.changes()) == 2


async def test_paused_true_wins_over_the_schedule(h: Harness) -> None:
    at(h, datetime(2026, 3, 25, 10, 0, tzinfo=UTC))  # Wednesday 11:00 CET: inside the range
    h.apply("orders", uptime=SCHEDULE)
    instance_id = (await h.settle("orders")).status["instanceId"]
    h.sim.requests.clear()
    h.kube.edit_object("aurainstances", "team-a", "orders", spec={"paused": True})
    paused = await h.run_pass("orders")
    assert h.changes() == [f"POST /v1/instances/{instance_id}/pause 202"]
    assert any("spec.paused" in m for _, r, m in paused.events if r == "Pausing")


async def test_an_instance_aura_resumed_by_itself_is_paused_again_with_an_event(
    h: Harness,
) -> None:
    at(h, datetime(2026, 3, 28, 10, 0, tzinfo=UTC))  # Saturday: outside every range
    h.apply("orders", uptime=SCHEDULE)
    for _ in range(20):  # created, then paused at once: the schedule says paused
        result = await h.run_pass("orders")
        if result.status.get("state") == "paused":
            break
        if result.status.get("state"):
            await settled(
                h, "orders", "paused" if result.status["state"] == "pausing" else "running"
            )
    assert result.condition("Synced")["message"].startswith("the instance is paused as spec.uptime")
    instance_id = result.status["instanceId"]
    assert [c.split()[1] for c in h.changes()] == [
        "/v1/instances",
        f"/v1/instances/{instance_id}/pause",
    ]
    h.sim.requests.clear()

    h.sim.console(instance_id, "resume")  # Aura resumes it after 30 days paused
    await settled(h, "orders", "running")
    repaused = await h.run_pass("orders", background=True)
    assert "ResumedOutside" in repaused.reasons()
    message = next(m for _, r, m in repaused.events if r == "ResumedOutside")
    assert "30 days" in message and "spec.uptime" in message
    assert h.changes() == [f"POST /v1/instances/{instance_id}/pause 202"]


async def test_an_unparsable_schedule_is_invalid_spec_and_sends_nothing(h: Harness) -> None:
    h.apply("orders", uptime="Mon-Fri 22:00-06:00 Europe/Berlin")
    result = await h.run_pass("orders")
    synced = result.condition("Synced")
    assert synced["reason"] == "InvalidSpec"
    assert synced["message"].startswith("spec.uptime:")
    assert "Mon-Fri 22:00-24:00 Europe/Berlin, Tue-Sat 00:00-06:00" in synced["message"]
    assert h.requests() == []


async def test_removing_the_schedule_removes_its_status_and_wake_up(h: Harness) -> None:
    at(h, FRIDAY_EVENING)
    h.apply("orders", uptime=SCHEDULE)
    assert "uptime" in (await h.settle("orders")).status
    h.kube.edit_object("aurainstances", "team-a", "orders", spec={"uptime": None})
    plain = await h.run_pass("orders")
    assert "uptime" not in plain.status
    assert plain.outcome.wake_within is None


async def test_the_read_at_a_due_transition_waits_for_nothing_but_changes(h: Harness) -> None:
    at(h, FRIDAY_EVENING)
    h.apply("orders", uptime=SCHEDULE)
    await h.settle("orders")
    at(h, datetime(2026, 3, 27, 19, 30, 1, tzinfo=UTC))
    waits: list[str] = []
    observer = h.ctx.metrics
    original = observer.on_budget_wait

    def record(priority: object, seconds: float) -> None:
        waits.append(getattr(priority, "name", str(priority)))
        original(priority, seconds)  # type: ignore[arg-type]

    observer.on_budget_wait = record  # type: ignore[method-assign]
    await h.run_pass("orders", background=True)
    assert waits and set(waits) == {"CHANGE"}
    instance_id = h.obj("orders")["status"]["instanceId"]
    await h.until(functools.partial(h._settled, instance_id), what="the pause")


async def test_a_transition_that_finds_the_instance_busy_is_made_once_it_is_free(
    h: Harness,
) -> None:
    at(h, FRIDAY_EVENING)
    h.apply("orders", uptime=SCHEDULE)
    instance_id = (await h.settle("orders")).status["instanceId"]
    h.sim.requests.clear()
    h.sim.force_status(instance_id, "updating", then="running", after=1000.0)  # 1 s here

    at(h, datetime(2026, 3, 27, 19, 30, 1, tzinfo=UTC))
    busy = await h.run_pass("orders", background=True)
    assert h.changes() == []  # Aura is busy: the pause waits
    assert busy.status["uptime"]["nextTransition"] == "2026-03-27T19:30:00Z"  # still due

    await settled(h, "orders", "running")
    pausing = await h.run_pass("orders")
    assert h.changes() == [f"POST /v1/instances/{instance_id}/pause 202"]
    assert "DriftDetected" not in pausing.reasons()
    assert pausing.status["uptime"]["nextAction"] == "Resume"
