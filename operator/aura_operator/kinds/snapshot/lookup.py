"""What AuraSnapshot and AuraRestore passes share: the pass, the target, intents, applying.

- `BackupPass`: the pass of an AuraSnapshot or an AuraRestore;
- `target_instance`: an `instanceRef` resolved to the AuraInstance object and its instance id;
- `credential_holder`: the object whose credential a snapshot of a bare `instanceId` uses;
- `find_adhoc`: the AdHoc snapshots of an instance taken since an intent (the day's list,
  and the day before when the intent is near midnight), less those that other objects of the
  namespace have already recorded as theirs (`claimed_elsewhere`);
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from aura_operator.aura import AuraClient, Snapshot
from aura_operator.kinds.instance.model import PLURAL, AuraInstance
from aura_operator.kinds.restore.model import RESTORE_PLURAL
from aura_operator.kinds.snapshot.model import SNAPSHOT_PLURAL
from aura_operator.runtime.conditions import READY, ConditionUpdate
from aura_operator.runtime.context import OperatorContext
from aura_operator.runtime.controller import Pass
from aura_operator.runtime.intents import CLOCK_SKEW
from aura_operator.runtime.model import ObjectRef

#: The controller's one `Pass` type, of an AuraSnapshot or an AuraRestore (their decisions
#: resolve the client of the target's credential themselves).
BackupPass: TypeAlias = Pass[Any]


def ready(status: str, reason: str, message: str) -> ConditionUpdate:
    return ConditionUpdate(READY, "True" if status == "True" else "False", reason, message)


async def target_instance(ctx: OperatorContext, namespace: str, name: str) -> AuraInstance | None:
    body = await ctx.kube.get_object(PLURAL, namespace, name)
    return AuraInstance.from_body(body) if body is not None else None


def credential_holder(ref: ObjectRef, instance_id: str, spec: Mapping[str, Any]) -> AuraInstance:
    """An AuraInstance-shaped view of an object that names an instance by id: the credential
    is resolved exactly as for an AuraInstance in that namespace with that spec."""
    keys = ("credentialsSecretRef", "credentialRef")
    body = {
        "metadata": {"namespace": ref.namespace, "name": ref.name, "uid": ref.uid},
        "spec": {"instanceId": instance_id, **{k: spec[k] for k in keys if k in spec}},
    }
    return AuraInstance.from_body(body)


async def client_for(ctx: OperatorContext, holder: AuraInstance) -> AuraClient:
    return await ctx.credentials.client_for(holder)


def search_dates(requested_at: datetime, now: datetime) -> list[str]:
    """The UTC days whose snapshot lists can hold a snapshot taken since `requested_at`: its
    day (less the clock skew) through today; two days when the intent is near midnight."""
    first = (requested_at - CLOCK_SKEW).astimezone(UTC).date()
    last = max(now.astimezone(UTC).date(), first)
    days: list[str] = []
    day = first
    while day <= last and len(days) < 3:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def adhoc_since(snapshots: list[Snapshot], requested_at: datetime) -> list[Snapshot]:
    earliest = requested_at - CLOCK_SKEW
    return [
        s
        for s in snapshots
        if s.profile == "AdHoc" and (s.timestamp is None or s.timestamp >= earliest)
    ]


async def claimed_elsewhere(
    ctx: OperatorContext, plural: str, ref: ObjectRef, instance_id: str
) -> set[str]:
    """The AdHoc snapshots of `instance_id` that other objects in the namespace already hold:
    the `snapshotId` of every other AuraSnapshot and the `safetySnapshotId` of every other
    AuraRestore. None of them can be the answer to this object's lost request."""
    claimed: set[str] = set()
    for kind, key in ((SNAPSHOT_PLURAL, "snapshotId"), (RESTORE_PLURAL, "safetySnapshotId")):
        for body in await ctx.kube.list_objects(kind, ref.namespace):
            meta, status = body.get("metadata") or {}, body.get("status") or {}
            if kind == plural and meta.get("uid") == ref.uid:
                continue
            if status.get(key) and status.get("instanceId") == instance_id:
                claimed.add(str(status[key]))
    return claimed


async def find_adhoc(
    bp: BackupPass,
    aura: AuraClient,
    instance_id: str,
    requested_at: datetime,
    owner: tuple[str, ObjectRef],
) -> list[Snapshot]:
    """AdHoc snapshots of the instance taken since the intent (by `?date=` list) that no other
    object of the namespace holds (`owner`: the plural and ref of the object looking)."""
    found: dict[str, Snapshot] = {}
    for day in search_dates(requested_at, bp.now):
        for snapshot in adhoc_since(await aura.list_snapshots(instance_id, date=day), requested_at):
            found[snapshot.snapshot_id] = snapshot
    if found:
        for snapshot_id in await claimed_elsewhere(bp.ctx, *owner, instance_id):
            found.pop(snapshot_id, None)
    return sorted(found.values(), key=lambda s: (s.timestamp is None, s.timestamp))
