"""The client's one retry policy, as a pure function both request loops ask.

`AuraClient._send` (the API) and `AuraClient._fetch_token` (the token endpoint) used to carry
their own copies of the rules; they disagreed on network errors, which made a token endpoint
that dropped connections look like a refused credential. Now each loop describes what happened
(a status, or none for a network error) and `decide` says: resend or not, after how long, and
whether the whole credential is held. The table-driven tests in tests/unit/test_retry.py are
the specification.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from aura_operator.aura.ratelimit import backoff_delay

#: Statuses after which the server may have acted (or may act later) on a request.
_NOT_RETRIED_5XX = frozenset({501})


@dataclass(frozen=True)
class RetryDecision:
    """What to do after one failed attempt."""

    retry: bool
    """Send the same request again (after `delay`)."""
    delay: float
    """Seconds before the next attempt, or (when not retrying) before the caller should."""
    hold: float | None = None
    """Hold every request of the credential this long (a 429's or 5xx's Retry-After)."""
    outcome_unknown: bool = False
    """The request may have been applied: the caller must look before acting again."""


def is_server_error(status: int) -> bool:
    return status >= 500 and status not in _NOT_RETRIED_5XX


def decide(
    *,
    status: int | None,
    retry_safe: bool,
    attempt: int,
    retry_after: float | None,
    max_retries: int,
    max_inline_wait: float,
    rng: random.Random | None = None,
) -> RetryDecision:
    """The decision after attempt number `attempt` (0-based) failed.

    `status` None means no answer (timeout, refused or reset connection). `retry_safe` is True
    for requests that change nothing when repeated (GET, DELETE, asking for a token). A request
    that is not retry-safe and got no definite answer is never resent: `outcome_unknown`.
    Network errors and 5xx are transient on every endpoint; `Retry-After` is a floor.
    """
    backoff = backoff_delay(attempt, rng=rng)
    left = attempt < max_retries
    if status is None or is_server_error(status):
        hold = retry_after if status is not None else None
        delay = max(retry_after or 0.0, backoff)
        if not retry_safe:
            return RetryDecision(False, delay, hold, outcome_unknown=True)
        return RetryDecision(left and delay <= max_inline_wait, delay, hold)
    if status == 429:
        wait = retry_after if retry_after is not None else backoff
        # Only reads are resent inline; a change is requeued by its caller after the hold.
        return RetryDecision(retry_safe and left and wait <= max_inline_wait, wait, wait)
    return RetryDecision(False, 0.0)
