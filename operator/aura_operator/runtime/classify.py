"""The one error classifier: exception -> (condition reason, message, retry delay, terminal).

Every place that turns an error into something a user sees asks `classify`: the reconcile
loop (a `Synced=False` condition and the next attempt), the finalizer (kopf's TemporaryError
and a condition), and the loop's last-resort guard for errors nobody expected. The rules:

- network trouble, 5xx, a 409 from Aura and any Kubernetes API error are transient;
- only a credential that Aura refused (400/401/403 from the token endpoint, or 401/403 after
  a fresh token) or that cannot be found or read is `CredentialsInvalid`;
- bad input that Aura refused is `InvalidSpec`, naming the fields Aura named;
- anything else is `ReconcileError`, transient, with its type and message (never a dead loop).

The table in tests/unit/test_classify.py is the specification.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from aura_operator.aura import (
    AuraBadRequest,
    AuraError,
    AuraForbidden,
    AuraNotPermitted,
    AuraPaymentRequired,
    AuraRateLimited,
    AuraTokenError,
    AuraUnauthorized,
    AuraUnsupportedForTier,
)
from aura_operator.kube.api import KubeConflict, KubeError
from aura_operator.runtime.conditions import SyncedReason
from aura_operator.runtime.credentials import CredentialsProblem

#: Wait after a 429 that carried no Retry-After.
DEFAULT_THROTTLE = 5.0


@dataclass(frozen=True)
class Verdict:
    """What an error means for the object that met it."""

    reason: str
    """The `Synced` reason (a SyncedReason)."""
    message: str
    retry_after: float | None = None
    """The floor for the next attempt (a Retry-After, or our own hold); None: backoff."""
    terminal: bool = False
    """No retry fixes it: only a change of the spec or of the credential does."""
    backoff: bool = True
    """Counts as a failure for the object's exponential backoff."""
    event: bool = False
    """Worth a Warning event (terminal verdicts are; transient ones only in the condition)."""
    requeue: bool = True
    """Try again without a change to the object (False: only a spec change can help)."""
    stale: bool = False
    """The object changed under the pass: nothing it saw may be written; read it again."""


def _fields(exc: AuraError) -> str:
    return ", ".join(f"spec.{to_camel(f)}" for f in exc.fields)


def classify(exc: BaseException) -> Verdict:
    """The verdict for any exception raised by one pass (or one finalizer attempt)."""
    if isinstance(exc, CredentialsProblem):
        return Verdict(SyncedReason.CREDENTIALS_INVALID, str(exc), terminal=True, event=True)
    if isinstance(exc, AuraRateLimited):
        wait = exc.retry_after if exc.retry_after is not None else DEFAULT_THROTTLE
        return Verdict(
            SyncedReason.THROTTLED,
            f"Aura's request budget for this credential is exhausted; waiting {wait:.0f}s",
            retry_after=wait,
            backoff=False,
        )
    if isinstance(exc, AuraTokenError | AuraUnauthorized | AuraForbidden) and (
        exc.status is not None and exc.status < 500
    ):
        return Verdict(
            SyncedReason.CREDENTIALS_INVALID,
            f"Aura refused the credential: {exc.message}",
            terminal=True,
            event=True,
        )
    if isinstance(exc, AuraBadRequest | AuraPaymentRequired | AuraUnsupportedForTier):
        fields = _fields(exc)
        return Verdict(
            SyncedReason.INVALID_SPEC,
            f"Aura refused the request{f' ({fields})' if fields else ''}: {exc.message}",
            terminal=True,
            event=True,
            requeue=False,
        )
    if isinstance(exc, AuraNotPermitted):
        return Verdict(
            SyncedReason.ERROR, f"Aura does not permit this now: {exc.message}", event=True
        )
    if isinstance(exc, AuraError):
        return Verdict(SyncedReason.ERROR, str(exc), retry_after=exc.retry_after)
    if isinstance(exc, KubeConflict):
        return Verdict(
            SyncedReason.ERROR,
            "the object changed while the operator worked on it; reading it again",
            retry_after=0.0,
            backoff=False,
            stale=True,
        )
    if isinstance(exc, KubeError):
        return Verdict(SyncedReason.ERROR, f"Kubernetes API: {exc}")
    if isinstance(exc, ValidationError):
        return Verdict(
            SyncedReason.ERROR,
            f"unexpected data ({exc.error_count()} validation errors in {exc.title}); retrying",
        )
    return Verdict(SyncedReason.ERROR, f"unexpected error: {type(exc).__name__}: {exc}")
