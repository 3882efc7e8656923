"""The one place where errors become kopf's TemporaryError (for the deletion handler).

The per-object reconcile loop turns errors into conditions itself (reconcile.py); only the
deletion handler, which kopf retries, needs kopf's errors. A missing credential is retried too,
slowly, with a message that names the way out.
"""

from __future__ import annotations

import kopf

from aura_operator.aura import AuraError
from aura_operator.context import CredentialsProblem
from aura_operator.kube import KubeError
from aura_operator.outcome import backoff
from aura_operator.resource import ANNOTATION_FORCE_FINALIZE

FORCE_HINT = (
    "if it can never succeed (credential gone), annotate the object with "
    f'{ANNOTATION_FORCE_FINALIZE}: "true"'
)


def temporary(exc: Exception, retry: int, cap: float) -> kopf.TemporaryError:
    """The kopf error (with its delay) for an exception raised while finalizing."""
    delay = backoff(retry, cap=cap)
    if isinstance(exc, CredentialsProblem):
        return kopf.TemporaryError(
            f"cannot delete the Aura instance: {exc}; {FORCE_HINT}", delay=delay
        )
    if isinstance(exc, AuraError):
        if exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return kopf.TemporaryError(f"deleting the Aura instance failed: {exc}", delay=delay)
    if isinstance(exc, KubeError):
        return kopf.TemporaryError(f"Kubernetes API: {exc}", delay=delay)
    raise TypeError(f"unexpected error type {type(exc).__name__}") from exc
