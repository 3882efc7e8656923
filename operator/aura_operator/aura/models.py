"""Pydantic models of the Aura API's bodies (v1).

They are lenient on purpose: the API adds fields and status values over time, so unknown fields
are kept (`extra="allow"`), statuses are plain strings with the known values listed below, and
`graph_nodes`/`graph_relationships` accept a number or a numeric string (the spec says string,
the live API sends numbers). The password, returned once by create, is a `SecretStr` so that it
never shows up in a repr or a log line by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class InstanceStatus:
    """Instance statuses the v1 spec documents: lowercase, `loading failed` with a space."""

    CREATING = "creating"
    DESTROYING = "destroying"
    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    SUSPENDING = "suspending"
    SUSPENDED = "suspended"
    RESUMING = "resuming"
    LOADING = "loading"
    LOADING_FAILED = "loading failed"
    RESTORING = "restoring"
    UPDATING = "updating"
    OVERWRITING = "overwriting"


#: Statuses in which an operation is in flight: lifecycle calls get 409 until they settle.
TRANSIENT_STATUSES = frozenset(
    {
        InstanceStatus.CREATING,
        InstanceStatus.DESTROYING,
        InstanceStatus.PAUSING,
        InstanceStatus.SUSPENDING,
        InstanceStatus.RESUMING,
        InstanceStatus.LOADING,
        InstanceStatus.RESTORING,
        InstanceStatus.UPDATING,
        InstanceStatus.OVERWRITING,
    }
)
#: Statuses where nothing happens until someone acts.
SETTLED_STATUSES = frozenset(
    {
        InstanceStatus.RUNNING,
        InstanceStatus.PAUSED,
        InstanceStatus.SUSPENDED,
        InstanceStatus.LOADING_FAILED,
    }
)


class AuraModel(BaseModel):
    """Common configuration: keep unknown fields, allow field names and aliases."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class TenantSummary(AuraModel):
    id: str
    name: str


class InstanceConfiguration(AuraModel):
    """One allowed combination of region x type x memory/storage x version x cloud provider."""

    region: str
    region_name: str | None = None
    type: str
    memory: str
    storage: str | None = None
    version: str
    cloud_provider: str


class Tenant(AuraModel):
    id: str
    name: str
    instance_configurations: list[InstanceConfiguration] = Field(default_factory=list)


class InstanceSummary(AuraModel):
    """A list item: the list endpoint carries no status, type, region or memory."""

    id: str
    name: str
    tenant_id: str
    cloud_provider: str | None = None
    created_at: datetime | None = None


def _count(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            return None
    return value


class Instance(AuraModel):
    """The full instance, as GET, DELETE, pause, resume, overwrite and restore return it."""

    id: str
    name: str | None = None
    status: str | None = None
    connection_url: str | None = None
    tenant_id: str | None = None
    cloud_provider: str | None = None
    memory: str | None = None
    storage: str | None = None
    region: str | None = None
    type: str | None = None
    created_at: datetime | None = None
    metrics_integration_url: str | None = None
    customer_managed_key_id: str | None = None
    graph_nodes: int | None = None
    graph_relationships: int | None = None
    secondaries_count: int | None = None
    cdc_enrichment_mode: str | None = None
    vector_optimized: bool | None = None
    graph_analytics_plugin: bool | None = None

    @field_validator("graph_nodes", "graph_relationships", mode="before")
    @classmethod
    def _count_from_string(cls, value: Any) -> Any:
        return _count(value)

    @field_validator("status", mode="before")
    @classmethod
    def _normalise_status(cls, value: Any) -> Any:
        # The API is lowercase; some clients and docs write "Running". Compare lowercase.
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def is_transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES


class CreatedInstance(AuraModel):
    """The 202 body of `POST /instances`: the only response that ever carries the password."""

    id: str
    connection_url: str
    username: str
    password: SecretStr
    tenant_id: str
    cloud_provider: str
    region: str
    type: str
    name: str
    created_at: datetime | None = None
    vector_optimized: bool | None = None
    graph_analytics_plugin: bool | None = None

    @classmethod
    def salvage(cls, data: Any) -> CreatedInstance | None:
        """What can be read of a create response that does not validate: the id and the
        password at least (None without them); unreadable strings become empty."""
        if not isinstance(data, Mapping):
            return None
        instance_id, password = data.get("id"), data.get("password")
        if not isinstance(instance_id, str) or not instance_id:
            return None
        if not isinstance(password, str) or not password:
            return None

        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        return cls.model_construct(
            id=instance_id,
            password=SecretStr(password),
            connection_url=text("connection_url"),
            username=text("username") or "neo4j",
            tenant_id=text("tenant_id"),
            cloud_provider=text("cloud_provider"),
            region=text("region"),
            type=text("type"),
            name=text("name"),
        )


class UpdateResult(AuraModel):
    """The body of a PATCH: 200 with the instance (rename), 202 with `{}` or the instance (resize).

    `accepted` is True for a 202: the change runs asynchronously (`updating` -> `running`).
    """

    accepted: bool
    instance: Instance | None = None


class SnapshotStatus:
    """Snapshot statuses: capitalised, unlike instance statuses."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


class Snapshot(AuraModel):
    instance_id: str
    snapshot_id: str
    profile: str | None = None
    status: str | None = None
    timestamp: datetime | None = None
    exportable: bool | None = None


class SnapshotRef(AuraModel):
    """The 202 body of `POST /instances/{id}/snapshots`."""

    snapshot_id: str


class CustomerManagedKeySummary(AuraModel):
    """A list item of `GET /customer-managed-keys`: summaries only (docs/aura-api.md §3.4)."""

    id: str
    name: str
    tenant_id: str


class CustomerManagedKey(AuraModel):
    """`GET /customer-managed-keys/{id}` and the 202 of its POST: `status` pending -> ready."""

    id: str
    name: str
    tenant_id: str
    status: str | None = None
    cloud_provider: str | None = None
    region: str | None = None
    instance_type: str | None = None
    key_id: str | None = None
    created: datetime | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _normalise_status(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def is_ready(self) -> bool:
        return self.status == "ready"


class MetricsIntegration(AuraModel):
    """`GET /tenants/{id}/metrics-integration`: the project's Prometheus scrape endpoint (200
    only when the project has an instance Aura exports metrics for; 400 otherwise)."""

    endpoint: str


class TokenResponse(BaseModel):
    """The token endpoint's answer. Never logged; the token is a `SecretStr`."""

    model_config = ConfigDict(extra="ignore")

    access_token: SecretStr
    expires_in: float = 3600.0
    token_type: str = "bearer"  # noqa: S105 - a scheme name, not a secret
