"""deploy/argocd/health-snapshot.lua and health-restore.lua, the Argo CD health checks of
AuraSnapshot and AuraRestore, run by a real Lua 5.1 interpreter (Argo CD's gopher-lua implements
5.1) against objects shaped as the operator writes them; argocd-cm.yaml carries both scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from aura_operator.kinds.restore.plan import RESTORE_FAILED, RestoreReason
from aura_operator.kinds.snapshot.reconcile import SnapshotReason
from aura_operator.runtime.conditions import TERMINAL_SYNCED_REASONS, SyncedReason

ARGOCD = Path(__file__).resolve().parents[2] / "deploy" / "argocd"
SNAPSHOT = (ARGOCD / "health-snapshot.lua").read_text(encoding="utf-8")
RESTORE = (ARGOCD / "health-restore.lua").read_text(encoding="utf-8")


def health(script: str, status: dict[str, Any]) -> tuple[str, str]:
    lua = lua51.LuaRuntime()
    obj = {"metadata": {"name": "x", "namespace": "shop", "generation": 1}, "status": status}
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script)
    return result["status"], result["message"]


def cond(type_: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": 1}  # fmt: skip


SYNCED = cond("Synced", "True", SyncedReason.SUCCESS, "ok")


def test_a_completed_snapshot_is_healthy() -> None:
    ready = cond("Ready", "True", SnapshotReason.COMPLETED, "snapshot 3e5e is Completed")
    status = {"state": "Completed", "conditions": [ready, SYNCED]}
    assert health(SNAPSHOT, status) == ("Healthy", "snapshot 3e5e is Completed")


@pytest.mark.parametrize("state", ["Pending", "InProgress", None])
def test_a_snapshot_on_its_way_is_progressing(state: str | None) -> None:
    ready = cond("Ready", "False", SnapshotReason.IN_PROGRESS, "snapshot 3e5e is InProgress")
    status = {"state": state, "conditions": [ready, SYNCED]} if state else {}
    assert health(SNAPSHOT, status)[0] == "Progressing"


@pytest.mark.parametrize("state", ["Failed", "Cancelled"])
def test_a_failed_snapshot_is_degraded(state: str) -> None:
    ready = cond("Ready", "False", SnapshotReason.FAILED, f"Aura reports snapshot 3e5e {state}")
    assert health(SNAPSHOT, {"state": state, "conditions": [ready, SYNCED]}) == (
        "Degraded", f"Aura reports snapshot 3e5e {state}"
    )  # fmt: skip


@pytest.mark.parametrize("reason", sorted(TERMINAL_SYNCED_REASONS))
def test_refused_input_is_degraded(reason: str) -> None:
    synced = cond("Synced", "False", reason, "spec.instanceRef.name: instance is paused")
    ready = cond("Ready", "False", "Pending", "x")
    assert health(SNAPSHOT, {"conditions": [ready, synced]}) == (
        "Degraded", f"{reason}: spec.instanceRef.name: instance is paused"
    )  # fmt: skip
    assert health(RESTORE, {"phase": "Pending", "conditions": [ready, synced]})[0] == "Degraded"


def test_a_transient_error_is_progressing() -> None:
    synced = cond("Synced", "False", SyncedReason.ERROR, "Aura answered 503")
    ready = cond("Ready", "False", "Pending", "the request got no answer")
    assert health(SNAPSHOT, {"conditions": [ready, synced]})[0] == "Progressing"
    assert health(RESTORE, {"phase": "Restoring", "conditions": [ready, synced]})[0] == (
        "Progressing"
    )


def test_a_completed_restore_is_healthy() -> None:
    ready = cond("Ready", "True", RestoreReason.COMPLETED, "Restoring completed")
    assert health(RESTORE, {"phase": "Completed", "conditions": [ready, SYNCED]}) == (
        "Healthy", "Restoring completed"
    )  # fmt: skip


@pytest.mark.parametrize("reason", [SyncedReason.INVALID_SPEC, RESTORE_FAILED])
def test_a_failed_restore_is_degraded_with_its_reason(reason: str) -> None:
    ready = cond("Ready", "False", RestoreReason.FAILED, "the target is paused")
    synced = cond("Synced", "False", reason, "the target is paused")
    assert health(RESTORE, {"phase": "Failed", "conditions": [ready, synced]}) == (
        "Degraded", f"{reason}: the target is paused"
    )  # fmt: skip


@pytest.mark.parametrize("phase", ["Pending", "SnapshottingTarget", "Restoring", "Overwriting"])
def test_a_running_restore_is_progressing_with_its_phase(phase: str) -> None:
    ready = cond("Ready", "False", phase, "waiting for the safety snapshot")
    assert health(RESTORE, {"phase": phase, "conditions": [ready, SYNCED]}) == (
        "Progressing", f"{phase}: waiting for the safety snapshot"
    )  # fmt: skip
    assert health(RESTORE, {}) == ("Progressing", "Pending: waiting for the operator")


def test_the_argocd_cm_snippet_carries_both_scripts() -> None:
    data = yaml.safe_load((ARGOCD / "argocd-cm.yaml").read_text(encoding="utf-8"))["data"]
    prefix = "resource.customizations.health.aura-operator.dev_"
    assert data[f"{prefix}AuraSnapshot"] == SNAPSHOT
    assert data[f"{prefix}AuraRestore"] == RESTORE


def test_messages_fall_back_when_the_operator_wrote_none() -> None:
    """Every branch has a message even without one on the condition (or without conditions)."""
    assert health(SNAPSHOT, {"conditions": [cond("Ready", "True", "Completed")]}) == (
        "Healthy", "The snapshot is Completed"
    )  # fmt: skip
    assert health(SNAPSHOT, {"state": "Failed"}) == (
        "Degraded", "Aura reports the snapshot as Failed"
    )  # fmt: skip
    synced = cond("Synced", "False", SyncedReason.INVALID_SPEC)
    assert health(SNAPSHOT, {"conditions": [synced]}) == (
        "Degraded", "InvalidSpec: see the AuraSnapshot's events"
    )  # fmt: skip
    assert health(SNAPSHOT, {}) == ("Progressing", "Waiting for the operator to take the snapshot")
    assert health(RESTORE, {"phase": "Completed"}) == ("Healthy", "The restore is completed")
    assert health(RESTORE, {"conditions": [synced]}) == (
        "Degraded", "InvalidSpec: see the AuraRestore's events"
    )  # fmt: skip


def test_a_failed_restore_without_a_failed_synced_has_no_reason_prefix() -> None:
    assert health(RESTORE, {"phase": "Failed", "conditions": [SYNCED]}) == (
        "Degraded", "The restore failed; see the AuraRestore's events"
    )  # fmt: skip


def test_a_restore_waiting_for_its_snapshot_is_progressing_not_degraded() -> None:
    """Applied with its AuraSnapshot (one Git commit): Pending until the snapshot is Completed."""
    ready = cond("Ready", "False", RestoreReason.PENDING, "waiting for snapshot 3e5e")
    assert health(RESTORE, {"phase": "Pending", "conditions": [ready, SYNCED]}) == (
        "Progressing", "Pending: waiting for snapshot 3e5e"
    )  # fmt: skip
    # Aura has finished; the target AuraInstance has not shown it yet: still Progressing.
    ready = cond("Ready", "False", RestoreReason.RESTORING, "waiting for AuraInstance orders")
    status = {"phase": "Restoring", "completedAt": "2026-12-01T11:00:00Z",
              "conditions": [ready, SYNCED]}  # fmt: skip
    assert health(RESTORE, status)[0] == "Progressing"


@pytest.mark.parametrize("script", [SNAPSHOT, RESTORE])
def test_a_planned_snapshot_or_restore_is_suspended(script: str) -> None:
    message = "would POST /v1/instances/abc123/snapshots"
    planned = cond("Synced", "False", SyncedReason.PLANNED, message)
    assert health(script, {"conditions": [planned]}) == ("Suspended", f"Planned: {message}")
