"""professional-db -> business-critical in place: `POST /instances/{id}/upgrade`, sent once.

The only type change Aura makes on a live instance (the CRD's CEL rule and validation.py allow
that one direction and no other). Like a create, the request has no idempotency key, so the
intent (`status.upgrade`) is written conditionally on the object's resourceVersion before the
POST; a pass that finds intent on a professional-db instance reads its state: `updating` means
Aura took it; still `running` once the visibility window after the request has passed means it
never arrived, and it is sent again. While Aura upgrades, the instance is Ready=True/Updating
(it stays available); when the type reads business-critical an `Upgraded` event is posted and
the intent is cleared.
"""

from __future__ import annotations

from typing import Any

from aura_operator.aura import AuraConflict, AuraError, AuraOutcomeUnknown, Instance
from aura_operator.kinds.instance.create import invalid_spec
from aura_operator.kinds.instance.instance_pass import InstancePass
from aura_operator.kinds.instance.model import PLURAL
from aura_operator.kinds.instance.validation import is_upgrade
from aura_operator.runtime import intents
from aura_operator.runtime.conditions import now_iso
from aura_operator.runtime.model import SpecProblem
from aura_operator.runtime.outcome import Outcome, synced_ok

UPGRADED_TO = "business-critical"


def wants_upgrade(p: InstancePass, instance: Instance) -> bool:
    return is_upgrade(p.obj.spec.type, instance.type)


def finished(p: InstancePass, instance: Instance) -> dict[str, Any]:
    """Status fields (and the event) once a recorded upgrade has landed; {} otherwise."""
    if p.obj.status.upgrade is None or instance.type != UPGRADED_TO or instance.is_transient:
        return {}
    p.events.event(
        "Normal", "Upgraded", f"instance {instance.id} is now {UPGRADED_TO} (same id and URL)"
    )
    return {"upgrade": None}


async def _offered(p: InstancePass, instance: Instance) -> SpecProblem | None:
    tenant = await p.ctx.tenants.tenant(p.client, instance.tenant_id or p.obj.spec.tenant_id or "")
    memory = p.obj.spec.memory or instance.memory
    pool = {
        c.memory
        for c in tenant.instance_configurations
        if c.type == UPGRADED_TO
        and c.cloud_provider == instance.cloud_provider
        and c.region == instance.region
    }
    if pool and memory not in pool:
        return SpecProblem(
            "spec.memory",
            f'spec.memory "{memory}" is not offered for {UPGRADED_TO} in '
            f"{instance.cloud_provider}/{instance.region}, so the upgrade cannot be made; "
            f"allowed: {', '.join(sorted(pool, key=lambda m: int(m.removesuffix('GB'))))}",
        )
    return None


async def upgrade(p: InstancePass, instance: Instance) -> Outcome:
    """The instance is running as professional-db and the spec says business-critical."""
    intent = p.obj.status.upgrade
    if intent is not None:
        left = intents.window_left(intent, p.settings, p.now)
        if left > 0:
            message = (
                f"the upgrade request of {now_iso(intent.requested_at)} has an unknown outcome; "
                f"watching the instance for {left:.0f}s before sending it again"
            )
            return intents.still_looking(message, left, p.settings)
        p.events.event(
            "Normal", "UpgradeNotFound", "the earlier upgrade request never took effect; resending"
        )
    problem = await _offered(p, instance)
    if problem is not None:
        return invalid_spec(problem, p.events)
    record = intents.new_record(p.now)
    fence = await intents.record(p.ctx, PLURAL, p.obj.ref, {"upgrade": record})
    if fence is not intents.Fence.WRITTEN:
        return intents.fenced(fence)
    return await _send(p, instance, record)


async def _send(p: InstancePass, instance: Instance, record: dict[str, Any]) -> Outcome:
    """`POST /instances/{id}/upgrade`, once (the intent is recorded)."""
    obj, events = p.obj, p.events
    memory = obj.spec.memory if obj.spec.memory and obj.spec.memory != instance.memory else None
    storage = obj.spec.storage or instance.storage if memory else None
    events.event(
        "Normal", "Upgrading", f"upgrading instance {instance.id}: professional-db→{UPGRADED_TO}"
    )
    try:
        result = await p.client.upgrade_instance(instance.id, memory=memory, storage=storage)
    except AuraOutcomeUnknown as exc:
        message = f"the upgrade request got no answer ({exc.message}); watching the instance"
        return intents.unanswered(
            "upgrade", record, message, events, p.settings, reason="UpgradeOutcomeUnknown"
        )
    except AuraConflict as exc:
        return Outcome(
            conditions=[synced_ok(f"Aura is busy with another operation ({exc.message})")],
            status={"upgrade": None},
            requeue_after=p.settings.poll_interval,
        )
    except AuraError as exc:  # refused (4xx): nothing happened; forget the intent
        return intents.refused("upgrade", exc, events)
    state = result.status or "updating"
    if state == "running" and result.type == UPGRADED_TO:
        events.event("Normal", "Upgraded", f"instance {instance.id} is now {UPGRADED_TO}")
        return Outcome(
            conditions=[synced_ok("upgraded to business-critical")],
            status={"upgrade": None, "type": UPGRADED_TO, "state": state},
            requeue_after=0.0,
        )
    return Outcome(
        conditions=[synced_ok(f"upgrade to {UPGRADED_TO} requested")],
        status={"state": state},
        transient=state if state != "running" else "updating",
        initiated=True,
    )
