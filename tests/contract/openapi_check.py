"""Checks simulator responses against the official Aura OpenAPI document.

The document is loaded as YAML 1.2 would read it (`OFF` stays a string: PyYAML's YAML 1.1 rules
would turn the `cdc_enrichment_mode` enum value `OFF` into `false`), every `$ref` is inlined, and
the few places where docs/aura-api.md's evidence beats the document are patched, each with its
reason.
A status the document does not list for an operation is a failure unless it is in
`UNDOCUMENTED`, again with its reason.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator

#: The official document (published by Neo4j), vendored so that a clone tests on its own.
SPEC_PATH = Path(__file__).resolve().parent / "spec" / "aura_api_spec_v1.yaml"
_ERROR_ONEOF = {
    "oneOf": [
        {"$ref": "#/components/schemas/Error"},
        {"$ref": "#/components/schemas/MiddlewareError"},
    ]
}

#: (method, path template, status) the document does not list, answered as docs/aura-api.md says.
UNDOCUMENTED: dict[tuple[str, str, int], str] = {
    # Body validation of the action endpoints (docs/aura-api.md §3.2: source_instance_id is
    # required).
    ("POST", "/instances/{instanceId}/overwrite", 400): "missing source / non-exportable snapshot",
    ("POST", "/instances/{instanceId}/overwrite", 415): "§1: every POST needs the header",
    ("POST", "/instances/{instanceId}/resume", 415): "§1 (K8SOP live): bodyless POST 415",
    ("POST", "/instances/{instanceId}/pause", 415): "§1 (K8SOP live): bodyless POST 415",
    ("POST", "/instances/{instanceId}/snapshots", 415): "docs/aura-api.md §1",
    ("POST", "/instances/{instanceId}/snapshots/{snapshotId}/restore", 415): "docs/aura-api.md §1",
    (
        "POST",
        "/instances/{instanceId}/snapshots/{snapshotId}/restore",
        400,
    ): "snapshot not completed",
    ("DELETE", "/instances/{instanceId}", 415): "never sent: DELETE has no body",
    ("GET", "/instances/{instanceId}/snapshots", 400): "malformed ?date=",
    ("POST", "/instances/{instanceId}/upgrade", 400): "upgrade of a non-professional instance",
    # The metrics-integration 400 is the CLI's observed behaviour (docs/aura-api.md §3.1).
    ("GET", "/tenants/{tenantId}/metrics-integration", 400): "tenant-incapable-of-action",
    # Upgrade is documented with 404/409 only; a 429/415 is the gateway's, as everywhere.
    ("POST", "/instances/{instanceId}/upgrade", 415): "docs/aura-api.md §1",
    ("POST", "/graph-analytics/sessions", 415): "docs/aura-api.md §1: every POST needs the header",
    # 402 is documented without a body schema.
}


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only (true/false), so `OFF`, `on`, `yes` stay strings."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _inline(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    if depth > 50:
        raise ValueError("$ref nesting too deep")
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _inline(copy.deepcopy(target), root, depth + 1)
        return {k: _inline(v, root, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, root, depth) for v in node]
    return node


def _patch(spec: dict[str, Any]) -> None:
    """Where docs/aura-api.md's evidence beats the document (each also named in the README)."""
    schemas = spec["components"]["schemas"]
    # `MiddlewareError` declares no required property, so it matches every object and
    # `oneOf: [Error, MiddlewareError]` could never pass for a standard error body. The gateway
    # shape is `{"error": "..."}` (docs/aura-api.md §5.1): require that member.
    schemas["MiddlewareError"]["required"] = ["error"]
    instance = schemas["Instance"]["properties"]["data"]
    # SPEC requires `storage` yet says it is "NOT returned for AuraDB Free instances".
    instance["required"] = [f for f in instance["required"] if f != "storage"]
    # SPEC says string; the live API sends numbers (TF c896f7a, docs/aura-api.md §3.2). Accept both.
    for field in ("graph_nodes", "graph_relationships"):
        instance["properties"][field] = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    _patch_sessions(spec)


def _patch_sessions(spec: dict[str, Any]) -> None:
    """`GdsSessionDetails` wraps its fields in `data`, and the session responses put it under
    `data` again (as `items` of an object, which validates nothing): check a session's fields
    where the examples and the CLI's tests put them, directly in `data` (or in each list item).
    `ttl` is a duration string in every example and CLI test, an integer in the schema
    (docs/aura-api.md §3.5, CONFLICT): accept both."""
    schemas = spec["components"]["schemas"]
    session = copy.deepcopy(schemas["GdsSessionDetails"]["properties"]["data"])
    session["properties"]["ttl"] = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    schemas["GdsSession"] = session
    ref = {"$ref": "#/components/schemas/GdsSession"}
    paths = spec["paths"]
    listing = paths["/graph-analytics/sessions"]["get"]["responses"]["200"]
    listing["content"]["application/json"]["schema"]["properties"]["data"]["items"] = ref
    for template, method, status in (
        ("/graph-analytics/sessions", "post", "200"),
        ("/graph-analytics/sessions", "post", "202"),
        ("/graph-analytics/sessions/{sessionId}", "get", "200"),
    ):
        response = paths[template][method]["responses"][status]
        response["content"]["application/json"]["schema"]["properties"]["data"] = ref


@cache
def load_spec() -> dict[str, Any]:
    raw = yaml.load(SPEC_PATH.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    _patch(raw)
    return dict(_inline(raw, raw))


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """(path template, operation) for a request path under /v1, literal segments first."""
    spec = load_spec()
    relative = path.removeprefix("/v1")
    matches = [
        (template, item[method.lower()])
        for template, item in spec["paths"].items()
        if method.lower() in item and _template_regex(template).match(relative)
    ]
    matches.sort(key=lambda m: m[0].count("{"))
    return matches[0] if matches else None


def problems(method: str, path: str, status: int, body: Any) -> list[str]:
    """Why this response does not match the document (empty if it does)."""
    found = find_operation(method, path)
    where = f"{method} {path} -> {status}"
    if found is None:
        return [f"{where}: no such operation in the OpenAPI document"]
    template, operation = found
    response = operation["responses"].get(str(status))
    if response is None:
        if (method, template, status) not in UNDOCUMENTED:
            return [f"{where}: status not documented for {method} {template}"]
        response = {"content": {"application/json": {"schema": load_spec_error()}}}
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return [] if body is None or status >= 400 else [f"{where}: body but no schema"]
    if body is None:
        return [f"{where}: expected a JSON body"]
    errors = [
        f"{where}: {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in OAS30Validator(schema).iter_errors(body)
    ]
    enveloped = isinstance(body, dict) and "data" in body
    if 200 <= status < 300 and not (method == "PATCH" and status == 202) and not enveloped:
        errors.append(f"{where}: 2xx body is not wrapped in 'data'")
    return errors


@cache
def load_spec_error() -> dict[str, Any]:
    return dict(_inline(_ERROR_ONEOF, load_spec()))


def check_records(records: Iterable[Any]) -> list[str]:
    """Problems of every logged /v1 response that reached the client."""
    found: list[str] = []
    for record in records:
        if not record.path.startswith("/v1/") or record.status is None:
            continue
        if find_operation(record.method, record.path) is None:
            # An unknown route: no operation to check against, but errors keep their shape.
            schema = load_spec_error()
            where = f"{record.method} {record.path} -> {record.status}"
            found.extend(
                f"{where}: {e.message}"
                for e in OAS30Validator(schema).iter_errors(record.response_body)
            )
            continue
        found.extend(problems(record.method, record.path, record.status, record.response_body))
    return found
