"""deploy/argocd/health-session.lua, the Argo CD health check of AuraGraphAnalyticsSession, run by
a real Lua 5.1 interpreter against objects shaped as the operator writes them, every branch;
argocd-cm.yaml carries the same script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from aura_operator.kinds.session.model import Phase
from aura_operator.kinds.session.placement import SessionReason
from aura_operator.runtime.conditions import TERMINAL_SYNCED_REASONS, SyncedReason

ARGOCD = Path(__file__).resolve().parents[2] / "deploy" / "argocd"
SCRIPT = (ARGOCD / "health-session.lua").read_text(encoding="utf-8")


def health(
    status: dict[str, Any], spec: dict[str, Any] | None = None, **meta: Any
) -> tuple[str, str]:
    lua = lua51.LuaRuntime()
    obj = {
        "metadata": {"name": "x", "namespace": "shop", "generation": 1, **meta},
        "spec": spec or {},
        "status": status,
    }
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT)
    return result["status"], result["message"]


def cond(type_: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


SYNCED = cond("Synced", "True", SyncedReason.SUCCESS, "ok")


def test_a_ready_session_is_healthy() -> None:
    ready = cond("Ready", "True", SessionReason.AVAILABLE, "session s-1 is Ready")
    status = {"phase": Phase.READY, "conditions": [ready, SYNCED]}
    assert health(status) == ("Healthy", "session s-1 is Ready")


def test_a_session_being_created_is_progressing_with_its_phase() -> None:
    ready = cond("Ready", "False", SessionReason.CREATING, "Aura is creating session s-1")
    status = {"phase": Phase.CREATING, "conditions": [ready, SYNCED]}
    assert health(status) == ("Progressing", "Creating: Aura is creating session s-1")
    assert health({}) == ("Progressing", "Pending: waiting for the operator")


def test_a_failed_session_is_degraded() -> None:
    ready = cond("Ready", "False", SessionReason.FAILED, "Aura reports session s-1 Failed")
    assert health({"phase": Phase.FAILED, "conditions": [ready, SYNCED]}) == (
        "Degraded", "Aura reports session s-1 Failed"
    )  # fmt: skip


def test_an_expired_session_is_suspended_unless_it_is_renewed() -> None:
    ready = cond("Ready", "False", SessionReason.EXPIRED, "session s-1 expired")
    status = {"phase": Phase.EXPIRED, "conditions": [ready, SYNCED]}
    assert health(status) == ("Suspended", "session s-1 expired")
    assert health(status, {"renew": "Never"})[0] == "Suspended"
    assert health(status, {"renew": "OnExpiry"}) == ("Progressing", "Expired: session s-1 expired")


@pytest.mark.parametrize("reason", sorted(TERMINAL_SYNCED_REASONS))
def test_refused_input_is_degraded(reason: str) -> None:
    synced = cond("Synced", "False", reason, "memory (is: 8GB, requested: 4GB)")
    ready = cond("Ready", "False", SessionReason.PENDING, "no session")
    assert health({"conditions": [ready, synced]}) == (
        "Degraded", f"{reason}: memory (is: 8GB, requested: 4GB)"
    )  # fmt: skip


def test_paused_reconciling_is_suspended_and_a_transient_error_progressing() -> None:
    paused = cond("Synced", "False", SyncedReason.PAUSED, "paused")
    assert health({"conditions": [paused]}) == ("Suspended", "paused")
    error = cond("Synced", "False", SyncedReason.ERROR, "Aura answered 503")
    assert health({"phase": Phase.CREATING, "conditions": [error]})[0] == "Progressing"


def test_a_session_being_deleted_is_progressing() -> None:
    gone = {"deletionTimestamp": "2026-12-04T08:00:00Z"}
    assert health({}, **gone) == ("Progressing", "The session is being deleted")


def test_the_argocd_cm_snippet_carries_the_script() -> None:
    data = yaml.safe_load((ARGOCD / "argocd-cm.yaml").read_text(encoding="utf-8"))["data"]
    assert data["resource.customizations.health.aura-operator.dev_AuraGraphAnalyticsSession"] == (
        SCRIPT
    )
