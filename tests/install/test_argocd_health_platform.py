"""deploy/argocd/health-platform.lua (AuraCredential, AuraCustomerManagedKey) run by a real Lua
5.1 interpreter, every branch; argocd-cm carries the same script under both kinds' keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

ARGOCD = Path(__file__).resolve().parents[2] / "deploy" / "argocd"
SCRIPT = (ARGOCD / "health-platform.lua").read_text(encoding="utf-8")


def health(obj: dict[str, Any]) -> tuple[str, str]:
    lua = lua51.LuaRuntime()
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT)
    return result["status"], result["message"]


def obj(*conditions: dict[str, str], deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "team-a", "generation": 1}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-01T10:00:00Z"
    return {"metadata": metadata, "status": {"conditions": list(conditions)}}


def cond(type_: str, status: str, reason: str, message: str) -> dict[str, str]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


READY = cond("Ready", "True", "Available", "a token was fetched; the credential sees 1 tenant(s)")


def test_ready_is_healthy() -> None:
    assert health(obj(READY)) == ("Healthy", READY["message"])


def test_a_refused_credential_is_degraded() -> None:
    refused = cond("Ready", "False", "CredentialsInvalid", "Aura refused the credential")
    assert health(obj(refused)) == ("Degraded", "CredentialsInvalid: Aura refused the credential")


def test_a_terminal_synced_reason_is_degraded() -> None:
    bad = cond("Synced", "False", "InvalidSpec", 'spec.region "x" is not offered')
    assert health(obj(READY, bad))[0] == "Degraded"


def test_a_held_deletion_is_progressing_with_its_reason() -> None:
    held = cond("Ready", "False", "Deleting", "still used by 2 object(s)")
    assert health(obj(held, deleting=True)) == ("Progressing", "still used by 2 object(s)")


@pytest.mark.parametrize("conditions", [(), (cond("Ready", "False", "Pending", "pending"),)])
def test_anything_else_is_progressing(conditions: tuple[dict[str, str], ...]) -> None:
    assert health(obj(*conditions))[0] == "Progressing"


@pytest.mark.parametrize("kind", ["AuraCredential", "AuraCustomerManagedKey"])
def test_the_argocd_cm_snippet_carries_the_script(kind: str) -> None:
    snippet = yaml.safe_load((ARGOCD / "argocd-cm.yaml").read_text(encoding="utf-8"))
    assert snippet["data"][f"resource.customizations.health.aura-operator.dev_{kind}"] == SCRIPT


def test_a_key_held_by_deletion_protection_is_degraded_with_how_to_release_it() -> None:
    held = cond("Synced", "False", "DeletionProtected", "set spec.deletionProtection to false")
    assert health(obj(READY, held, deleting=True)) == (
        "Degraded",
        "DeletionProtected: set spec.deletionProtection to false",
    )


def test_a_planned_key_is_suspended() -> None:
    planned = cond("Synced", "False", "Planned", "would POST /v1/customer-managed-keys: name=k")
    assert health(obj(planned)) == ("Suspended", f"Planned: {planned['message']}")
