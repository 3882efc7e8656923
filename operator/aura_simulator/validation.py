"""Validation of create and PATCH bodies against the tenant's `instance_configurations`.

The tenant's configuration list is the API's oracle for what `POST /instances` accepts
(docs/aura-api.md
§3.1), so every 400 here names the offending field and lists the values that would have worked:
the operator shows that message to users, and it must be actionable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aura_simulator.config import InstanceConfiguration, TenantConfig
from aura_simulator.errors import bad_request
from aura_simulator.model import gigabytes

INSTANCE_TYPES = (
    "enterprise-db",
    "enterprise-ds",
    "business-critical",
    "professional-db",
    "professional-ds",
    "free-db",
)
CLOUD_PROVIDERS = ("gcp", "aws", "azure")
CDC_MODES = ("OFF", "DIFF", "FULL")
CREATE_FIELDS = frozenset(
    {
        "name",
        "version",
        "region",
        "memory",
        "storage",
        "type",
        "tenant_id",
        "cloud_provider",
        "source_instance_id",
        "source_snapshot_id",
        "customer_managed_key_id",
        "vector_optimized",
        "graph_analytics_plugin",
    }
)
PATCH_FIELDS = frozenset(
    {
        "name",
        "memory",
        "storage",
        "vector_optimized",
        "graph_analytics_plugin",
        "secondaries_count",
        "cdc_enrichment_mode",
    }
)
#: Create-time-only is the opposite for these: PATCH after `running` only (docs/aura-api.md §3.2).
PATCH_ONLY_FIELDS = ("secondaries_count", "cdc_enrichment_mode")


def check_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string", field)
    if not 1 <= len(value) <= 30:
        raise bad_request(f"{field} must be between 1 and 30 characters long", field)
    if value != value.strip():
        raise bad_request(f"{field} must not have leading or trailing whitespace", field)
    return value


def _string(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        raise bad_request(f"{field} is required", field)
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string", field)
    return value


def _bool(body: Mapping[str, Any], field: str) -> bool | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise bad_request(f"{field} must be a boolean", field)
    return value


def _allowed(values: Iterable[str]) -> str:
    unique = sorted(set(values), key=lambda v: (gigabytes(v), v))
    return ", ".join(unique) if unique else "none"


def _narrow(
    candidates: list[InstanceConfiguration], field: str, value: str, context: str
) -> list[InstanceConfiguration]:
    matching = [c for c in candidates if getattr(c, field) == value]
    if not matching:
        allowed = _allowed(getattr(c, field) for c in candidates)
        raise bad_request(
            f"{field} '{value}' is not available{context}; allowed values: {allowed}", field
        )
    return matching


def match_configuration(tenant: TenantConfig, body: Mapping[str, Any]) -> InstanceConfiguration:
    """The configuration entry the body asks for, or a 400 naming the first field that misses."""
    instance_type = _string(body, "type")
    if instance_type not in INSTANCE_TYPES:
        raise bad_request(
            f"type '{instance_type}' is not one of {', '.join(INSTANCE_TYPES)}", "type"
        )
    cloud = _string(body, "cloud_provider")
    if cloud not in CLOUD_PROVIDERS:
        raise bad_request(
            f"cloud_provider '{cloud}' is not one of {', '.join(CLOUD_PROVIDERS)}",
            "cloud_provider",
        )
    region = _string(body, "region")
    version = _string(body, "version")
    memory = _string(body, "memory")
    candidates = list(tenant.instance_configurations)
    candidates = _narrow(candidates, "type", instance_type, f" in project {tenant.name}")
    candidates = _narrow(candidates, "cloud_provider", cloud, f" for {instance_type}")
    candidates = _narrow(candidates, "region", region, f" for {instance_type} on {cloud}")
    where = f" for {instance_type} in {cloud}/{region}"
    candidates = _narrow(candidates, "version", version, where)
    candidates = _narrow(candidates, "memory", memory, where + f" version {version}")
    storage = body.get("storage")
    if storage is not None:
        if not isinstance(storage, str):
            raise bad_request("storage must be a string", "storage")
        candidates = _narrow(candidates, "storage", storage, where + f" with {memory} memory")
    return candidates[0]


def validate_create(tenant: TenantConfig, body: Mapping[str, Any]) -> InstanceConfiguration:
    """Everything about a create body except the source instance/snapshot lookups."""
    for field in PATCH_ONLY_FIELDS:
        if field in body:
            raise bad_request(
                f"{field} cannot be set when creating an instance; "
                "set it with PATCH once the instance is running",
                field,
            )
    for field in body:
        if field not in CREATE_FIELDS:
            raise bad_request(f"unknown field {field}", field)
    check_name(body.get("name"), "name")
    configuration = match_configuration(tenant, body)
    vector = _bool(body, "vector_optimized")
    plugin = _bool(body, "graph_analytics_plugin")
    check_flags(configuration.type, configuration.memory, vector, plugin)
    if body.get("source_snapshot_id") is not None and body.get("source_instance_id") is None:
        raise bad_request(
            "source_instance_id must be provided with source_snapshot_id", "source_instance_id"
        )
    key = body.get("customer_managed_key_id")
    if key is not None:
        if configuration.type not in ("enterprise-db", "enterprise-ds"):
            raise bad_request(
                "customer_managed_key_id is only available for enterprise-db and enterprise-ds",
                "customer_managed_key_id",
            )
        if not isinstance(key, str):
            raise bad_request("customer_managed_key_id must be a string", "customer_managed_key_id")
    return configuration


def check_flags(instance_type: str, memory: str, vector: bool | None, plugin: bool | None) -> None:
    if vector and gigabytes(memory) < 4:
        raise bad_request("vector_optimized requires at least 4GB of memory", "vector_optimized")
    if plugin and instance_type != "professional-db":
        raise bad_request(
            "graph_analytics_plugin is only available for professional-db",
            "graph_analytics_plugin",
        )


def validate_patch(body: Mapping[str, Any], instance_type: str) -> dict[str, Any]:
    """Type checks of a PATCH body; returns the recognised fields."""
    for field in body:
        if field not in PATCH_FIELDS:
            raise bad_request(f"unknown field {field}", field)
    fields = dict(body)
    if "name" in fields:
        check_name(fields["name"])
    for field in ("memory", "storage"):
        if field in fields and not isinstance(fields[field], str):
            raise bad_request(f"{field} must be a string", field)
    for field in ("vector_optimized", "graph_analytics_plugin"):
        _bool(fields, field)
    if "secondaries_count" in fields:
        count = fields["secondaries_count"]
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 15:
            raise bad_request(
                "secondaries_count must be an integer from 0 to 15", "secondaries_count"
            )
        # SPEC: VDC only; TF also sets it on business-critical (docs/aura-api.md §7, unconfirmed):
        # allow both.
        if instance_type not in ("enterprise-db", "business-critical"):
            raise bad_request(
                "secondaries_count is only available for enterprise-db", "secondaries_count"
            )
    if "cdc_enrichment_mode" in fields:
        if fields["cdc_enrichment_mode"] not in CDC_MODES:
            raise bad_request(
                f"cdc_enrichment_mode must be one of {', '.join(CDC_MODES)}", "cdc_enrichment_mode"
            )
        if instance_type not in ("enterprise-db", "business-critical", "enterprise-ds"):
            raise bad_request(
                "cdc_enrichment_mode is only available for business-critical and enterprise "
                "instances",
                "cdc_enrichment_mode",
            )
    return fields


def resize_target(
    tenant: TenantConfig,
    *,
    instance_type: str,
    cloud: str,
    region: str,
    version: str,
    memory: str,
    storage: str | None,
) -> tuple[str, str]:
    """(memory, storage) after a resize; storage follows memory unless given (PLAYBOOK)."""
    body = {
        "type": instance_type,
        "cloud_provider": cloud,
        "region": region,
        "version": version,
        "memory": memory,
    }
    configuration = match_configuration(tenant, body)
    if storage is None:
        return memory, configuration.storage
    options = [
        c
        for c in tenant.instance_configurations
        if (c.type, c.cloud_provider, c.region, c.version)
        == (instance_type, cloud, region, version)
    ]
    allowed = {
        c.storage for c in options if gigabytes(c.storage) >= gigabytes(configuration.storage)
    }
    if storage not in allowed:
        raise bad_request(
            f"storage '{storage}' is not available with {memory} memory; "
            f"allowed values: {_allowed(allowed)}",
            "storage",
        )
    return memory, storage
