"""The client's retry policy, as a table: one row per situation a request can meet."""

from __future__ import annotations

import random

import pytest

from aura_operator.aura.retry import RetryDecision, decide

# (status, retry_safe, attempt, retry_after) -> (retry, hold, outcome_unknown)
CASES = [
    # network errors: transient everywhere; a change is never resent
    pytest.param(None, True, 0, None, (True, None, False), id="GET network error retried"),
    pytest.param(None, True, 3, None, (False, None, False), id="GET network error, retries out"),
    pytest.param(None, False, 0, None, (False, None, True), id="POST network error unknown"),
    # 5xx
    pytest.param(503, True, 0, None, (True, None, False), id="GET 503 retried"),
    pytest.param(503, True, 0, 2.0, (True, 2.0, False), id="GET 503 Retry-After holds"),
    pytest.param(503, True, 0, 60.0, (False, 60.0, False), id="GET 503 long Retry-After requeues"),
    pytest.param(502, False, 0, None, (False, None, True), id="POST 502 unknown"),
    pytest.param(501, True, 0, None, (False, None, False), id="501 is final"),
    # 429: the credential is held; reads are resent inline when the wait is short
    pytest.param(429, True, 0, 1.0, (True, 1.0, False), id="GET 429 short"),
    pytest.param(429, True, 0, 30.0, (False, 30.0, False), id="GET 429 long requeues"),
    pytest.param(429, False, 0, 1.0, (False, 1.0, False), id="POST 429 not resent inline"),
    # other statuses are answers, not faults
    pytest.param(400, True, 0, None, (False, None, False), id="400 final"),
    pytest.param(401, True, 0, None, (False, None, False), id="401 final"),
    pytest.param(404, True, 0, None, (False, None, False), id="404 final"),
]


@pytest.mark.parametrize(("status", "safe", "attempt", "retry_after", "expected"), CASES)
def test_decision_table(
    status: int | None,
    safe: bool,
    attempt: int,
    retry_after: float | None,
    expected: tuple[bool, float | None, bool],
) -> None:
    decision = decide(
        status=status,
        retry_safe=safe,
        attempt=attempt,
        retry_after=retry_after,
        max_retries=3,
        max_inline_wait=5.0,
        rng=random.Random(1),
    )
    assert (decision.retry, decision.hold, decision.outcome_unknown) == expected


def test_retry_after_is_a_floor_for_the_delay() -> None:
    decision = decide(
        status=503,
        retry_safe=True,
        attempt=0,
        retry_after=4.0,
        max_retries=3,
        max_inline_wait=5.0,
        rng=random.Random(1),
    )
    assert decision.delay >= 4.0


def test_backoff_grows_with_the_attempt() -> None:
    def delay(attempt: int) -> float:
        return decide(
            status=None,
            retry_safe=True,
            attempt=attempt,
            retry_after=None,
            max_retries=9,
            max_inline_wait=100.0,
            rng=random.Random(0),
        ).delay

    assert delay(0) <= 1.0 < delay(3)


def test_a_429_without_retry_after_still_holds_for_a_backoff() -> None:
    decision = decide(
        status=429,
        retry_safe=True,
        attempt=0,
        retry_after=None,
        max_retries=3,
        max_inline_wait=5.0,
        rng=random.Random(1),
    )
    assert decision == RetryDecision(True, decision.delay, decision.delay)
    assert decision.delay > 0
