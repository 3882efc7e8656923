"""Conditions follow the Kubernetes conventions; every reason is documented in the README."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aura_operator.runtime.conditions import (
    ALL_REASONS,
    READY,
    SYNCED,
    ConditionUpdate,
    merge_conditions,
    ready_for_state,
)
from aura_operator.runtime.model import Condition

T0 = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 26, 10, 5, 0, tzinfo=UTC)
README = Path(__file__).resolve().parents[2] / "README.md"


def test_transition_time_moves_only_when_status_changes() -> None:
    first = merge_conditions(
        [], [ConditionUpdate(READY, "False", "Creating", "creating")], generation=1, now=T0
    )
    current = [Condition.model_validate(c) for c in first]
    same = merge_conditions(
        current, [ConditionUpdate(READY, "False", "Creating", "still")], generation=2, now=T1
    )
    assert same[0]["lastTransitionTime"] == "2026-11-26T10:00:00Z"
    assert same[0]["message"] == "still"
    assert same[0]["observedGeneration"] == 2
    flipped = merge_conditions(
        current, [ConditionUpdate(READY, "True", "Available", "up")], generation=2, now=T1
    )
    assert flipped[0]["lastTransitionTime"] == "2026-11-26T10:05:00Z"


def test_untouched_conditions_are_kept_and_order_is_stable() -> None:
    first = merge_conditions(
        [],
        [
            ConditionUpdate(SYNCED, "True", "ReconcileSuccess", ""),
            ConditionUpdate(READY, "True", "Available", ""),
        ],
        generation=1,
        now=T0,
    )
    assert [c["type"] for c in first] == [READY, SYNCED]
    current = [Condition.model_validate(c) for c in first]
    later = merge_conditions(
        current, [ConditionUpdate(READY, "False", "Paused", "")], generation=1, now=T1
    )
    assert [c["type"] for c in later] == [READY, SYNCED]
    assert later[1]["reason"] == "ReconcileSuccess"


@pytest.mark.parametrize(
    ("state", "status", "reason"),
    [
        ("running", "True", "Available"),
        ("updating", "True", "Updating"),
        ("creating", "False", "Creating"),
        ("paused", "False", "Paused"),
        ("pausing", "False", "Pausing"),
        ("resuming", "False", "Resuming"),
        ("destroying", "False", "Deleting"),
        ("loading failed", "False", "Unavailable"),
        ("something-new", "False", "Unavailable"),
        (None, "False", "Pending"),
    ],
)
def test_ready_for_state(state: str | None, status: str, reason: str) -> None:
    assert ready_for_state(state)[:2] == (status, reason)


def test_every_reason_is_documented_in_the_readme() -> None:
    text = README.read_text()
    missing = [r for reasons in ALL_REASONS.values() for r in reasons if f"`{r}`" not in text]
    assert not missing, f"README lacks condition reasons: {missing}"


def test_the_reasons_of_issue_19_are_the_ones_its_modules_set() -> None:
    from aura_operator.runtime.claims import ALREADY_MANAGED
    from aura_operator.runtime.deletion_protection import DELETION_PROTECTED
    from aura_operator.runtime.grants import REFERENCE_NOT_PERMITTED

    assert {ALREADY_MANAGED, REFERENCE_NOT_PERMITTED, DELETION_PROTECTED} <= ALL_REASONS["Synced"]
