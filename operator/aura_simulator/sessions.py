"""Graph Analytics (GDS) sessions (docs/aura-api.md §3.5): the record, its API shape, the rules
of a get-or-create body, TTL parsing and the sizing estimate.

A session is `Creating` until `durations.session_creating` (scaled) has passed, then `Ready`
(or `Failed` when an admin asked for failing creates). It expires (`Expired`) when it has been
inactive for its `ttl` (default 1 h, as the SPEC says) or when it reaches Aura's maximum
lifetime of 7 days, whichever comes first; both are scaled like every lifecycle duration. The
simulator cannot see the queries that make a session active, so its inactivity clock starts when
it becomes ready and is reset only by the admin hook `POST /_sim/sessions/{id}/activity`.
Everything here is pure; the account-level rules are in session_state.py, the routes in
session_routes.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from aura_simulator.errors import ApiError, bad_request
from aura_simulator.model import iso

#: The session sizes Aura offers (the GDS Python client's `SessionMemory`).
SESSION_MEMORY = (
    "2GB",
    "4GB",
    "8GB",
    "16GB",
    "24GB",
    "32GB",
    "48GB",
    "64GB",
    "96GB",
    "128GB",
    "192GB",
    "256GB",
    "384GB",
    "512GB",
)
#: "If not specified, defaults to 1 hour" (SPEC `POST /graph-analytics/sessions` `ttl`).
DEFAULT_TTL = 3600.0
#: Aura deletes a session 7 days after it was created at the latest (the SPEC's examples show
#: `expiry_date` = `created_at` + 7 days).
MAX_LIFETIME = 7 * 24 * 3600.0
SESSION_STATUSES = frozenset({"Creating", "Ready", "Expired", "Failed"})
SESSION_FIELDS = frozenset(
    {"name", "memory", "ttl", "instance_id", "database_uuid"}
    | {"tenant_id", "cloud_provider", "region"}
)

#: Extra memory each algorithm category needs, as a fraction of the projected graph (ours; the
#: GDS client's `AlgorithmCategory` names, plus the SPEC's `pathfinding` spelling).
ALGORITHM_WEIGHTS: dict[str, float] = {
    "centrality": 0.5,
    "community-detection": 0.75,
    "machine-learning": 1.5,
    "node-embedding": 1.0,
    "path-finding": 0.5,
    "pathfinding": 0.5,
    "similarity": 1.0,
}
_GIB = 1024**3
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}


class SimSession(BaseModel):
    id: str
    name: str
    tenant_id: str
    user_id: str
    memory: str
    #: Inactivity timeout in API seconds (not scaled).
    ttl: float
    instance_id: str | None = None
    database_uuid: str | None = None
    cloud_provider: str
    region: str
    created: float
    #: When it stops `Creating` (scaled clock).
    ready_at: float
    #: The last activity, for the inactivity timeout (None: since `ready_at`).
    active_at: float | None = None
    #: Ends `Failed` instead of `Ready` (admin: failed-session-create).
    failing: bool = False
    #: Pinned by an admin (`Expired` by `POST /_sim/sessions/{id}/expire`).
    forced_status: str | None = None

    def parameters(self) -> dict[str, str]:
        """What get-or-create compares, by the name its 409 message uses."""
        return {
            "Memory": self.memory,
            "TTL": go_duration(self.ttl),
            "InstanceID": self.instance_id or "",
            "CloudProvider": self.cloud_provider,
            "Region": self.region,
        }

    def status(self, now: float, ttl: float, lifetime: float) -> str:
        """`ttl` and `lifetime` are the scaled inactivity timeout and maximum lifetime."""
        if self.forced_status is not None:
            return self.forced_status
        if now < self.ready_at:
            return "Creating"
        if self.failing:
            return "Failed"
        idle_since = self.active_at if self.active_at is not None else self.ready_at
        if now >= idle_since + ttl or now >= self.created + lifetime:
            return "Expired"
        return "Ready"

    def to_api(self, status: str, lifetime: float) -> dict[str, Any]:
        """SPEC `GdsSessionDetails`. While `Creating`, `expiry_date` and `ttl` are left out, as
        in the SPEC's 202 example; a standalone session has empty `instance_id` and
        `database_uuid` ("Empty if not attached to any instance")."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "memory": self.memory,
            "instance_id": self.instance_id or "",
            "database_uuid": self.database_uuid or "",
            "status": status,
            "created_at": iso(self.created),
            "host": f"{self.id}.sessions.sim.neo4j.io",
            "user_id": self.user_id,
            "tenant_id": self.tenant_id,
            "cloud_provider": self.cloud_provider,
            "region": self.region,
        }
        if status != "Creating":
            body["expiry_date"] = iso(self.created + lifetime)
            body["ttl"] = go_duration(self.ttl)
        return body


# ------------------------------------------------------------------ durations


