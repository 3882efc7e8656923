"""The simulator's records of instances and snapshots, and how the API shows them.

Records are pydantic models so that the full state can be dumped to JSON (for `/_sim/state` and
`--state FILE`) and loaded back. The `to_*` methods are the only place that decides which field
appears in which response: summaries in lists, the password only in the create response, no
`storage` for Free instances, `secondaries_count` only for VDC (docs/aura-api.md §6.3, §6.4, §6.14).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

#: Statuses with an operation in flight: lifecycle calls answer 409 (docs/aura-api.md §4.3).
TRANSIENT = frozenset(
    {
        "creating",
        "destroying",
        "pausing",
        "suspending",
        "resuming",
        "loading",
        "restoring",
        "updating",
        "overwriting",
    }
)
INSTANCE_STATUSES = TRANSIENT | {"running", "paused", "suspended", "loading failed"}
#: The `next_status` of a destroying instance: it disappears.
GONE = "gone"
SNAPSHOT_STATUSES = frozenset({"Pending", "InProgress", "Completed", "Failed", "Cancelled"})
#: The types Aura exports metrics for: Business Critical, Virtual Dedicated Cloud
#: (`enterprise-db`) and AuraDS Enterprise. Only they carry `metrics_integration_url`, and the
#: project's metrics-integration endpoint answers 400 without one (docs/aura-api.md §3.1).
METRICS_TYPES = frozenset({"business-critical", "enterprise-db", "enterprise-ds"})


def iso(timestamp: float) -> str:
    """`2023-01-20T13:44:42Z`, the format of the API's examples."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gigabytes(size: str) -> int:
    """`"16GB"` -> 16 (0 for anything unparsable)."""
    try:
        return int(size.upper().removesuffix("GB"))
    except ValueError:
        return 0


class SimSnapshot(BaseModel):
    snapshot_id: str
    instance_id: str
    profile: str  # "AdHoc" | "Scheduled"
    created: float  # wall-clock seconds
    exportable: bool = True
    #: Set by an admin to pin a status (e.g. "Failed"); otherwise derived from the clock.
    forced_status: str | None = None


class SimInstance(BaseModel):
    id: str
    name: str
    tenant_id: str
    cloud_provider: str
    region: str
    type: str
    memory: str
    storage: str
    version: str
    password: str
    connection_url: str
    created_at: float
    status: str = "creating"
    #: GET answers 404 until then (eventual consistency after create).
    visible_at: float = 0.0
    #: Left out of `GET /v1/instances` until then (a lagging list, `list_lag`).
    listed_at: float = 0.0
    #: The running transition: where it lands, when, and what it changes on landing.
    next_status: str | None = None
    due: float | None = None
    pending: dict[str, Any] = Field(default_factory=dict)
    vector_optimized: bool = False
    graph_analytics_plugin: bool = False
    secondaries_count: int | None = None
    cdc_enrichment_mode: str | None = None
    source_instance_id: str | None = None
    source_snapshot_id: str | None = None
    customer_managed_key_id: str | None = None
    graph_nodes: int = 0
    graph_relationships: int = 0
    first_run_done: bool = False
    deleted_at: float | None = None
    snapshots: list[SimSnapshot] = Field(default_factory=list)

    @property
    def is_free(self) -> bool:
        return self.type == "free-db"

    def to_summary(self) -> dict[str, Any]:
        """A list item: no status, type, region or memory (SPEC `InstanceSummary`)."""
        return {
            "id": self.id,
            "name": self.name,
            "tenant_id": self.tenant_id,
            "cloud_provider": self.cloud_provider,
            "created_at": iso(self.created_at),
        }

    def to_created(self) -> dict[str, Any]:
        """The 202 body of create: the only response with `username` and `password`."""
        return {
            "id": self.id,
            "connection_url": self.connection_url,
            "username": "neo4j",
            "password": self.password,
            "tenant_id": self.tenant_id,
            "cloud_provider": self.cloud_provider,
            "region": self.region,
            "type": self.type,
            "name": self.name,
            "created_at": iso(self.created_at),
            "vector_optimized": self.vector_optimized,
            "graph_analytics_plugin": self.graph_analytics_plugin,
        }

    def to_api(self) -> dict[str, Any]:
        """The full instance of GET and of the action responses (SPEC `Instance`)."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "tenant_id": self.tenant_id,
            "cloud_provider": self.cloud_provider,
            "connection_url": self.connection_url,
            "region": self.region,
            "type": self.type,
            "memory": self.memory,
            "created_at": iso(self.created_at),
            "vector_optimized": self.vector_optimized,
            "graph_analytics_plugin": self.graph_analytics_plugin,
        }
        if self.is_free:
            # SPEC lists `storage` as required but says it is NOT returned for Free instances;
            # docs/aura-api.md §3.2 follows the description. Free instances carry node/relationship
            # counts, as numbers: TF switched to int64 after testing live (docs/aura-api.md §3.2),
            # where
            # the SPEC says string.
            body["graph_nodes"] = self.graph_nodes
            body["graph_relationships"] = self.graph_relationships
        else:
            body["storage"] = self.storage
        if self.type in METRICS_TYPES:
            body["metrics_integration_url"] = (
                f"https://customer-metrics-api.neo4j.io/api/v1/{self.tenant_id}/{self.id}/metrics"
            )
        if self.type == "enterprise-db" or self.secondaries_count is not None:
            body["secondaries_count"] = self.secondaries_count or 0
        if self.cdc_enrichment_mode is not None:
            body["cdc_enrichment_mode"] = self.cdc_enrichment_mode
        if self.customer_managed_key_id is not None:
            body["customer_managed_key_id"] = self.customer_managed_key_id  # only if used (SPEC)
        return body


def snapshot_status(snapshot: SimSnapshot, now: float, pending: float, in_progress: float) -> str:
    """Pending -> InProgress -> Completed by the (scaled) clock, unless pinned by an admin."""
    if snapshot.forced_status is not None:
        return snapshot.forced_status
    elapsed = now - snapshot.created
    if elapsed < pending:
        return "Pending"
    if elapsed < pending + in_progress:
        return "InProgress"
    return "Completed"


def snapshot_to_api(snapshot: SimSnapshot, status: str) -> dict[str, Any]:
    return {
        "instance_id": snapshot.instance_id,
        "snapshot_id": snapshot.snapshot_id,
        "profile": snapshot.profile,
        "status": status,
        "timestamp": iso(snapshot.created),
        # `exportable` is in the SPEC's examples and live responses, not its schema.
        "exportable": snapshot.exportable,
    }
