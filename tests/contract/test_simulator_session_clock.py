"""When a simulated session expires, on a clock the test moves: Creating until
`durations.session_creating`, then Ready until it has been idle for its TTL or has lived Aura's
7 days, whichever comes first; activity starts the TTL again; the time scale divides all of it.
In-process on `SimState` (the same object the routes call), so the instants are exact."""

from __future__ import annotations

from typing import Any

import pytest

from aura_simulator import DEMO_TENANT_ID, SimulatorConfig
from aura_simulator.state import SimState

DAY = 24 * 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "people",
        "memory": "8GB",
        "tenant_id": DEMO_TENANT_ID,
        "cloud_provider": "aws",
        "region": "eu-west-1",
        **overrides,
    }


def account(time_scale: float = 1.0) -> tuple[SimState, Clock]:
    clock = Clock()
    return SimState(SimulatorConfig(), time_scale=time_scale, clock=clock), clock


def test_ready_after_creating_then_expired_after_the_ttl() -> None:
    state, clock = account()
    session, created = state.get_or_create_session(body(ttl="30m"), None, "u")
    assert created
    start = clock.now
    clock.now = start + 59.9
    assert state.session_status(session) == "Creating"
    clock.now = start + 60
    assert state.session_status(session) == "Ready"
    clock.now = start + 60 + 1800 - 0.1
    assert state.session_status(session) == "Ready"
    clock.now = start + 60 + 1800
    assert state.session_status(session) == "Expired"


def test_activity_starts_the_ttl_again() -> None:
    state, clock = account()
    session, _ = state.get_or_create_session(body(ttl="30m"), None, "u")
    start = clock.now
    clock.now = start + 60 + 1700
    state.session_activity(session.id)
    clock.now = start + 60 + 1800 + 100
    assert state.session_status(session) == "Ready"
    clock.now = start + 60 + 1700 + 1800
    assert state.session_status(session) == "Expired"


def test_seven_days_is_the_most_a_session_lives() -> None:
    state, clock = account()
    session, _ = state.get_or_create_session(body(ttl="200h"), None, "u")
    start = clock.now
    for day in range(1, 7):
        clock.now = start + day * DAY
        state.session_activity(session.id)
        assert state.session_status(session) == "Ready"
    clock.now = start + 7 * DAY
    assert state.session_status(session) == "Expired"
    view = state.session_view(session)
    assert view["expiry_date"] == "2027-01-22T08:00:00Z"  # created_at + 7 days
    assert view["created_at"] == "2027-01-15T08:00:00Z"


@pytest.mark.parametrize("scale", [10.0, 1000.0])
def test_the_time_scale_divides_creating_ttl_and_lifetime(scale: float) -> None:
    state, clock = account(scale)
    session, _ = state.get_or_create_session(body(), None, "u")  # the default TTL, 1 h
    start = clock.now
    clock.now = start + 60 / scale
    assert state.session_status(session) == "Ready"
    clock.now = start + (60 + 3600) / scale
    assert state.session_status(session) == "Expired"
    assert state.session_view(session)["ttl"] == "1h0m0s"  # the API value is not scaled


def test_ttl_durations_are_read_as_go_writes_them() -> None:
    state, _ = account()
    for ttl, shown in (
        ("45s", "45s"),
        ("90m", "1h30m0s"),
        ("1h30m", "1h30m0s"),
        ("1.5h", "1h30m0s"),
    ):
        session, _ = state.get_or_create_session(body(name=ttl, ttl=ttl), None, "u")
        assert session.parameters()["TTL"] == shown
