"""Deleting an AuraInstance: delete or keep the Aura instance, and keep the Secret safe.

- `Retain` (the operator's default) and `ObserveOnly`: the Aura instance is kept, and so is the
  connection Secret: its owner reference is removed first so that garbage collection does not
  take it with the object.
- `Delete`: the instance is deleted (202, or 404 if already gone) and the finalizer is released
  only once Aura answers 404; the Secret then goes with its owner, and the backup is removed.
  A create whose outcome is still open is resolved first (the instance is looked for by name
  and time until the visibility window has passed), so deletion never outruns a create.
- The annotation `aura-operator.dev/force-finalize: "true"` releases a finalizer that can no
  longer succeed (credential gone), with an event: the controller does that for every kind;
  the AuraInstance's part (`force_finalize` in its registration) keeps the Secret.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from aura_operator.aura import AuraConflict, AuraNotFound
from aura_operator.kinds.instance.create import find_matches
from aura_operator.kinds.instance.instance_pass import InstancePass
from aura_operator.runtime import intents
from aura_operator.runtime.controller import DONE, Finalization


async def finalize(p: InstancePass) -> Finalization:
    """One attempt at finalizing; raises (AuraError, CredentialsProblem, KubeError) on trouble,
    which the controller turns into a retry through classify.py. `p.now` is what the
    visibility window is measured against."""
    obj, ctx, events = p.obj, p.ctx, p.events
    policy = obj.spec.deletion_policy or ctx.settings.default_deletion_policy
    if policy == "Retain" or obj.observe_only:
        released = await ctx.secrets.release(obj)
        kept = f" and Secret {obj.connection_secret_name}" if released else ""
        events.event(
            "Normal",
            "Retained",
            f"kept Aura instance {obj.instance_id or '(none)'}{kept} (deletionPolicy Retain)",
        )
        return DONE
    aura = await ctx.credentials.client_for(obj)
    return await _delete(p.with_client(aura))


async def _find_created(p: InstancePass) -> str | Finalization:
    """The id of the instance an open create may have made, or what to do instead.

    A create whose response was lost can still surface in Aura's list for a while (the list
    lags): the finalizer waits out the same visibility window the create path respects, so
    that deleting the object never leaves a billed instance behind.
    """
    intent = p.obj.status.creation
    if intent is None:
        return DONE  # nothing was ever requested
    matches = find_matches(await p.client.list_instances(), intent)
    if len(matches) > 1:
        ids = ", ".join(m.id for m in matches)
        return Finalization(
            p.settings.error_backoff_max,
            f"several instances may belong to this object ({ids}); delete them in the Aura "
            'console and set aura-operator.dev/force-finalize: "true"',
        )
    if matches:
        return matches[0].id
    left = intents.window_left(intent, p.settings, p.now)
    if left > 0:
        return Finalization(
            intents.look_again_in(left, p.settings),
            f"the create request for {intent.name!r} has an unknown outcome; looking for the "
            f"instance for {left:.0f}s more so that it can be deleted",
        )
    p.events.event(
        "Normal",
        "CreateNotFound",
        f"no instance named {intent.name!r} appeared after the create request; nothing to delete",
    )
    return DONE


async def _delete(p: InstancePass) -> Finalization:
    found = p.obj.instance_id or await _find_created(p)
    if isinstance(found, Finalization):
        return found
    instance_id, aura, events = found, p.client, p.events
    poll = p.settings.poll_interval
    try:
        instance = await aura.get_instance(instance_id)
    except AuraNotFound:
        return await _not_found(p, instance_id)
    if instance.status == "destroying":
        return Finalization(poll, f"Aura is deleting {instance_id}")
    try:
        await aura.delete_instance(instance_id)
    except AuraNotFound:
        return await _not_found(p, instance_id)
    except AuraConflict as exc:
        return Finalization(
            poll, f"instance {instance_id} is busy ({exc.message}); deleting it when it settles"
        )
    events.event("Normal", "Deleting", f"deleting Aura instance {instance_id}")
    # Recorded so that the next attempt knows which instance it waits for (one found by name
    # after a lost create answer is not in the status yet) and that its 404 means gone.
    return Finalization(
        poll,
        f"Aura is deleting {instance_id}",
        status={"instanceId": instance_id, "state": "destroying"},
    )


async def _not_found(p: InstancePass, instance_id: str) -> Finalization:
    """Aura answers 404. Gone, unless it is this object's own create that Aura does not show
    yet: a GET lags a create by a few seconds, and a finalizer released then would leave a
    billed instance behind. Such a 404 is trusted only after the visibility window."""
    intent, status = p.obj.status.creation, p.obj.status
    just_created = status.instance_id == instance_id and status.state in (None, "creating")
    if intent is not None and just_created:
        # The id came from the create's answer, so the window runs from the request (not from
        # the latest moment an unanswered POST could have arrived, as for an unknown outcome).
        start = (intent.unanswered_at or intent.requested_at).astimezone(UTC)
        window = timedelta(seconds=p.settings.create_visibility_window)
        left = (start + window - p.now).total_seconds()
        if left > 0:
            return Finalization(
                max(1.0, min(left, p.settings.poll_interval)),
                f"Aura does not show the new instance {instance_id} (yet); looking for it for "
                f"{left:.0f}s more so that it can be deleted",
            )
    return await _gone(p, instance_id)


async def _gone(p: InstancePass, instance_id: str) -> Finalization:
    await p.ctx.secrets.delete_backup(instance_id)
    p.events.event("Normal", "Deleted", f"Aura instance {instance_id} is gone")
    return DONE
