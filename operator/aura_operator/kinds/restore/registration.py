"""AuraRestore as the controller runs it. No finalizer: a restore Aura has started cannot be
stopped, so deleting the object never waits; an event says that Aura carries on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aura_operator.kinds.restore.model import (
    ACTIVE_PHASES,
    RESTORE_KIND,
    RESTORE_PLURAL,
    AuraRestore,
)
from aura_operator.kinds.restore.reconcile import reconcile_restore
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.controller import Kind, Pass
from aura_operator.runtime.outcome import Outcome, Recorder


async def decide(p: Pass[AuraRestore]) -> Outcome:
    return await reconcile_restore(p.obj, p)


def deleted(ctx: OperatorContext, body: Mapping[str, Any], events: Recorder) -> None:
    """The object is gone: its target is released; mid-run, say that Aura carries on."""
    meta, status = body.get("metadata") or {}, body.get("status") or {}
    target = ((body.get("spec") or {}).get("instanceRef") or {}).get("name", "")
    ctx.restores.clear(meta.get("namespace") or "", target, meta.get("name") or "")
    if status.get("phase") in ACTIVE_PHASES:
        events.event(
            "Warning",
            "RestoreAbandoned",
            f"deleted in phase {status.get('phase')}: what Aura has started on "
            f"AuraInstance {target} carries on; the operator no longer follows it",
        )


RESTORE: Kind[AuraRestore] = Kind(
    name=RESTORE_KIND,
    plural=RESTORE_PLURAL,
    short="restore",
    parse=AuraRestore.from_body,
    decide=decide,
    uses_credential=True,
    on_deleted=deleted,
)
