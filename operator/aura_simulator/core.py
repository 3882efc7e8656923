"""The core of the in-memory model: records, the lifecycle clock, lookups, create, snapshots.

Transitions are evaluated lazily: each instance records where its running operation lands and
when (`next_status`, `due`), and every read first settles what is due. There are no background
tasks, so a test's view of `sim.state` and the API's view are always the same, and the order of
events is the real one at any time scale (durations are divided by `time_scale`).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aura_simulator import validation
from aura_simulator.config import SimulatorConfig, TenantConfig
from aura_simulator.errors import (
    ApiError,
    bad_request,
    instance_not_found,
    ongoing_operation,
    snapshot_not_found,
    tenant_not_found,
    wrong_state,
)
from aura_simulator.keys import SimKey, check_key_for_instance
from aura_simulator.model import (
    GONE,
    TRANSIENT,
    SimInstance,
    SimSnapshot,
    snapshot_status,
    snapshot_to_api,
)
from aura_simulator.sessions import SimSession


class StateCore:
    """Instances and snapshots of every tenant, the clock, and creation."""

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.config = config
        self.time_scale = time_scale
        self._clock = clock
        self.instances: dict[str, SimInstance] = {}
        #: Deleted instances, kept for inspection (and password comparison) only.
        self.deleted: dict[str, SimInstance] = {}
        #: The next N creates end in `loading failed` instead of `running`.
        self.failing_creates = 0
        #: Customer-managed keys by id (docs/aura-api.md §3.4; the rules are in state.py).
        self.keys: dict[str, SimKey] = {}
        #: Graph Analytics sessions by id (docs/aura-api.md §3.5; rules in session_state.py).
        self.sessions: dict[str, SimSession] = {}
        #: The next N session creates end `Failed` instead of `Ready`.
        self.failing_session_creates = 0

    # ------------------------------------------------------------------ clock

    def now(self) -> float:
        return self._clock()

    def scaled(self, seconds: float) -> float:
        return seconds / self.time_scale

    def duration(self, name: str) -> float:
        return self.scaled(float(getattr(self.config.durations, name)))

    def settle(self) -> None:
        """Apply every transition that is due."""
        now = self.now()
        for instance in list(self.instances.values()):
            self._settle(instance, now)

    def _settle(self, instance: SimInstance, now: float) -> None:
        if instance.due is None or instance.due > now or instance.next_status is None:
            return
        landed_at = instance.due
        target = instance.next_status
        for key, value in instance.pending.items():
            setattr(instance, key, value)
        instance.pending = {}
        instance.next_status = None
        instance.due = None
        if target == GONE:
            instance.deleted_at = landed_at
            self.deleted[instance.id] = self.instances.pop(instance.id)
            return
        instance.status = target
        if target == "running" and not instance.first_run_done:
            instance.first_run_done = True
            if self.config.scheduled_snapshot_on_create:
                instance.snapshots.append(
                    SimSnapshot(
                        snapshot_id=str(uuid.uuid4()),
                        instance_id=instance.id,
                        profile="Scheduled",
                        created=landed_at,
                        exportable=not instance.is_free,
                    )
                )

    def _start(
        self,
        instance: SimInstance,
        transient: str,
        final: str,
        duration: str,
        pending: dict[str, Any] | None = None,
    ) -> None:
        instance.status = transient
        instance.next_status = final
        instance.due = self.now() + self.duration(duration)
        instance.pending = pending or {}

    # ---------------------------------------------------------------- lookups

    def tenant(self, tenant_id: str, visible: set[str] | None = None) -> TenantConfig:
        tenant = self.config.tenant(tenant_id)
        if tenant is None or (visible is not None and tenant_id not in visible):
            raise tenant_not_found()
        return tenant

    def instance(self, instance_id: str, visible: set[str] | None = None) -> SimInstance:
        """A visible instance or 404 `db-not-found` (also during the consistency window)."""
        self.settle()
        instance = self.instances.get(instance_id)
        if (
            instance is None
            or instance.visible_at > self.now()
            or (visible is not None and instance.tenant_id not in visible)
        ):
            raise instance_not_found(instance_id)
        return instance

    def list_instances(self, visible: set[str] | None, tenant_id: str | None) -> list[SimInstance]:
        """What `GET /v1/instances` shows: instances past their `listed_at` (the list lag)."""
        self.settle()
        now = self.now()
        return [
            i
            for i in self.instances.values()
            if (visible is None or i.tenant_id in visible)
            and (tenant_id is None or i.tenant_id == tenant_id)
            and i.listed_at <= now
        ]

    @staticmethod
    def _require_settled(instance: SimInstance) -> None:
        if instance.status in TRANSIENT:
            raise ongoing_operation(instance.status)

    # ------------------------------------------------------------- instances

    def create_instance(self, body: dict[str, Any], visible: set[str] | None) -> SimInstance:
        tenant_id = body.get("tenant_id")
        if not isinstance(tenant_id, str):
            raise bad_request("tenant_id is required", "tenant_id")
        tenant = self.config.tenant(tenant_id)
        if tenant is None or (visible is not None and tenant_id not in visible):
            raise bad_request(f"Tenant not found: {tenant_id}", "tenant_id", "tenant-not-found")
        configuration = validation.validate_create(tenant, body)
        source_id = body.get("source_instance_id")
        snapshot_id = body.get("source_snapshot_id")
        if source_id is not None:
            source = self._source(str(source_id), visible)
            if snapshot_id is not None:
                self._exportable_snapshot(source, str(snapshot_id))
        key_ref = body.get("customer_managed_key_id")
        if key_ref is not None:
            key = self.keys.get(str(key_ref))
            check_key_for_instance(
                key,
                str(key_ref),
                status=self.key_status(key) if key is not None else "",
                tenant_id=tenant_id,
                instance_type=configuration.type,
                cloud_provider=configuration.cloud_provider,
                region=configuration.region,
            )
        self.settle()
        live = [i for i in self.instances.values() if i.tenant_id == tenant_id]
        if len(live) >= tenant.instance_limit:
            raise ApiError(
                405,
                "Creating instances is not permitted at this time: the project has reached its "
                f"maximum of {tenant.instance_limit} instances",
                "instance-limit-reached",
            )
        if configuration.type == "free-db" and any(i.is_free for i in live):
            # UNCONFIRMED mapping of "one Free instance per account" (docs/aura-api.md §3.2).
            raise ApiError(
                405,
                "Creating instances is not permitted at this time: only one free instance is "
                "allowed",
                "instance-limit-reached",
            )
        instance_id = self._new_id()
        now = self.now()
        instance = SimInstance(
            id=instance_id,
            name=body["name"],
            tenant_id=tenant_id,
            cloud_provider=configuration.cloud_provider,
            region=configuration.region,
            type=configuration.type,
            memory=configuration.memory,
            storage=configuration.storage,
            version=configuration.version,
            password=secrets.token_urlsafe(32),
            connection_url=f"neo4j+s://{instance_id}.databases.neo4j.io",
            created_at=now,
            visible_at=now + max(self.duration("visibility_delay"), self.config.get_lag),
            listed_at=now + self.config.list_lag,
            vector_optimized=bool(body.get("vector_optimized", False)),
            graph_analytics_plugin=bool(body.get("graph_analytics_plugin", False)),
            source_instance_id=source_id,
            source_snapshot_id=snapshot_id,
            customer_managed_key_id=key_ref,
        )
        final = "running"
        if self.failing_creates > 0:
            self.failing_creates -= 1
            final = "loading failed"
        self._start(instance, "creating", final, "creating")
        self.instances[instance_id] = instance
        return instance

    def _new_id(self) -> str:
        while True:
            candidate = secrets.token_hex(4)
            if candidate not in self.instances and candidate not in self.deleted:
                return candidate

    def _source(self, source_id: str, visible: set[str] | None) -> SimInstance:
        source = self.instance(source_id, visible)
        if source.status in ("creating", "destroying", "loading failed"):
            raise ongoing_operation(source.status)
        return source

    def _exportable_snapshot(self, source: SimInstance, snapshot_id: str) -> SimSnapshot:
        snapshot = self._snapshot(source, snapshot_id)
        if not snapshot.exportable:
            raise bad_request(
                f"Source snapshot {snapshot_id} is not exportable", "source_snapshot_id"
            )
        if self._snapshot_status(snapshot) != "Completed":
            raise bad_request(
                f"Source snapshot {snapshot_id} is not completed", "source_snapshot_id"
            )
        return snapshot

    # ------------------------------------------------------------- snapshots

    def _snapshot_status(self, snapshot: SimSnapshot) -> str:
        return snapshot_status(
            snapshot,
            self.now(),
            self.duration("snapshot_pending"),
            self.duration("snapshot_in_progress"),
        )

    def snapshot_view(self, snapshot: SimSnapshot) -> dict[str, Any]:
        return snapshot_to_api(snapshot, self._snapshot_status(snapshot))

    @staticmethod
    def _snapshot(instance: SimInstance, snapshot_id: str) -> SimSnapshot:
        for snapshot in instance.snapshots:
            if snapshot.snapshot_id == snapshot_id:
                return snapshot
        raise snapshot_not_found(snapshot_id)

    def create_snapshot(self, instance_id: str, visible: set[str] | None) -> SimSnapshot:
        instance = self.instance(instance_id, visible)
        self._require_settled(instance)
        if instance.status != "running":
            raise wrong_state(instance.id, instance.status, "snapshotted")
        if instance.type in self.config.no_adhoc_snapshots:
            raise ApiError(
                402,
                f"On-demand snapshots are not available for {instance.type} instances",
                "payment-required",  # UNCONFIRMED reason
            )
        snapshot = SimSnapshot(
            snapshot_id=str(uuid.uuid4()),
            instance_id=instance.id,
            profile="AdHoc",
            created=self.now(),
        )
        instance.snapshots.append(snapshot)
        return snapshot

    def list_snapshots(
        self, instance_id: str, day: str | None, visible: set[str] | None
    ) -> list[SimSnapshot]:
        """Snapshots of one UTC day; today when `day` is None (SPEC)."""
        instance = self.instance(instance_id, visible)
        if day is None:
            day = datetime.fromtimestamp(self.now(), UTC).date().isoformat()
        else:
            try:
                day = datetime.strptime(day, "%Y-%m-%d").date().isoformat()
            except ValueError:
                raise bad_request("date must be formatted as YYYY-MM-DD", "date") from None
        return [
            s
            for s in instance.snapshots
            if datetime.fromtimestamp(s.created, UTC).date().isoformat() == day
        ]

    def get_snapshot(
        self, instance_id: str, snapshot_id: str, visible: set[str] | None
    ) -> SimSnapshot:
        return self._snapshot(self.instance(instance_id, visible), snapshot_id)

    def key_status(self, key: SimKey) -> str:
        return key.status(self.now(), self.duration("key_pending"))

    def reset(self) -> None:
        self.instances.clear()
        self.deleted.clear()
        self.keys.clear()
        self.failing_creates = 0
        self.sessions.clear()
        self.failing_session_creates = 0

    def dump(self) -> dict[str, Any]:
        self.settle()
        return {
            "instances": {k: v.model_dump(mode="json") for k, v in self.instances.items()},
            "deleted": {k: v.model_dump(mode="json") for k, v in self.deleted.items()},
            "failing_creates": self.failing_creates,
            "keys": {k: v.model_dump(mode="json") for k, v in self.keys.items()},
            "sessions": {k: v.model_dump(mode="json") for k, v in self.sessions.items()},
            "failing_session_creates": self.failing_session_creates,
        }

    def load(self, data: dict[str, Any]) -> None:
        self.instances = {
            k: SimInstance.model_validate(v) for k, v in data.get("instances", {}).items()
        }
        self.deleted = {
            k: SimInstance.model_validate(v) for k, v in data.get("deleted", {}).items()
        }
        self.failing_creates = int(data.get("failing_creates", 0))
        self.keys = {k: SimKey.model_validate(v) for k, v in data.get("keys", {}).items()}
        self.sessions = {
            k: SimSession.model_validate(v) for k, v in data.get("sessions", {}).items()
        }
        self.failing_session_creates = int(data.get("failing_session_creates", 0))
