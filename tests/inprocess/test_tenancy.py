"""Namespaces are the boundary (issue 19), decided in-process on the real controller path:
one manager per Aura object, references into another namespace only by grant, deletion
protection. The same scenarios on a real API server: tests/e2e/test_tenancy.py."""

from __future__ import annotations

import asyncio
from typing import Any

from aura_operator.kinds.instance.registration import INSTANCE
from aura_operator.kinds.restore.model import RESTORE_KIND, RESTORE_PLURAL
from aura_operator.kinds.restore.registration import RESTORE
from aura_operator.runtime.claims import AuraObject
from aura_operator.runtime.grants import GRANT_KIND, GRANT_PLURAL
from tests.inprocess.harness import NS, SPEC, Harness, PassResult, condition

OTHER = "other"


async def owned(h: Harness, name: str = "owner", **fields: Any) -> str:
    """An AuraInstance in NS that created its instance, running; the log starts empty."""
    h.apply(name, deletionPolicy="Retain", **fields)
    settled = await h.settle(name)
    h.sim.requests.clear()
    instance_id: str = settled.status["instanceId"]
    return instance_id


async def pass_in(h: Harness, namespace: str, name: str) -> PassResult:
    return await h.pass_of(INSTANCE, name, namespace=namespace)


def grant(h: Harness, to_kind: str = "AuraInstance", from_kind: str = "AuraInstance") -> None:
    h.kube.add_object(
        GRANT_PLURAL,
        GRANT_KIND,
        NS,
        "let-other-in",
        {"from": [{"namespace": OTHER, "kind": from_kind}], "to": [{"kind": to_kind}]},
    )


def synced(result: PassResult) -> dict[str, Any]:
    return condition(result.obj, "Synced")


async def test_a_second_claimant_in_either_namespace_sends_nothing_and_gets_no_password(
    h: Harness,
) -> None:
    instance_id = await owned(h)
    assert h.backup(instance_id) is not None
    h.apply("copycat", memory="4GB", instanceId=instance_id, deletionPolicy="Delete")
    h.kube.add_instance(OTHER, "intruder", {**SPEC, "memory": "8GB", "instanceId": instance_id})

    for result in (await h.run_pass("copycat"), await pass_in(h, OTHER, "intruder")):
        assert synced(result)["status"] == "False"
        assert synced(result)["reason"] == "AlreadyManaged"
        assert f"AuraInstance {NS}/owner" in synced(result)["message"]
        assert "AlreadyManaged" in result.reasons()
    assert h.changes() == []
    assert h.secret("copycat-connection") is None
    assert h.kube.secret(OTHER, "intruder-connection") is None

    again = await h.run_pass("copycat")  # nothing new: no second event
    assert again.reasons() == []

    h.kube.mark_deleted(NS, "copycat")
    gone = await h.finalize("copycat")
    assert gone.done and "LeftAlone" in gone.reasons()
    assert h.changes() == []
    assert h.sim_status(instance_id) == "running"


async def test_the_next_claimant_takes_over_when_the_manager_lets_go(h: Harness) -> None:
    instance_id = await owned(h)
    h.apply("heir", instanceId=instance_id)
    refused = await h.run_pass("heir")
    assert synced(refused)["reason"] == "AlreadyManaged"
    heir_uid = refused.obj["metadata"]["uid"]

    h.kube.mark_deleted(NS, "owner")
    released = await h.finalize("owner")
    assert released.done and "Retained" in released.reasons()
    assert h.ctx.objects.get(heir_uid).wake.is_set()  # woken at once, not at its next recheck

    took = await h.run_pass("heir")
    assert "TookOver" in took.reasons()
    assert synced(took)["status"] == "True"
    assert h.secret("heir-connection") is not None  # the handed-over password
    (record,) = h.claims.records()
    assert (record.manager.name, record.target) == ("heir", AuraObject("instance", instance_id))


async def test_two_replicas_claiming_at_once_give_one_manager(h: Harness) -> None:
    instance_id = await h.console_instance("shared")
    second = h.add_replica()
    h.apply("left", instanceId=instance_id)
    h.apply("right", instanceId=instance_id)
    left, right = await asyncio.gather(h.run_pass("left"), h.run_pass("right", replica=second))
    reasons = sorted([synced(left)["reason"], synced(right)["reason"]])
    assert reasons == ["AlreadyManaged", "ReconcileSuccess"]
    assert len(h.claims.records()) == 1


async def test_an_existing_manager_claims_on_its_next_pass(h: Harness) -> None:
    """An object from before claims existed (status.instanceId, no claim) claims on its next
    pass; the first to claim wins."""
    await owned(h)
    h.claims._claims.clear()  # as after an upgrade: no claim recorded yet
    upgraded = h.add_replica()  # the new operator process
    first = await h.run_pass("owner", replica=upgraded)
    assert "Claimed" in first.reasons()
    assert h.claims.records()[0].manager.name == "owner"


