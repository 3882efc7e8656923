"""kopf start-up: the operator's kopf settings, set explicitly in one place.

kopf's defaults would store finalizers, progress and the diff base under `kopf.zalando.org`;
this operator keeps everything it writes on user objects under its own `aura-operator.dev`
prefix, so a user can tell at a glance which controller owns which key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Collection
from typing import Any

import kopf

from aura_operator.runtime.model import MANAGED_BY, OPERATOR

GROUP = "aura-operator.dev"
FINALIZER = f"{GROUP}/finalizer"


def configure(
    settings: kopf.OperatorSettings, selector: str = "", plurals: Collection[str] = ()
) -> None:
    """Apply the operator's kopf settings (pure: tested without a cluster). `selector`
    (`--selector`, canonical form) narrows the watches of the kinds `plurals` on the API
    server: this process never sees, adds a finalizer to or writes the status of an object
    it does not select."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    # Replicas elect their leader through a Lease of our own (leader.py), not kopf's peering
    # objects; no cluster-wide CRD scanning either, so the RBAC it needs stays small.
    settings.peering.standalone = True
    settings.scanning.disabled = True
    settings.posting.level = logging.INFO
    settings.posting.reporting_component = "aura-operator"
    settings.posting.reporting_instance = socket.gethostname()
    settings.posting.event_name_prefix = "aura-operator-"
    # Only the Secrets this operator manages are streamed, selected by the API server: kopf's
    # `labels=` filter alone is applied client-side, after every Secret (with its data) of
    # every watched namespace has been read.
    settings.watching.label_selectors["", "v1", "secrets"] = f"{MANAGED_BY}={OPERATOR}"
    if selector:
        kinds = frozenset(plurals)
        settings.watching.label_selectors[
            lambda resource: resource.group == GROUP and resource.plural in kinds
        ] = selector
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330


#: Longest wait at shutdown for passes in flight; within the chart's 60 s grace period.
SHUTDOWN_GRACE = 45.0


@kopf.on.startup()
async def on_startup(
    settings: kopf.OperatorSettings,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """Configure kopf, build the process-wide context, and join the leader election."""
    from aura_operator.kube.api import Kube
    from aura_operator.runtime.context import OperatorContext
    from aura_operator.runtime.controller import REGISTERED
    from aura_operator.runtime.leader import Leadership, LeaseElector, LeaseTiming
    from aura_operator.runtime.settings import Settings

    operator_settings = Settings()
    configure(settings, operator_settings.selector or "", REGISTERED)
    kube = Kube()
    leadership = Leadership.always()
    election = "off"
    if operator_settings.leader_election and operator_settings.namespace:
        leadership = Leadership()
        elector = LeaseElector(
            kube,
            leadership,
            namespace=operator_settings.namespace,
            name=operator_settings.lease_name,
            identity=f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}",
            timing=LeaseTiming(
                operator_settings.lease_duration,
                operator_settings.lease_renew_deadline,
                operator_settings.lease_retry_period,
            ),
        )
        await elector.try_once()  # a lone replica leads from its first pass on
        memo["elector"] = elector
        memo["election"] = asyncio.create_task(elector.run(), name="leader-election")
        election = f"Lease {operator_settings.namespace}/{operator_settings.lease_name}"
    elif operator_settings.leader_election:
        logger.warning(
            "leader election is off: the operator's namespace is unknown "
            "(AURA_OPERATOR_NAMESPACE or POD_NAMESPACE); run one replica only"
        )
    claims = None
    if operator_settings.namespace:
        from aura_operator.kube.claim_store import KubeClaimStore

        claims = KubeClaimStore(operator_settings.namespace)
    else:
        logger.warning(
            "claims of Aura objects are kept in memory: the operator's namespace is unknown "
            "(AURA_OPERATOR_NAMESPACE or POD_NAMESPACE); run one replica only"
        )
    context = OperatorContext(operator_settings, kube, leadership, claims)
    leadership.on_change(context.metrics.leader.set)
    context.metrics.leader.set(leadership.is_leading)
    context.metrics.serve(operator_settings.metrics_port)
    memo["context"] = context
    logger.info(
        "aura-operator: api %s, budget %g/min per credential, backups %s, default deletion "
        "policy %s, leader election %s, objects %s%s",
        operator_settings.api_url,
        operator_settings.requests_per_minute,
        f"in namespace {operator_settings.namespace}"
        if operator_settings.backup_secrets and operator_settings.namespace
        else "off",
        operator_settings.default_deletion_policy,
        election,
        f"selected by {operator_settings.selector}" if operator_settings.selector else "all",
        ", dry run: only GETs are sent" if operator_settings.dry_run else "",
    )


@kopf.on.cleanup()
async def on_cleanup(
    memo: kopf.Memo, logger: logging.Logger | logging.LoggerAdapter[Any], **_: Any
) -> None:
    """Let the passes in flight finish (a create records its outcome), then give up the Lease
    and close the clients."""
    context = memo.get("context")
    passes = context.objects.in_flight() if context is not None else []
    if passes:
        logger.info("waiting for %d pass(es) in flight to finish", len(passes))
        _done, pending = await asyncio.wait(passes, timeout=SHUTDOWN_GRACE)
        if pending:
            logger.warning("%d pass(es) still running at shutdown", len(pending))
    task = memo.get("election")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    elector = memo.get("elector")
    if elector is not None:
        await elector.release()  # a standby takes over in one retry period
    if context is not None:
        await context.aclose()
