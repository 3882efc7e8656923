"""The classifier's specification: one row per exception a pass can meet (classify.py).

Each row says what a user sees (the Synced reason and words of the message) and what the
operator does next (terminal or not, the floor of the next attempt, whether it counts for the
object's backoff, a Warning event, and whether it tries again without a change to the object).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import pytest
from pydantic import BaseModel, ValidationError

from aura_operator.aura import (
    AuraBadRequest,
    AuraConflict,
    AuraForbidden,
    AuraNotFound,
    AuraNotPermitted,
    AuraOutcomeUnknown,
    AuraPaymentRequired,
    AuraRateLimited,
    AuraServerError,
    AuraTokenError,
    AuraTransportError,
    AuraUnauthorized,
    AuraUnexpectedResponse,
    AuraUnsupportedForTier,
)
from aura_operator.kube.api import KubeConflict, KubeError
from aura_operator.runtime.classify import DEFAULT_THROTTLE, classify
from aura_operator.runtime.conditions import TERMINAL_SYNCED_REASONS, SyncedReason
from aura_operator.runtime.credentials import CredentialsProblem


class _Model(BaseModel):
    count: int


def _validation_error() -> ValidationError:
    try:
        _Model.model_validate({"count": "many"})
    except ValidationError as exc:
        return exc
    raise AssertionError("the model accepted bad data")


@dataclass(frozen=True)
class Row:
    exc: BaseException
    reason: str
    says: str
    terminal: bool = False
    retry_after: float | None = None
    backoff: bool = True
    event: bool = False
    requeue: bool = True


CREDENTIALS = SyncedReason.CREDENTIALS_INVALID
ERROR = SyncedReason.ERROR
INVALID = SyncedReason.INVALID_SPEC


class Where(TypedDict):
    method: str
    path: str


TOKEN = Where(method="POST", path="/oauth/token")
GET = Where(method="GET", path="/v1/instances/abc")

TABLE: dict[str, Row] = {
    "credential secret missing": Row(
        CredentialsProblem("credentials Secret ns/aura not found"),
        CREDENTIALS,
        "ns/aura not found",
        terminal=True,
        event=True,
    ),
    "token refused (401)": Row(
        AuraTokenError("token request refused: wrong secret", status=401, **TOKEN),
        CREDENTIALS,
        "Aura refused the credential: token request refused",
        terminal=True,
        event=True,
    ),
    "token refused (400)": Row(
        AuraTokenError("token request refused: invalid_client", status=400, **TOKEN),
        CREDENTIALS,
        "Aura refused the credential",
        terminal=True,
        event=True,
    ),
    "401 after a fresh token": Row(
        AuraUnauthorized("unauthorized", status=401, **GET),
        CREDENTIALS,
        "Aura refused the credential: unauthorized",
        terminal=True,
        event=True,
    ),
    "403 after a fresh token": Row(
        AuraForbidden("forbidden", status=403, **GET),
        CREDENTIALS,
        "Aura refused the credential: forbidden",
        terminal=True,
        event=True,
    ),
    "token endpoint unreachable": Row(
        AuraTransportError(
            "token endpoint unreachable (connection error)", retry_after=2.0, **TOKEN
        ),
        ERROR,
        "token endpoint unreachable",
        retry_after=2.0,
    ),
    "token endpoint 503": Row(
        AuraServerError("token request: HTTP 503", status=503, retry_after=1.0, **TOKEN),
        ERROR,
        "HTTP 503",
        retry_after=1.0,
    ),
    "429 with Retry-After": Row(
        AuraRateLimited("too many requests", status=429, retry_after=12.0, **GET),
        SyncedReason.THROTTLED,
        "waiting 12s",
        retry_after=12.0,
        backoff=False,
    ),
    "429 without Retry-After": Row(
        AuraRateLimited("too many requests", status=429, **GET),
        SyncedReason.THROTTLED,
        f"waiting {DEFAULT_THROTTLE:.0f}s",
        retry_after=DEFAULT_THROTTLE,
        backoff=False,
    ),
    "400 naming fields": Row(
        AuraBadRequest("bad memory", status=400, fields=("memory", "cloud_provider")),
        INVALID,
        "(spec.memory, spec.cloudProvider): bad memory",
        terminal=True,
        event=True,
        requeue=False,
    ),
    "402 billing needed": Row(
        AuraPaymentRequired("billing required", status=402),
        INVALID,
        "billing required",
        terminal=True,
        event=True,
        requeue=False,
    ),
    "420 not for this tier": Row(
        AuraUnsupportedForTier("unsupported for tier", status=420),
        INVALID,
        "unsupported for tier",
        terminal=True,
        event=True,
        requeue=False,
    ),
    "405 instance limit": Row(
        AuraNotPermitted("maximum of 50 instances", status=405),
        ERROR,
        "does not permit this now: maximum of 50 instances",
        event=True,
    ),
    "409 busy": Row(AuraConflict("ongoing operation", status=409, **GET), ERROR, "ongoing"),
    "404": Row(AuraNotFound("db-not-found", status=404, **GET), ERROR, "db-not-found"),
    "5xx after retries": Row(
        AuraServerError("HTTP 502", status=502, retry_after=4.0, **GET),
        ERROR,
        "HTTP 502",
        retry_after=4.0,
    ),
    "network after retries": Row(
        AuraTransportError("timeout after 4 attempts", retry_after=3.0, **GET),
        ERROR,
        "timeout after 4 attempts",
        retry_after=3.0,
    ),
    "POST outcome unknown": Row(
        AuraOutcomeUnknown("HTTP 502; not resent", method="POST", path="/v1/instances"),
        ERROR,
        "not resent",
    ),
    "undocumented answer": Row(
        AuraUnexpectedResponse("unexpected response: empty body", status=200, **GET),
        ERROR,
        "empty body",
    ),
    "object changed (409)": Row(
        KubeConflict("409 Conflict", 409),
        ERROR,
        "the object changed",
        retry_after=0.0,
        backoff=False,
    ),
    "API server down": Row(
        KubeError("API server unreachable (MaxRetryError)"), ERROR, "Kubernetes API: API server"
    ),
    "API server 403": Row(KubeError("403 Forbidden", 403), ERROR, "Kubernetes API: 403"),
    "unreadable data": Row(_validation_error(), ERROR, "1 validation errors in _Model"),
    "a bug": Row(RuntimeError("boom"), ERROR, "unexpected error: RuntimeError: boom"),
}


@pytest.mark.parametrize("row", TABLE.values(), ids=TABLE.keys())
def test_classify(row: Row) -> None:
    verdict = classify(row.exc)
    assert verdict.reason == row.reason
    assert row.says in verdict.message
    assert (
        verdict.terminal,
        verdict.retry_after,
        verdict.backoff,
        verdict.event,
        verdict.requeue,
    ) == (row.terminal, row.retry_after, row.backoff, row.event, row.requeue)


def test_terminal_verdicts_are_exactly_the_terminal_reasons() -> None:
    """Argo CD's health check reads the reason: Degraded must mean what classify says."""
    for row in TABLE.values():
        assert row.terminal == (row.reason in TERMINAL_SYNCED_REASONS), row


def test_only_a_refused_credential_is_credentials_invalid() -> None:
    """A network error or a 5xx on the token endpoint says nothing about the credential."""
    for name, row in TABLE.items():
        if row.reason == CREDENTIALS:
            assert isinstance(
                row.exc, CredentialsProblem | AuraTokenError | AuraUnauthorized | AuraForbidden
            ), name
            status = getattr(row.exc, "status", None)
            assert status is None or status < 500, name
