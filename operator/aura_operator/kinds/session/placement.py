"""Where and how big a session is: the spec checked, the instance or project it runs in, the
client of its credential, and its memory (spec.memory, or Aura's recommendation for
spec.sizing, asked once per sizing input).

An attached session uses its AuraInstance's credential unless it names its own; a standalone
one its own (or the operator's), in spec.tenantId or the credential's only tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from aura_operator.aura import AuraClient
from aura_operator.kinds.instance.model import PLURAL as INSTANCES
from aura_operator.kinds.instance.model import AuraInstance
from aura_operator.kinds.session.model import AuraGraphAnalyticsSession, SizingStatus
from aura_operator.kinds.session.secret import Attachment
from aura_operator.runtime import tenants
from aura_operator.runtime.conditions import READY, ConditionUpdate, Status, SyncedReason
from aura_operator.runtime.controller import Pass
from aura_operator.runtime.model import SpecProblem
from aura_operator.runtime.outcome import Outcome, synced_false, synced_ok

#: The controller's one `Pass` type, of an AuraGraphAnalyticsSession.
SessionPass: TypeAlias = Pass[AuraGraphAnalyticsSession]


class SessionReason:
    """Ready reasons of an AuraGraphAnalyticsSession (docs/sessions.md lists them)."""

    PENDING = "Pending"
    CREATING = "Creating"
    AVAILABLE = "Available"
    EXPIRED = "Expired"
    FAILED = "Failed"


@dataclass(frozen=True)
class Placement:
    """Where the session runs, and the client that asks Aura for it."""

    aura: AuraClient
    tenant_id: str | None
    attached: Attachment | None
    cloud_provider: str | None = None
    region: str | None = None


def ready(status: Status, reason: str, message: str) -> ConditionUpdate:
    return ConditionUpdate(READY, status, reason, message)


def spec_problem(obj: AuraGraphAnalyticsSession) -> SpecProblem | None:
    """What no request can fix (the CRD says the same; older API servers skip its CEL)."""
    spec = obj.spec
    if (spec.memory is None) == (spec.sizing is None):
        return SpecProblem("spec.memory", "spec needs exactly one of memory and sizing")
    given = (("tenantId", spec.tenant_id), ("cloudProvider", spec.cloud_provider))
    standalone = [f for f, v in (*given, ("region", spec.region)) if v]
    if spec.instance_ref is not None and standalone:
        return SpecProblem(
            f"spec.{standalone[0]}",
            f"spec.{standalone[0]}: an attached session (spec.instanceRef) runs where its "
            "instance runs; remove tenantId, cloudProvider and region",
        )
    if spec.instance_ref is None and not (spec.cloud_provider and spec.region):
        return SpecProblem(
            "spec.instanceRef",
            "spec needs instanceRef (an attached session) or cloudProvider and region "
            "(a standalone one)",
        )
    if obj.ttl is None or obj.ttl.total_seconds() <= 0:
        return SpecProblem(
            "spec.ttl", f"spec.ttl {spec.ttl!r} is not a duration such as 30m, 1h or 1h30m"
        )
    return None


def invalid(p: SessionPass, message: str, *, requeue: float | None = None) -> Outcome:
    p.events.event("Warning", SyncedReason.INVALID_SPEC, message)
    return Outcome(
        conditions=[
            ready("False", SessionReason.PENDING, "no session yet"),
            synced_false(SyncedReason.INVALID_SPEC, message),
        ],
        requeue_after=requeue,
    )


def waiting(p: SessionPass, message: str) -> Outcome:
    return Outcome(
        conditions=[ready("False", SessionReason.PENDING, message), synced_ok(message)],
        requeue_after=p.settings.poll_interval,
    )


def names_a_credential(obj: AuraGraphAnalyticsSession) -> bool:
    return obj.spec.credential_ref is not None or obj.spec.credentials_secret_ref is not None


async def target(p: SessionPass) -> AuraInstance | None:
    ref = p.obj.spec.instance_ref
    if ref is None:
        return None
    body = await p.ctx.kube.get_object(INSTANCES, p.obj.ref.namespace, ref.name)
    return AuraInstance.from_body(body) if body is not None else None


async def client_of(p: SessionPass) -> AuraClient:
    """The client of the session's credential (the finalizer: also once its instance is gone)."""
    instance = None if names_a_credential(p.obj) else await target(p)
    return await p.ctx.credentials.client_for(instance or p.obj)


async def resolve(p: SessionPass) -> Placement | Outcome:
    """The placement, or why there is none yet (bad spec, instance not there yet)."""
    problem = spec_problem(p.obj)
    if problem is not None:
        return invalid(p, problem.message)
    spec = p.obj.spec
    if spec.instance_ref is not None:
        instance = await target(p)
        name = spec.instance_ref.name
        if instance is None:
            return waiting(
                p, f"waiting for AuraInstance {name} (spec.instanceRef) in {p.obj.ref.namespace}"
            )
        if not instance.instance_id:
            return waiting(p, f"waiting for AuraInstance {name} to have an Aura instance")
        holder = p.obj if names_a_credential(p.obj) else instance
        attached = Attachment(instance.instance_id, instance.connection_secret_name)
        aura = await p.ctx.credentials.client_for(holder)
        return Placement(aura, instance.status.tenant_id or instance.spec.tenant_id, attached)
    aura = await p.ctx.credentials.client_for(p.obj)
    tenant = await tenants.resolve_tenant(p.ctx, aura, p.obj, spec.tenant_id)
    if isinstance(tenant, SpecProblem):
        return invalid(p, tenant.message)
    return Placement(aura, tenant, None, spec.cloud_provider, spec.region)


async def memory(p: SessionPass) -> tuple[str, dict[str, Any] | None]:
    """(the session size, the sizing status to record if the endpoint was asked now)."""
    spec, known = p.obj.spec, p.obj.status.sizing
    if spec.memory is not None:
        return spec.memory, None
    assert spec.sizing is not None
    if known is not None and known.answers(spec.sizing):
        return known.recommended_size, None
    answer = await p.client.estimate_session_size(
        node_count=spec.sizing.node_count,
        relationship_count=spec.sizing.relationship_count,
        algorithm_categories=spec.sizing.algorithm_categories or None,
    )
    sizing = SizingStatus(
        node_count=spec.sizing.node_count,
        relationship_count=spec.sizing.relationship_count,
        algorithm_categories=spec.sizing.algorithm_categories,
        estimated_memory=answer.estimated_memory,
        recommended_size=answer.recommended_size,
    )
    return answer.recommended_size, sizing.model_dump(by_alias=True)
