"""The one status-to-class map, and what an error tells its reader."""

from __future__ import annotations

import pytest

from aura_operator.aura import errors as e


@pytest.mark.parametrize(
    ("status", "reason", "cls"),
    [
        (400, None, e.AuraBadRequest),
        (401, None, e.AuraUnauthorized),
        (402, None, e.AuraPaymentRequired),
        (403, None, e.AuraForbidden),
        (404, "db-not-found", e.AuraNotFound),
        (404, "tenant-not-found", e.AuraNotFound),
        (404, None, e.AuraNotFound),
        (405, None, e.AuraNotPermitted),
        (409, "ongoing-database-operation", e.AuraConflict),
        (400, "ongoing-database-operation", e.AuraConflict),  # the reason wins
        (415, None, e.AuraUnsupportedMediaType),
        (420, None, e.AuraUnsupportedForTier),
        (429, None, e.AuraRateLimited),
        (500, None, e.AuraServerError),
        (503, None, e.AuraServerError),
        (599, None, e.AuraServerError),
        (308, None, e.AuraUnexpectedResponse),
        (418, None, e.AuraUnexpectedResponse),
        (400, "some-future-reason", e.AuraBadRequest),
    ],
)
def test_error_class(status: int, reason: str | None, cls: type[e.AuraError]) -> None:
    assert e.error_class(status, reason) is cls


def test_standard_error_body_gives_reason_messages_and_fields() -> None:
    body = {
        "errors": [
            {"message": "Invalid memory", "reason": "invalid-request", "field": "memory"},
            {"message": "Invalid region", "reason": "invalid-request", "field": "region"},
        ]
    }
    error = e.error_from_response(
        method="POST",
        path="/v1/instances",
        status=400,
        body=body,
        request_id="abc/123",
        retry_after=None,
    )
    assert isinstance(error, e.AuraBadRequest)
    assert error.fields == ("memory", "region")
    assert error.reason == "invalid-request"
    assert error.messages == ("Invalid memory", "Invalid region")
    text = str(error)
    assert "POST /v1/instances" in text
    assert "status=400" in text
    assert "fields=memory,region" in text
    assert "request_id=abc/123" in text


@pytest.mark.parametrize(
    "body",
    [None, "not json", [], {"errors": "nope"}, {"errors": [None, 3]}, {"unexpected": 1}],
)
def test_odd_bodies_never_crash(body: object) -> None:
    error = e.error_from_response(
        method="GET", path="/v1/x", status=502, body=body, request_id=None, retry_after=None
    )
    assert isinstance(error, e.AuraServerError)
    assert "HTTP 502" in str(error)


def test_gateway_error_shape() -> None:
    error = e.error_from_response(
        method="GET",
        path="/v1/tenants",
        status=429,
        body={"error": "Too Many Requests"},
        request_id=None,
        retry_after=5.0,
    )
    assert isinstance(error, e.AuraRateLimited)
    assert error.messages == ("Too Many Requests",)
    assert error.retry_after == 5.0
    assert error.transient


def test_conflict_is_transient_and_bad_request_is_not() -> None:
    assert e.AuraConflict("x").transient
    assert e.AuraOutcomeUnknown("x").transient
    assert not e.AuraBadRequest("x").transient
