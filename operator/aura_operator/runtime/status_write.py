"""The status patch of a pass's outcome, for every kind (the controller writes it).

Its fields, the conditions merged into the current ones (a failed Synced says when the next
attempt is), `nextAttemptAt`, and `observedGeneration` once the spec is fully applied; and
whether writing it would change anything (a pass that changes nothing writes nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aura_operator.runtime.conditions import SYNCED, ConditionUpdate, merge_conditions, now_iso
from aura_operator.runtime.model import Condition
from aura_operator.runtime.outcome import Outcome


def status_patch(
    outcome: Outcome,
    current: list[Condition],
    generation: int,
    delay: float | None,
    now: datetime,
) -> dict[str, Any]:
    """The `.status` patch of an outcome, for any kind: its fields, the merged conditions
    (a failed Synced says when the next attempt is), and observedGeneration once the spec is
    fully applied."""
    conditions = list(outcome.conditions)
    next_at: str | None = None
    if outcome.next_attempt and delay is not None:
        next_at = now_iso(now + timedelta(seconds=delay))
        conditions = [
            ConditionUpdate(c.type, c.status, c.reason, f"{c.message}; next attempt at {next_at}")
            if c.type == SYNCED and c.status == "False"
            else c
            for c in conditions
        ]
    patch: dict[str, Any] = dict(outcome.status)
    patch["conditions"] = merge_conditions(current, conditions, generation=generation, now=now)
    patch["nextAttemptAt"] = next_at
    if outcome.spec_applied:
        patch["observedGeneration"] = generation
    return patch


def changes(current: dict[str, Any], patch: dict[str, Any]) -> bool:
    """Whether writing `patch` over the status `current` (wire form) changes anything."""
    return any(
        current.get(k) != v for k, v in patch.items() if not (v is None and k not in current)
    )
