"""The client's reading of session bodies: TTLs as Go durations or seconds, empty ids of a
standalone session, the statuses, and the differences a 409's message lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aura_operator.aura import GdsSession, SessionStatus
from aura_operator.aura.client import route_of
from aura_operator.aura.sessions import format_duration, parse_differences, parse_duration


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8m", timedelta(minutes=8)),
        ("20m0s", timedelta(minutes=20)),
        ("1h0m0s", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("250ms", timedelta(milliseconds=250)),
        (480, timedelta(minutes=8)),
        (None, None),
        ("", None),
        ("soon", None),
        ("8 minutes", None),
        (True, None),
    ],
)
def test_ttls_are_read_as_aura_writes_them(value: object, expected: timedelta | None) -> None:
    assert parse_duration(value) == expected


def test_ttls_are_written_as_aura_reads_them() -> None:
    assert format_duration(timedelta(hours=1)) == "1h0m0s"
    assert format_duration(timedelta(minutes=30)) == "30m0s"
    assert format_duration(timedelta(seconds=45)) == "45s"
    with pytest.raises(ValueError, match="longer than 0s"):
        format_duration(timedelta(0))


def test_a_standalone_session_from_the_specs_example() -> None:
    session = GdsSession.model_validate(
        {
            "id": "s-04de43fe-67ab-4",
            "name": "people-and-fruit",
            "memory": "8GB",
            "instance_id": None,
            "database_uuid": "",
            "status": "Ready",
            "created_at": "2025-04-04T09:32:35Z",
            "host": "s-04de43fe-67ab-4-gds.orchestra.neo4j.io",
            "expiry_date": "2025-04-11T09:32:35Z",
            "ttl": "20m0s",
            "user_id": "u",
            "tenant_id": "t",
            "cloud_provider": "azure",
            "region": "francecentral",
            "something_new": 1,
        }
    )
    assert not session.attached and session.database_uuid is None
    assert session.status == SessionStatus.READY and session.ttl == timedelta(minutes=20)
    assert session.expiry_date is not None and session.created_at is not None
    assert session.expiry_date - session.created_at == timedelta(days=7)
    creating = GdsSession.model_validate({"id": "x", "status": None, "expiry_date": None})
    assert creating.status is None and creating.ttl is None


def test_the_differences_of_a_conflict() -> None:
    message = (
        "session `people` already exists for project `<ID>` with different parameters: "
        "Memory (is: 8GB, requested: 4GB), TTL (is: 1h0m0s, requested: 30m0s)"
    )
    assert parse_differences(message) == (("Memory", "8GB", "4GB"), ("TTL", "1h0m0s", "30m0s"))
    assert parse_differences("something else") == ()


def test_session_ids_do_not_become_metric_labels() -> None:
    assert route_of("/v1/graph-analytics/sessions/s-04de43fe-67ab-4") == (
        "/v1/graph-analytics/sessions/{id}"
    )
    assert route_of("/v1/graph-analytics/sessions/sizing") == "/v1/graph-analytics/sessions/sizing"
    assert route_of("/v1/graph-analytics/sessions") == "/v1/graph-analytics/sessions"
    assert route_of("/v1/tenants/t/metrics-integration") == "/v1/tenants/{id}/metrics-integration"
