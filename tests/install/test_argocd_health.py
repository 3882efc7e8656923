"""deploy/argocd/health.lua, the Argo CD health check for AuraInstance, run by a real Lua 5.1
interpreter (Argo CD's gopher-lua implements 5.1) against objects shaped as the operator writes
them: every branch of the script, and the argocd-cm snippet carries the same script."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from aura_operator.runtime.conditions import TERMINAL_SYNCED_REASONS, ReadyReason, SyncedReason

ARGOCD = Path(__file__).resolve().parents[2] / "deploy" / "argocd"
SCRIPT = (ARGOCD / "health.lua").read_text(encoding="utf-8")
CM_KEY = "resource.customizations.health.aura-operator.dev_AuraInstance"


def health(obj: dict[str, Any]) -> tuple[str, str]:
    """(status, message) as Argo CD computes it: the script runs with `obj` as a global."""
    lua = lua51.LuaRuntime()
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT)
    return result["status"], result["message"]


def cond(type_: str, status: str, reason: str, message: str = "", generation: int = 2) -> dict:
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation}  # fmt: skip


def instance(
    *conditions: dict[str, Any],
    generation: int = 2,
    observed: int | None = 2,
    state: str | None = "running",
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "orders", "namespace": "shop", "generation": generation}
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-26T10:00:00Z"
    status: dict[str, Any] = {"conditions": list(conditions)}
    if observed is not None:
        status["observedGeneration"] = observed
    if state is not None:
        status["state"] = state
    return {"apiVersion": "aura-operator.dev/v1alpha1", "kind": "AuraInstance",
            "metadata": metadata, "spec": {"memory": "8GB"}, "status": status}  # fmt: skip


READY = cond("Ready", "True", ReadyReason.AVAILABLE, "Aura reports the instance as running")
SYNCED = cond("Synced", "True", SyncedReason.SUCCESS, "the instance matches the spec")


def test_ready_and_in_sync_is_healthy() -> None:
    assert health(instance(READY, SYNCED)) == ("Healthy", "Aura reports the instance as running")


def test_updating_but_available_is_healthy() -> None:
    ready = cond("Ready", "True", ReadyReason.UPDATING, "Aura reports the instance as updating")
    assert health(instance(ready, SYNCED, state="updating"))[0] == "Healthy"


def test_being_deleted_is_progressing() -> None:
    ready = cond("Ready", "False", ReadyReason.DELETING, "deleting instance 1fa1930f")
    assert health(instance(ready, SYNCED, deleting=True)) == (
        "Progressing", "deleting instance 1fa1930f"
    )  # fmt: skip
    # Deleting wins over everything, even a healthy-looking status.
    assert health(instance(READY, SYNCED, deleting=True)) == (
        "Progressing", "The AuraInstance is being deleted"
    )  # fmt: skip


@pytest.mark.parametrize("reason", sorted(TERMINAL_SYNCED_REASONS))
def test_terminal_sync_failure_is_degraded(reason: str) -> None:
    synced = cond("Synced", "False", reason, "memory: 3GB is not offered; choose 2GB, 4GB")
    pending = cond("Ready", "False", ReadyReason.PENDING, "no Aura instance yet")
    status, message = health(instance(pending, synced, observed=None, state=None))
    assert status == "Degraded"
    assert message == f"{reason}: memory: 3GB is not offered; choose 2GB, 4GB"


def test_terminal_failure_of_an_older_generation_is_progressing_once_the_spec_changes() -> None:
    synced = cond("Synced", "False", SyncedReason.INVALID_SPEC, "bad memory", generation=2)
    status, message = health(instance(READY, synced, generation=3, observed=1))
    assert status == "Progressing"
    assert message.startswith("Waiting for the operator to apply generation 3")


def test_reconcile_paused_is_suspended() -> None:
    synced = cond("Synced", "False", SyncedReason.PAUSED, "reconcile: skip is set")
    assert health(instance(READY, synced)) == ("Suspended", "reconcile: skip is set")


def test_observed_generation_behind_is_progressing() -> None:
    status, message = health(instance(READY, SYNCED, generation=3, observed=2))
    assert status == "Progressing"
    assert message == (
        "Waiting for the operator to apply generation 3: Aura reports the instance as running"
    )


def test_no_observed_generation_yet_is_progressing() -> None:
    creating = cond("Ready", "False", ReadyReason.CREATING, "Aura reports the instance as creating")
    status, message = health(instance(creating, observed=None, state="creating"))
    assert status == "Progressing"
    assert message.endswith("Aura reports the instance as creating")


def test_a_transient_sync_failure_shows_its_message_while_behind() -> None:
    synced = cond("Synced", "False", SyncedReason.THROTTLED, "rate limited; next attempt 10:05")
    status, message = health(instance(READY, synced, generation=3, observed=2))
    assert (status, message.split(": ", 1)[1]) == (
        "Progressing",
        "rate limited; next attempt 10:05",
    )


def test_paused_is_suspended() -> None:
    paused = cond("Ready", "False", ReadyReason.PAUSED, "Aura reports the instance as paused")
    assert health(instance(paused, SYNCED, state="paused")) == (
        "Suspended", "Aura reports the instance as paused"
    )  # fmt: skip
    # Aura's raw state alone is enough (an older condition message).
    assert health(instance(SYNCED, state="paused")) == ("Suspended", "The Aura instance is paused")


def test_pausing_is_progressing() -> None:
    pausing = cond("Ready", "False", ReadyReason.PAUSING, "Aura reports the instance as pausing")
    assert health(instance(pausing, SYNCED, state="pausing")) == (
        "Progressing", "Aura reports the instance as pausing"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "state"),
    [(ReadyReason.CREATING, "creating"), (ReadyReason.RESUMING, "resuming"),
     (ReadyReason.UNAVAILABLE, "suspended"), (ReadyReason.PENDING, None)],
)  # fmt: skip
def test_not_ready_otherwise_is_progressing_with_the_condition_message(
    reason: str, state: str | None
) -> None:
    ready = cond("Ready", "False", reason, f"the instance is {reason.lower()}")
    assert health(instance(ready, SYNCED, state=state)) == (
        "Progressing", f"the instance is {reason.lower()}"
    )  # fmt: skip


def test_a_transient_sync_failure_while_not_ready_shows_the_sync_reason() -> None:
    ready = cond("Ready", "False", ReadyReason.PENDING, "no Aura instance yet")
    synced = cond("Synced", "False", SyncedReason.ERROR, "Aura answered 503")
    assert health(instance(ready, synced, state=None)) == (
        "Progressing", "ReconcileError: Aura answered 503"
    )  # fmt: skip


def test_a_new_object_without_status_is_progressing() -> None:
    obj = {"apiVersion": "aura-operator.dev/v1alpha1", "kind": "AuraInstance",
           "metadata": {"name": "orders", "generation": 1}, "spec": {}}  # fmt: skip
    assert health(obj) == (
        "Progressing", "Waiting for the operator to apply generation 1"
    )  # fmt: skip


def test_the_script_knows_exactly_the_operators_terminal_reasons() -> None:
    match = re.search(r"local TERMINAL = \{([^}]*)\}", SCRIPT)
    assert match, "TERMINAL table not found in health.lua"
    names = set(re.findall(r"(\w+) = true", match.group(1)))
    assert names == set(TERMINAL_SYNCED_REASONS)


def test_the_argocd_cm_snippet_carries_the_script() -> None:
    snippet = yaml.safe_load((ARGOCD / "argocd-cm.yaml").read_text(encoding="utf-8"))
    assert snippet["data"][CM_KEY] == SCRIPT


def test_the_install_docs_show_this_snippet_and_the_application_example() -> None:
    docs = (ARGOCD.parents[1] / "docs" / "install.md").read_text(encoding="utf-8")
    cm = (ARGOCD / "argocd-cm.yaml").read_text(encoding="utf-8")
    assert cm[cm.index("data:") :].rstrip() in docs
    assert (ARGOCD / "application.yaml").read_text(encoding="utf-8").rstrip() in docs


def test_a_deletion_held_by_deletion_protection_is_degraded_with_how_to_release_it() -> None:
    held = cond("Synced", "False", "DeletionProtected",
                "deletion held: spec.deletionProtection is true; set it to false")  # fmt: skip
    assert health(instance(READY, held, deleting=True)) == (
        "Degraded", "DeletionProtected: deletion held: spec.deletionProtection is true; set it "
        "to false"
    )  # fmt: skip
    # Protection on an object that is not being deleted is nothing to show.
    assert health(instance(READY, SYNCED))[0] == "Healthy"


def test_a_planned_object_is_suspended() -> None:
    message = "would PATCH /v1/instances/abc123: memory 2GB → 4GB"
    synced = cond("Synced", "False", SyncedReason.PLANNED, message)
    assert health(instance(READY, synced, generation=3, observed=2)) == (
        "Suspended", f"Planned: {message}"
    )  # fmt: skip
