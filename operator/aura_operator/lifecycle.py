"""kopf start-up: the operator's kopf settings, set explicitly in one place.

kopf's defaults would store finalizers, progress and the diff base under `kopf.zalando.org`;
this operator keeps everything it writes on user objects under its own `aura-operator.dev`
prefix, so a user can tell at a glance which controller owns which key.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import kopf

GROUP = "aura-operator.dev"
FINALIZER = f"{GROUP}/finalizer"


def configure(settings: kopf.OperatorSettings) -> None:
    """Apply the operator's kopf settings (pure: tested without a cluster)."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    # The operator runs as one replica (Deployment strategy Recreate): no peering objects, and
    # no cluster-wide CRD scanning, so the RBAC it needs stays small.
    settings.peering.standalone = True
    settings.scanning.disabled = True
    settings.posting.level = logging.INFO
    settings.posting.reporting_component = "aura-operator"
    settings.posting.reporting_instance = socket.gethostname()
    settings.posting.event_name_prefix = "aura-operator-"
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330


@kopf.on.startup()
async def on_startup(
    settings: kopf.OperatorSettings,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    """Configure kopf and build the process-wide context (settings, Kubernetes, Aura)."""
    from aura_operator.context import OperatorContext
    from aura_operator.kube import Kube
    from aura_operator.settings import Settings

    configure(settings)
    operator_settings = Settings()
    context = OperatorContext(operator_settings, Kube())
    context.metrics.serve(operator_settings.metrics_port)
    memo["context"] = context
    logger.info(
        "aura-operator: api %s, budget %g/min per credential, backups %s, default deletion "
        "policy %s",
        operator_settings.api_url,
        operator_settings.requests_per_minute,
        f"in namespace {operator_settings.namespace}"
        if operator_settings.backup_secrets and operator_settings.namespace
        else "off",
        operator_settings.default_deletion_policy,
    )


@kopf.on.cleanup()
async def on_cleanup(memo: kopf.Memo, **_: Any) -> None:
    context = memo.get("context")
    if context is not None:
        await context.aclose()