def parse_ttl(value: Any) -> float:
    """A Go duration string (`30m`, `1h30m`, `20m0s`, `45s`) in seconds; 400 otherwise."""
    if not isinstance(value, str) or not value:
        raise bad_request("ttl must be a duration such as 30m or 1h30m", "ttl")
    parts = _DURATION.findall(value)
    if "".join(n + u for n, u in parts) != value:
        raise bad_request(f"ttl {value!r} is not a duration such as 30m or 1h30m", "ttl")
    seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if seconds <= 0:
        raise bad_request("ttl must be longer than 0s", "ttl")
    return seconds


def go_duration(seconds: float) -> str:
    """How Aura writes a TTL back (Go's `time.Duration.String()`): `1h0m0s`, `20m0s`, `45s`."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


# ---------------------------------------------------------------- the request


class SessionRequest(BaseModel):
    """A validated get-or-create body (placement not yet resolved)."""

    name: str
    memory: str
    ttl: float
    instance_id: str | None
    database_uuid: str | None
    tenant_id: str | None
    cloud_provider: str | None
    region: str | None


def parse_session_body(body: Mapping[str, Any]) -> SessionRequest:
    """400 naming the field for anything malformed; attached (`instance_id`) or standalone
    (`tenant_id` + `cloud_provider` + `region`) is checked by the account."""
    for field in body:
        if field not in SESSION_FIELDS:
            raise bad_request(f"unknown field {field}", field)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("name is required", "name")
    memory = body.get("memory")
    if memory not in SESSION_MEMORY:
        raise bad_request(f"memory must be one of: {', '.join(SESSION_MEMORY)}", "memory")
    strings: dict[str, str | None] = {}
    for field in ("instance_id", "database_uuid", "tenant_id", "cloud_provider", "region"):
        value = body.get(field)
        if value is not None and (not isinstance(value, str) or not value):
            raise bad_request(f"{field} must be a non-empty string", field)
        strings[field] = value
    ttl = parse_ttl(body["ttl"]) if body.get("ttl") is not None else DEFAULT_TTL
    return SessionRequest(name=name, memory=str(memory), ttl=ttl, **strings)


def conflict(existing: SimSession, wanted: Mapping[str, str]) -> ApiError | None:
    """The 409 for a name that exists with other parameters (SPEC `SessionConflict`: the
    message lists each difference as `Memory (is: 8GB, requested: 4GB)`, `reason` empty)."""
    have = existing.parameters()
    differences = [
        f"{key} (is: {have[key]}, requested: {value})"
        for key, value in wanted.items()
        if have[key] != value
    ]
    if not differences:
        return None
    return ApiError(
        409,
        f"session `{existing.name}` already exists for project `{existing.tenant_id}` with "
        f"different parameters: {', '.join(differences)}",
        "",
    )


def session_not_found(session_id: str) -> ApiError:
    # SPEC `SessionNotFound` example: this message, an empty `reason`.
    return ApiError(404, f"session with id `{session_id}` not found", "")


# --------------------------------------------------------------------- sizing


def _count(body: Mapping[str, Any], field: str, *, required: bool = False) -> int:
    value = body.get(field)
    if value is None and not required:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise bad_request(f"{field} must be a non-negative integer", field)
    return value


def estimate(body: Mapping[str, Any]) -> dict[str, str]:
    """`POST /graph-analytics/sessions/sizing`, deterministic (the formula is ours, see
    docs/simulator.md): bytes per node 40 + 8 per property + 8 per label, per relationship
    24 + 8 per property; times 1 + the weight of each distinct algorithm category; rounded up
    to whole GB (at least 1); the recommendation is the smallest session size that holds it."""
    nodes = _count(body, "node_count", required=True)
    relationships = _count(body, "relationship_count", required=True)
    node_bytes = 40 + 8 * _count(body, "node_property_count") + 8 * _count(body, "node_label_count")
    rel_bytes = 24 + 8 * _count(body, "relationship_property_count")
    categories = body.get("algorithm_categories") or []
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise bad_request("algorithm_categories must be a list of strings", "algorithm_categories")
    unknown = sorted(set(categories) - ALGORITHM_WEIGHTS.keys())
    if unknown:
        allowed = ", ".join(sorted(ALGORITHM_WEIGHTS))
        raise bad_request(
            f"unknown algorithm categories {', '.join(unknown)}; allowed: {allowed}",
            "algorithm_categories",
        )
    factor = 1.0 + sum(ALGORITHM_WEIGHTS[c] for c in set(categories))
    graph = nodes * node_bytes + relationships * rel_bytes
    estimated = max(1, math.ceil(graph * factor / _GIB))
    for size in SESSION_MEMORY:
        if int(size.removesuffix("GB")) >= estimated:
            return {"estimated_memory": f"{estimated}GB", "recommended_size": size}
    raise bad_request(
        f"the estimated memory {estimated}GB exceeds the largest session size {SESSION_MEMORY[-1]}",
        "node_count",
    )
