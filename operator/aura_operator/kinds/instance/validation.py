"""Is this spec something the tenant offers? Checked before any create, with a clear answer.

A tenant's `instance_configurations` is the authoritative list of what `POST /instances`
accepts: one entry per allowed (type, cloud provider, region, memory, storage, version). The
first field that does not fit is named, with the values that would, given the fields before it.
The same module re-checks at run time what the CRD's CEL rules say (a v1.20 API server does not
run them) and the tier rules the API documents.
"""

from __future__ import annotations

from collections.abc import Sequence

from aura_operator.aura.models import Instance, InstanceConfiguration
from aura_operator.kinds.instance import secret_template
from aura_operator.kinds.instance.model import AuraInstanceSpec
from aura_operator.runtime.model import SpecProblem


def _gb(value: str) -> int:
    try:
        return int(value.upper().removesuffix("GB"))
    except ValueError:
        return -1


def _allowed(values: set[str]) -> str:
    ordered = (
        sorted(values, key=lambda v: (_gb(v), v))
        if all(v.upper().endswith("GB") for v in values)
        else sorted(values)
    )
    return ", ".join(ordered) if ordered else "(none)"


def check_required(spec: AuraInstanceSpec) -> SpecProblem | None:
    """Fields needed to create an instance (unless spec.instanceId adopts one)."""
    if spec.instance_id:
        return None
    for field, value in (
        ("type", spec.type),
        ("cloudProvider", spec.cloud_provider),
        ("region", spec.region),
        ("memory", spec.memory),
    ):
        if not value:
            return SpecProblem(
                f"spec.{field}",
                f"spec.{field} is required to create an instance "
                "(or set spec.instanceId to adopt an existing one)",
            )
    source = spec.source
    if source is not None:
        if bool(source.instance_id) == bool(source.snapshot_ref):
            return SpecProblem(
                "spec.source",
                "spec.source needs exactly one of instanceId (an instance, optionally with "
                "snapshotId) and snapshotRef (an AuraSnapshot in this namespace)",
            )
        if source.snapshot_id and not source.instance_id:
            return SpecProblem("spec.source.instanceId", "spec.source.snapshotId needs instanceId")
    return None


def is_upgrade(wanted: str | None, actual: str | None) -> bool:
    """The one type change Aura does in place: professional-db -> business-critical."""
    return actual == "professional-db" and wanted == "business-critical"


def check_tier_rules(spec: AuraInstanceSpec) -> SpecProblem | None:
    """Rules the Aura API documents per tier, checked before a request is spent on them."""
    if spec.graph_analytics_plugin and spec.type and spec.type != "professional-db":
        return SpecProblem(
            "spec.graphAnalyticsPlugin",
            f"spec.graphAnalyticsPlugin is only available for type professional-db "
            f"(spec.type is {spec.type})",
        )
    if spec.vector_optimized and spec.memory and 0 <= _gb(spec.memory) < 4:
        return SpecProblem(
            "spec.vectorOptimized",
            f"spec.vectorOptimized needs memory of 4GB or more (spec.memory is {spec.memory})",
        )
    key_field = (
        "spec.customerManagedKeyRef"
        if spec.customer_managed_key_ref is not None
        else "spec.customerManagedKeyId"
        if spec.customer_managed_key_id
        else None
    )
    if key_field and spec.type and spec.type not in ("enterprise-db", "enterprise-ds"):
        return SpecProblem(
            key_field,
            f"{key_field}: customer-managed keys are only available for type enterprise-db and "
            f"enterprise-ds (spec.type is {spec.type})",
        )
    if spec.credential_ref is not None and spec.credentials_secret_ref is not None:
        return SpecProblem(
            "spec.credentialRef", "set spec.credentialRef or spec.credentialsSecretRef, not both"
        )
    if spec.type == "free-db" and spec.paused:
        return SpecProblem(
            "spec.paused",
            "spec.paused: free-db instances cannot be paused through the API (allowed: false)",
        )
    return None


