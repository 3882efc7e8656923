"""AuraRestore as the controller runs it. No finalizer: a restore Aura has started cannot be
stopped, so deleting the object never waits; an event says that Aura carries on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aura_operator.kinds.restore.model import (
    ACTIVE_PHASES,
    FINAL_PHASES,
    RESTORE_KIND,
    RESTORE_PLURAL,
    AuraRestore,
)
from aura_operator.kinds.restore.reconcile import reconcile_restore
from aura_operator.kinds.snapshot.lookup import target_instance
from aura_operator.runtime.claims import AuraObject
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.controller import Kind, Pass
from aura_operator.runtime.outcome import Outcome, Recorder


async def refers(p: Pass[AuraRestore]) -> list[AuraObject]:
    """The instances a restore acts on until it is over: its target (restored or overwritten)
    and the instance it overwrites from (spec.source)."""
    obj, ctx, ns = p.obj, p.ctx, p.obj.ref.namespace
    if obj.status.phase in FINAL_PHASES:
        return []
    target_id = obj.status.instance_id
    if not target_id:
        target = await target_instance(ctx, ns, obj.spec.instance_ref.name)
        target_id = target.instance_id if target is not None else None
    ids = [target_id]
    source = obj.spec.source
    if source is not None:
        source_id = obj.status.source_instance_id or source.instance_id
        if not source_id and source.instance_ref is not None:
            origin = await target_instance(ctx, ns, source.instance_ref.name)
            source_id = origin.instance_id if origin is not None else None
        ids.append(source_id)
    return [AuraObject("instance", i) for i in ids if i]


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
    refers=refers,
)
