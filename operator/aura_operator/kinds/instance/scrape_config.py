"""spec.metrics.scrapeConfig: the Prometheus Operator ScrapeConfig that scrapes Aura's metrics.

Aura exports Prometheus metrics for Business Critical, Virtual Dedicated Cloud (`enterprise-db`)
and AuraDS Enterprise instances, at the instance's `metrics_integration_url`, behind OAuth2
client credentials of an Aura user with the Metrics Reader role (Aura docs, "Metrics
integration"; docs/aura-api.md §3.1). Users otherwise copy that scrape job into Prometheus by
hand. Here the operator owns one `monitoring.coreos.com/v1alpha1` ScrapeConfig per instance that
asks for it (or per eligible instance, with the chart-wide default): target and path from the
URL Aura gives, https, OAuth2 against Aura's token endpoint with the client id and secret taken
by Prometheus from a Secret the user names. The operator only names that Secret, never reads it.

It is owned through an owner reference (the garbage collector deletes it with the instance),
written by server-side apply only when it differs, and deleted when the spec stops asking for
it. Every outcome is one `MetricsScrapeConfig` condition; a missing CRD, an ineligible type or
a failed write never fails the pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aura_operator.aura import Instance
from aura_operator.kinds.instance.connection_secret import owner_reference
from aura_operator.kinds.instance.instance_pass import InstancePass
from aura_operator.kinds.instance.model import AuraInstance, ScrapeConfigSpec
from aura_operator.kube.api import KubeError
from aura_operator.runtime.conditions import (
    METRICS_SCRAPE_CONFIG,
    ConditionUpdate,
    MetricsReason,
    ReadyReason,
    Status,
    SyncedReason,
)
from aura_operator.runtime.model import MANAGED_BY, OPERATOR
from aura_operator.runtime.settings import Settings

API_VERSION = "monitoring.coreos.com/v1alpha1"
PLURAL = "scrapeconfigs"
KIND = "ScrapeConfig"
FIELD = "spec.metrics.scrapeConfig"
#: The instance types Aura exports metrics for.
ELIGIBLE_TYPES = frozenset({"business-critical", "enterprise-db", "enterprise-ds"})


def wanted(obj: AuraInstance, settings: Settings) -> ScrapeConfigSpec | None:
    """The ScrapeConfig this object asks for: its own, else the chart-wide default."""
    own = obj.spec.metrics.scrape_config if obj.spec.metrics else None
    if own is not None:
        if own.enabled and own.secret_name is None and settings.scrape_config_secret:
            return own.model_copy(update={"secret_name": settings.scrape_config_secret})
        return own if own.enabled else None
    if settings.scrape_config_secret:
        return ScrapeConfigSpec(secret_name=settings.scrape_config_secret)
    return None


def build(obj: AuraInstance, spec: ScrapeConfigSpec, url: str, token_url: str) -> dict[str, Any]:
    """The ScrapeConfig of `url` (Aura's metrics_integration_url), as applied."""
    target = urlsplit(url)
    secret = spec.secret_name or ""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": obj.ref.name,
            "namespace": obj.ref.namespace,
            "labels": {**spec.labels, MANAGED_BY: OPERATOR},
            "ownerReferences": [owner_reference(obj)],
        },
        "spec": {
            "scheme": "HTTPS",
            "metricsPath": target.path or "/",
            "scrapeInterval": spec.scrape_interval,
            "staticConfigs": [
                {
                    "targets": [target.netloc],
                    "labels": {"aura_instance": obj.ref.name, "aura_namespace": obj.ref.namespace},
                }
            ],
            "oauth2": {
                "clientId": {"secret": {"name": secret, "key": spec.client_id_key}},
                "clientSecret": {"name": secret, "key": spec.client_secret_key},
                "tokenUrl": token_url,
            },
        },
    }


def _owned(current: Mapping[str, Any], obj: AuraInstance) -> bool:
    refs = (current.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == obj.ref.uid and r.get("controller") for r in refs)


def _same(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Whether what the operator applies is already there (fields others add are theirs)."""
    have_spec, have_labels = current.get("spec") or {}, current["metadata"].get("labels") or {}
    return all(have_spec.get(k) == v for k, v in desired["spec"].items()) and all(
        have_labels.get(k) == v for k, v in desired["metadata"]["labels"].items()
    )


def _condition(status: Status, reason: str, message: str) -> ConditionUpdate:
    return ConditionUpdate(METRICS_SCRAPE_CONFIG, status, reason, message)


async def _remove(p: InstancePass) -> ConditionUpdate:
    kube, ns, name = p.ctx.kube, p.obj.ref.namespace, p.obj.ref.name
    current = await kube.get_foreign_object(API_VERSION, PLURAL, ns, name)
    if current is not None and _owned(current, p.obj):
        await kube.delete_foreign_object(API_VERSION, PLURAL, ns, name)
    return _condition("False", MetricsReason.DISABLED, f"{FIELD} is off: no ScrapeConfig")


def _not_yet(obj: AuraInstance, spec: ScrapeConfigSpec | None) -> ConditionUpdate | None:
    if spec is None:
        return None
    if not spec.secret_name:
        return _condition(
            "False",
            SyncedReason.INVALID_SPEC,
            f"{FIELD}.secretName: name the Secret in {obj.ref.namespace} with a Metrics "
            "Reader's client id and secret (or set the chart's metrics.auraScrapeConfig)",
        )
    return None


async def reconcile(p: InstancePass, instance: Instance) -> ConditionUpdate | None:
    """Apply, keep or delete the ScrapeConfig; the condition that says how it stands (None:
    metrics were never asked for, and nothing is shown)."""
    obj, kube = p.obj, p.ctx.kube
    spec = wanted(obj, p.settings)
    if spec is None:
        return await _remove(p) if obj.status.condition(METRICS_SCRAPE_CONFIG) else None
    kind = instance.type or obj.spec.type
    if kind not in ELIGIBLE_TYPES:
        return _condition(
            "False",
            MetricsReason.NOT_ELIGIBLE,
            f"Aura exports metrics for business-critical, enterprise-db and enterprise-ds "
            f"instances only; this one is {kind}",
        )
    problem = _not_yet(obj, spec)
    if problem is not None:
        return problem
    url = instance.metrics_integration_url
    if not url:
        return _condition("False", ReadyReason.PENDING, "Aura gives no metrics URL yet")
    desired = build(obj, spec, url, p.settings.token_url)
    ns, name = obj.ref.namespace, obj.ref.name
    try:
        current = await kube.get_foreign_object(API_VERSION, PLURAL, ns, name)
        if current is not None and not _owned(current, obj):
            return _condition(
                "False",
                SyncedReason.INVALID_SPEC,
                f"a ScrapeConfig {name} exists in {ns} and is not owned by this AuraInstance; "
                "delete or rename it",
            )
        if current is None or not _same(current, desired):
            await kube.apply_foreign_object(API_VERSION, PLURAL, ns, desired)
    except KubeError as exc:
        if exc.status == 404:
            return _condition(
                "False",
                MetricsReason.CRD_NOT_INSTALLED,
                f"the ScrapeConfig CRD ({API_VERSION}) is not installed: install the Prometheus "
                "Operator's CRDs; everything else works without it",
            )
        return _condition("False", SyncedReason.ERROR, f"cannot apply ScrapeConfig {name}: {exc}")
    return _condition("True", MetricsReason.APPLIED, f"ScrapeConfig {name} scrapes {url}")
