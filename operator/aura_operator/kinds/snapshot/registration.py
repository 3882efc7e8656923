"""AuraSnapshot as the controller runs it. No finalizer: Aura has no snapshot delete, so
deleting the object never waits; an event says that the snapshot stays in Aura."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aura_operator.kinds.snapshot.model import SNAPSHOT_KIND, SNAPSHOT_PLURAL, AuraSnapshot
from aura_operator.kinds.snapshot.reconcile import reconcile_snapshot
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.controller import Kind, Pass
from aura_operator.runtime.outcome import Outcome, Recorder


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
)
