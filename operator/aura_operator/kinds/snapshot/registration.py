"""AuraSnapshot as the controller runs it. No finalizer: Aura has no snapshot delete, so
deleting the object never waits; an event says that the snapshot stays in Aura."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aura_operator.kinds.snapshot.lookup import target_instance
from aura_operator.kinds.snapshot.model import SNAPSHOT_KIND, SNAPSHOT_PLURAL, AuraSnapshot
from aura_operator.kinds.snapshot.reconcile import reconcile_snapshot
from aura_operator.runtime.claims import AuraObject
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.controller import Kind, Pass
from aura_operator.runtime.outcome import Outcome, Recorder


async def refers(p: Pass[AuraSnapshot]) -> list[AuraObject]:
    """The instance it snapshots, until the snapshot is taken (then it is only read)."""
    obj = p.obj
    if obj.status.snapshot_id:
        return []
    instance_id = obj.status.instance_id or obj.spec.instance_id
    if not instance_id and obj.spec.instance_ref is not None:
        target = await target_instance(p.ctx, obj.ref.namespace, obj.spec.instance_ref.name)
        instance_id = target.instance_id if target is not None else None
    return [AuraObject("instance", instance_id)] if instance_id else []


async def decide(p: Pass[AuraSnapshot]) -> Outcome:
    return await reconcile_snapshot(p.obj, p)


def deleted(ctx: OperatorContext, body: Mapping[str, Any], events: Recorder) -> None:
    """The object is gone: say that the snapshot stays in Aura."""
    snapshot_id = (body.get("status") or {}).get("snapshotId")
    if snapshot_id:
        events.event(
            "Normal",
            "SnapshotKept",
            f"snapshot {snapshot_id} stays in Aura until its retention ends: the Aura "
            "API cannot delete snapshots (docs/backups.md)",
        )


SNAPSHOT: Kind[AuraSnapshot] = Kind(
    name=SNAPSHOT_KIND,
    plural=SNAPSHOT_PLURAL,
    short="snapshot",
    parse=AuraSnapshot.from_body,
    decide=decide,
    uses_credential=True,
    on_deleted=deleted,
    refers=refers,
)
