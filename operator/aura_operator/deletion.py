"""Deleting an AuraInstance: delete or keep the Aura instance, and keep the Secret safe.

- `Retain` (the operator's default) and `ObserveOnly`: the Aura instance is kept, and so is the
  connection Secret: its owner reference is removed first so that garbage collection does not
  take it with the object.
- `Delete`: the instance is deleted (202, or 404 if already gone) and the finalizer is released
  only once Aura answers 404; the Secret then goes with its owner, and the backup is removed.
- The annotation `aura-operator.dev/force-finalize: "true"` releases a finalizer that can no
  longer succeed (credential gone), with an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from aura_operator.aura import AuraConflict, AuraNotFound
from aura_operator.context import OperatorContext
from aura_operator.creation import find_matches
from aura_operator.outcome import Recorder
from aura_operator.resource import AuraInstance


@dataclass(frozen=True)
class Finalization:
    """None of `retry_after` means done: the finalizer may go."""

    retry_after: float | None
    message: str = ""


DONE = Finalization(None)


async def finalize(obj: AuraInstance, ctx: OperatorContext, events: Recorder) -> Finalization:
    """One attempt at finalizing; raises AuraError/CredentialsProblem/KubeError on trouble."""
    policy = obj.spec.deletion_policy or ctx.settings.default_deletion_policy
    instance_id = obj.instance_id
    if obj.force_finalize:
        events.event(
            "Warning",
            "ForceFinalized",
            "finalizer released by aura-operator.dev/force-finalize without deleting "
            f"the Aura instance {instance_id or '(none)'}; check the Aura console for it",
        )
        await ctx.secrets.release(obj)
        return DONE
    if policy == "Retain" or obj.observe_only:
        released = await ctx.secrets.release(obj)
        kept = f" and Secret {obj.connection_secret_name}" if released else ""
        events.event(
            "Normal",
            "Retained",
            f"kept Aura instance {instance_id or '(none)'}{kept} (deletionPolicy Retain)",
        )
        return DONE

    aura = await ctx.client_for(obj)
    if not instance_id:
        intent = obj.status.creation
        if intent is None:
            return DONE  # nothing was ever requested
        matches = find_matches(
            await aura.list_instances(), intent.name, intent.requested_at, intent.discarded_ids
        )
        if not matches:
            return DONE
        if len(matches) > 1:
            ids = ", ".join(m.id for m in matches)
            return Finalization(
                ctx.settings.error_backoff_max,
                f"several instances may belong to this object ({ids}); delete them in the Aura "
                'console and set aura-operator.dev/force-finalize: "true"',
            )
        instance_id = matches[0].id
    try:
        instance = await aura.get_instance(instance_id)
    except AuraNotFound:
        await ctx.secrets.delete_backup(instance_id)
        events.event("Normal", "Deleted", f"Aura instance {instance_id} is gone")
        return DONE
    if instance.status == "destroying":
        return Finalization(ctx.settings.poll_interval, f"Aura is deleting {instance_id}")
    try:
        await aura.delete_instance(instance_id)
    except AuraNotFound:
        await ctx.secrets.delete_backup(instance_id)
        events.event("Normal", "Deleted", f"Aura instance {instance_id} is gone")
        return DONE
    except AuraConflict as exc:
        return Finalization(
            ctx.settings.poll_interval,
            f"instance {instance_id} is busy ({exc.message}); deleting it when it settles",
        )
    events.event("Normal", "Deleting", f"deleting Aura instance {instance_id}")
    return Finalization(ctx.settings.poll_interval, f"Aura is deleting {instance_id}")