async def test_a_cross_namespace_clone_is_refused_until_the_namespace_grants_it(
    h: Harness,
) -> None:
    instance_id = await owned(h)
    h.kube.add_instance(OTHER, "copy", {**SPEC, "source": {"instanceId": instance_id}})
    refused = await pass_in(h, OTHER, "copy")
    assert synced(refused)["reason"] == "ReferenceNotPermitted"
    assert f"no AuraReferenceGrant in namespace {NS}" in synced(refused)["message"]
    assert h.posts() == []
    uid = refused.obj["metadata"]["uid"]
    assert h.ctx.admission.granted(NS) == [uid]  # a grant event in NS wakes it

    grant(h)
    allowed = await pass_in(h, OTHER, "copy")
    assert synced(allowed)["status"] == "True"
    assert [f"{r.method} {r.path} {r.status}" for r in h.posts()] == ["POST /v1/instances 202"]


async def test_a_cross_namespace_overwrite_is_refused_until_granted(h: Harness) -> None:
    source_id = await owned(h)
    target_id = await h.console_instance("mine")
    h.kube.add_instance(OTHER, "mine", {**SPEC, "instanceId": target_id})
    assert "Claimed" in (await pass_in(h, OTHER, "mine")).reasons()
    h.sim.requests.clear()
    h.kube.add_object(
        RESTORE_PLURAL,
        RESTORE_KIND,
        OTHER,
        "refresh",
        {"instanceRef": {"name": "mine"}, "source": {"instanceId": source_id}},
    )
    refused = await h.pass_of(RESTORE, "refresh", namespace=OTHER)
    assert synced(refused)["reason"] == "ReferenceNotPermitted"
    assert h.changes() == []

    grant(h, from_kind="AuraRestore")
    allowed = await h.pass_of(RESTORE, "refresh", namespace=OTHER)
    assert allowed.status.get("phase") == "SnapshottingTarget"


async def test_unmanaged_instances_follow_the_setting(h: Harness) -> None:
    instance_id = await h.console_instance("console-made")
    h.ctx.settings.unmanaged_objects = "Deny"
    h.apply("copy", source={"instanceId": instance_id})
    refused = await h.run_pass("copy")
    assert synced(refused)["reason"] == "ReferenceNotPermitted"
    assert "managed by no object" in synced(refused)["message"]
    assert h.posts() == []


async def test_observing_a_managed_instance_never_restores_its_password(h: Harness) -> None:
    instance_id = await owned(h)
    h.apply("watcher", instanceId=instance_id, managementPolicy="ObserveOnly")
    observed = await h.run_pass("watcher")
    assert synced(observed)["status"] == "True"
    secret = h.secret("watcher-connection")
    assert secret is not None and not secret.get("password")


async def test_deletion_protection_holds_until_the_field_is_false(h: Harness) -> None:
    instance_id = await owned(h, deletionProtection=True)
    h.kube.edit_instance(NS, "owner", spec={"deletionPolicy": "Delete"})
    h.kube.mark_deleted(NS, "owner")
    held = await h.finalize("owner")
    assert not held.done and "DeletionProtected" in held.reasons()
    obj = h.obj("owner")
    assert condition(obj, "Synced")["reason"] == "DeletionProtected"
    assert h.changes() == []
    assert (await h.finalize("owner")).reasons() == []  # held still: said once

    h.kube.edit_instance(NS, "owner", spec={"deletionProtection": False})
    deleting = await h.finalize("owner")
    assert "Deleting" in deleting.reasons()
    assert h.changes() == [f"DELETE /v1/instances/{instance_id} 202"]


async def test_the_operator_default_protects_objects_that_do_not_say(h: Harness) -> None:
    await owned(h)
    h.ctx.settings.default_deletion_protection = True
    h.kube.mark_deleted(NS, "owner")
    held = await h.finalize("owner")
    assert not held.done
    assert (
        "AURA_OPERATOR_DEFAULT_DELETION_PROTECTION"
        in condition(h.obj("owner"), "Synced")["message"]
    )


async def test_removing_spec_instance_id_lets_go_and_the_next_claimant_takes_over(
    h: Harness,
) -> None:
    instance_id = await h.console_instance("adopted")
    h.apply("first", instanceId=instance_id, deletionPolicy="Delete")
    assert "Claimed" in (await h.run_pass("first")).reasons()
    h.apply("heir", instanceId=instance_id)
    heir_uid = (await h.run_pass("heir")).obj["metadata"]["uid"]

    h.kube.edit_instance(NS, "first", spec={"instanceId": None})
    let_go = await h.run_pass("first")
    assert "Released" in let_go.reasons()
    assert synced(let_go)["status"] == "False"
    assert "let go of instance" in synced(let_go)["message"]
    assert h.ctx.objects.get(heir_uid).wake.is_set()
    assert "TookOver" in (await h.run_pass("heir")).reasons()

    h.sim.requests.clear()
    h.kube.mark_deleted(NS, "first")
    gone = await h.finalize("first")  # deletionPolicy Delete, but it let go: nothing deleted
    assert gone.done and "LeftAlone" in gone.reasons()
    assert h.changes() == []
    assert h.sim_status(instance_id) == "running"