def check_template(spec: AuraInstanceSpec) -> SpecProblem | None:
    """spec.connectionSecret.template: every problem, each naming its key (and, for a
    placeholder, the allowed ones), before anything is sent or written."""
    template = spec.connection_secret.template
    found = secret_template.problems(template) if template is not None else []
    if not found:
        return None
    return SpecProblem(found[0].field, "; ".join(str(p) for p in found))


def check_configuration(
    spec: AuraInstanceSpec, configurations: Sequence[InstanceConfiguration], tenant: str
) -> SpecProblem | None:
    """Name the first field not offered by the tenant, with the values that are."""
    if not configurations:
        return SpecProblem("spec.tenantId", f"tenant {tenant} offers no instance configurations")
    steps: list[tuple[str, str | None, str]] = [
        ("type", spec.type, "type"),
        ("cloudProvider", spec.cloud_provider, "cloud_provider"),
        ("region", spec.region, "region"),
        ("memory", spec.memory, "memory"),
        ("version", spec.version, "version"),
        ("storage", spec.storage, "storage"),
    ]
    remaining = list(configurations)
    chosen: list[str] = []
    for field, wanted, attr in steps:
        if wanted is None:  # storage is optional: Aura derives it from memory
            continue
        offered = {getattr(c, attr) for c in remaining if getattr(c, attr) is not None}
        if field == "storage" and not offered:
            continue
        matching = [c for c in remaining if getattr(c, attr) == wanted]
        if not matching:
            context = f" for {', '.join(chosen)}" if chosen else ""
            return SpecProblem(
                f"spec.{field}",
                f'spec.{field} "{wanted}" is not offered by tenant {tenant}{context}; '
                f"allowed: {_allowed(offered)}",
            )
        remaining = matching
        chosen.append(f"{field} {wanted}")
    return None


def check_resize(
    spec: AuraInstanceSpec, configurations: Sequence[InstanceConfiguration], observed: Instance
) -> SpecProblem | None:
    """A new memory/storage must be offered for the instance's type, cloud and region."""
    pool = [
        c
        for c in configurations
        if c.type == observed.type
        and c.cloud_provider == observed.cloud_provider
        and c.region == observed.region
    ]
    if not pool:
        return None  # nothing to check against: let the API decide
    if spec.memory and spec.memory not in {c.memory for c in pool}:
        return SpecProblem(
            "spec.memory",
            f'spec.memory "{spec.memory}" is not offered for {observed.type} in '
            f"{observed.cloud_provider}/{observed.region}; allowed: "
            f"{_allowed({c.memory for c in pool})}",
        )
    return None


def check_fixed_fields(spec: AuraInstanceSpec, observed: Instance) -> SpecProblem | None:
    """Creation-time fields must match the instance (the CRD's CEL rules, checked again)."""
    key_field = (
        "spec.customerManagedKeyRef"
        if spec.customer_managed_key_ref is not None
        else "spec.customerManagedKeyId"
        if spec.customer_managed_key_id
        else None
    )
    if key_field and not observed.customer_managed_key_id:
        return SpecProblem(
            key_field,
            f"{key_field} is set but instance {observed.id} is not encrypted with a "
            "customer-managed key; a key is set at creation only (remove the field)",
        )
    for field, wanted, actual in (
        ("type", spec.type, observed.type),
        ("cloudProvider", spec.cloud_provider, observed.cloud_provider),
        ("region", spec.region, observed.region),
        ("tenantId", spec.tenant_id, observed.tenant_id),
        ("customerManagedKeyId", spec.customer_managed_key_id, observed.customer_managed_key_id),
    ):
        if field == "type" and is_upgrade(wanted, actual):
            continue  # an upgrade (upgrade.py), not a change of a fixed field
        if wanted and actual and wanted != actual:
            if field == "type":
                return SpecProblem(
                    "spec.type",
                    f'spec.type is "{wanted}" but the instance has "{actual}"; the type is fixed '
                    "at creation, except professional-db -> business-critical (allowed: "
                    f"{actual}{', business-critical' if actual == 'professional-db' else ''})",
                )
            return SpecProblem(
                f"spec.{field}",
                f'spec.{field} is "{wanted}" but the instance has "{actual}"; it is fixed at '
                f"creation (allowed: {actual})",
            )
    return None
