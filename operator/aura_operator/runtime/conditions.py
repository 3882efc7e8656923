"""Conditions and their reasons (a small closed set), and the status patch they end up in.

Kubernetes condition conventions: `type`, `status` ("True"/"False"/"Unknown"), a CamelCase
`reason`, a human `message`, `lastTransitionTime` that changes only when `status` changes, and
`observedGeneration`. The README lists every reason below; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aura_operator.runtime.model import Condition

READY = "Ready"
SYNCED = "Synced"
SECRET_READY = "ConnectionSecretReady"  # noqa: S105 - a condition type
METRICS_SCRAPE_CONFIG = "MetricsScrapeConfig"

Status = Literal["True", "False", "Unknown"]


class ReadyReason:
    AVAILABLE = "Available"
    PENDING = "Pending"
    CREATING = "Creating"
    UPDATING = "Updating"
    PAUSING = "Pausing"
    PAUSED = "Paused"
    RESUMING = "Resuming"
    DELETING = "Deleting"
    UNAVAILABLE = "Unavailable"
    RESTORING = "Restoring"
    OVERWRITING = "Overwriting"


class SyncedReason:
    SUCCESS = "ReconcileSuccess"
    ERROR = "ReconcileError"
    INVALID_SPEC = "InvalidSpec"
    CREDENTIALS_INVALID = "CredentialsInvalid"
    CREATE_AMBIGUOUS = "CreateAmbiguous"
    THROTTLED = "Throttled"
    PAUSED = "ReconcilePaused"
    PLANNED = "Planned"
    ALREADY_MANAGED = "AlreadyManaged"  # claims.py: another object manages the Aura object
    REFERENCE_NOT_PERMITTED = "ReferenceNotPermitted"  # grants.py: no grant allows it
    DELETION_PROTECTED = "DeletionProtected"  # deletion_protection.py: the deletion is held


class SecretReason:
    WRITTEN = "Written"
    PASSWORD_UNAVAILABLE = "PasswordUnavailable"  # noqa: S105 - a reason
    CONFLICT = "SecretConflict"


class MetricsReason:
    """MetricsScrapeConfig: the Prometheus Operator ScrapeConfig of an AuraInstance (its
    InvalidSpec, Pending and ReconcileError reasons are the ones above)."""

    APPLIED = "Applied"
    CRD_NOT_INSTALLED = "CRDNotInstalled"
    NOT_ELIGIBLE = "NotEligible"
    DISABLED = "Disabled"


#: Synced=False reasons that no retry can fix: only a change of the spec (or of the credential
#: Secret) can. Argo CD's health check reports these as Degraded.
TERMINAL_SYNCED_REASONS = frozenset(
    {SyncedReason.INVALID_SPEC, SyncedReason.CREDENTIALS_INVALID, SyncedReason.CREATE_AMBIGUOUS}
)

ALL_REASONS: dict[str, frozenset[str]] = {
    READY: frozenset(v for k, v in vars(ReadyReason).items() if k.isupper()),
    SYNCED: frozenset(v for k, v in vars(SyncedReason).items() if k.isupper()),
    SECRET_READY: frozenset(v for k, v in vars(SecretReason).items() if k.isupper()),
    METRICS_SCRAPE_CONFIG: frozenset(v for k, v in vars(MetricsReason).items() if k.isupper())
    | {SyncedReason.INVALID_SPEC, ReadyReason.PENDING, SyncedReason.ERROR},
}

#: Aura instance status -> (Ready status, reason). Anything unknown is Unavailable.
_READY_BY_STATE: dict[str, tuple[Status, str]] = {
    "running": ("True", ReadyReason.AVAILABLE),
    "updating": ("True", ReadyReason.UPDATING),  # "the instance remains available throughout"
    "creating": ("False", ReadyReason.CREATING),
    "loading": ("False", ReadyReason.CREATING),
    "pausing": ("False", ReadyReason.PAUSING),
    "paused": ("False", ReadyReason.PAUSED),
    "resuming": ("False", ReadyReason.RESUMING),
    "destroying": ("False", ReadyReason.DELETING),
    "restoring": ("False", ReadyReason.RESTORING),
    "overwriting": ("False", ReadyReason.OVERWRITING),
}


def ready_for_state(state: str | None) -> tuple[Status, str, str]:
    """Ready's (status, reason, message) for an Aura instance status."""
    if state is None:
        return "False", ReadyReason.PENDING, "no Aura instance yet"
    status, reason = _READY_BY_STATE.get(state, ("False", ReadyReason.UNAVAILABLE))
    return status, reason, f"Aura reports the instance as {state}"


def now_iso(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_iso(when: datetime) -> str:
    """RFC 3339 with microseconds (Kubernetes' MicroTime): for observation times, which a
    reader compares with events less than a second apart (a restart, a change)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ConditionUpdate:
    type: str
    status: Status
    reason: str
    message: str


def merge_conditions(
    current: list[Condition],
    updates: list[ConditionUpdate],
    *,
    generation: int,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The full conditions list after `updates`, in wire form.

    `lastTransitionTime` moves only when a condition's status changes. Conditions not updated
    are kept as they are. The order is stable: Ready, Synced, ConnectionSecretReady, others.
    """
    stamp = now_iso(now)
    by_type = {c.type: c for c in current}
    result: dict[str, dict[str, Any]] = {
        c.type: c.model_dump(by_alias=True, exclude_none=True) for c in current
    }
    for update in updates:
        previous = by_type.get(update.type)
        changed = previous is None or previous.status != update.status
        result[update.type] = {
            "type": update.type,
            "status": update.status,
            "reason": update.reason,
            "message": update.message[:32768],
            "lastTransitionTime": stamp
            if changed or previous is None
            else previous.last_transition_time,
            "observedGeneration": generation,
        }
    order = {READY: 0, SYNCED: 1, SECRET_READY: 2}
    return sorted(result.values(), key=lambda c: (order.get(c["type"], 9), c["type"]))
