"""The AuraCredential finalizer through the production controller: it waits for the users
index, holds the credential while an object names it (event, Deleting condition), reads each
user again (a missed watch event cannot hold it forever), and lets go once none is left."""

from __future__ import annotations

from aura_operator.kinds.credential.registration import CREDENTIAL, USERS_WARMUP
from aura_operator.kinds.instance.registration import INSTANCE
from aura_operator.runtime.controller import nudge
from tests.inprocess.harness import NS, SPEC, Harness, add_credential, condition

CREDENTIALS = "auracredentials"


async def test_a_credential_in_use_is_held_until_no_object_names_it(h: Harness) -> None:
    add_credential(h)
    h.apply("orders", SPEC, credentialRef={"name": "team-a"})
    nudge(INSTANCE, h.ctx, h.obj("orders"), "ADDED")  # what the watch delivers

    early = await h.finalize_of(CREDENTIAL, "team-a", namespace="")
    assert early.result is not None and early.result.retry_after == 2.0
    assert "Deleting" not in str(h.kube.object(CREDENTIALS, "", "team-a").get("status"))

    h.ctx.credentials.users.started -= USERS_WARMUP  # the watches have listed every object
    held = await h.finalize_of(CREDENTIAL, "team-a", namespace="")
    assert held.result is not None
    assert held.result.retry_after == h.settings.credential_status_interval
    assert f"AuraInstance {NS}/orders" in held.result.message
    assert "CredentialInUse" in held.reasons()
    ready = condition(h.kube.object(CREDENTIALS, "", "team-a"), "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Deleting")

    # The object stops naming it, and the watch event is missed: the finalizer reads it again.
    h.kube.edit_instance(NS, "orders", spec={"credentialRef": None})
    released = await h.finalize_of(CREDENTIAL, "team-a", namespace="")
    assert released.done
    assert "CredentialInUse" not in released.reasons()
    assert h.ctx.credentials.users.users("team-a") == []


async def test_a_deleted_user_releases_the_credential(h: Harness) -> None:
    add_credential(h)
    h.apply("orders", SPEC, credentialRef={"name": "team-a"})
    body = h.obj("orders")
    nudge(INSTANCE, h.ctx, body, "ADDED")
    h.ctx.credentials.users.started -= USERS_WARMUP
    assert not (await h.finalize_of(CREDENTIAL, "team-a", namespace="")).done

    nudge(INSTANCE, h.ctx, body, "DELETED")
    assert (await h.finalize_of(CREDENTIAL, "team-a", namespace="")).done
