"""The in-memory model of the Aura account: the rules of every lifecycle call.

Transitions are evaluated lazily (see `core.StateCore.settle`): each instance records where its
running operation lands and when, and every read first settles what is due. There are no
background tasks, so a test's view of `sim.state` and the API's view are always the same, and
the order of events is the real one at any time scale (durations are divided by `time_scale`).
Admin-only changes (forced statuses, console changes) live here too, beside the rules they bypass.
"""

from __future__ import annotations

import uuid
from typing import Any

from aura_simulator import validation
from aura_simulator.errors import (
    ApiError,
    bad_request,
    instance_not_found,
    wrong_state,
)
from aura_simulator.keys import SimKey, key_not_found, validate_key_body
from aura_simulator.model import (
    GONE,
    INSTANCE_STATUSES,
    SNAPSHOT_STATUSES,
    SimInstance,
    SimSnapshot,
    gigabytes,
)
from aura_simulator.session_state import SessionState


class SimState(SessionState):
    """The simulated account, with the rules of PATCH, delete, pause, resume, overwrite,
    upgrade and restore, and the admin's ways around them."""

    def update_instance(
        self, instance_id: str, body: dict[str, Any], visible: set[str] | None
    ) -> tuple[SimInstance, bool]:
        """PATCH: (instance, accepted). A rename alone is done at once (200); anything else
        starts `updating` (202) and lands when the transition does."""
        instance = self.instance(instance_id, visible)
        fields = validation.validate_patch(body, instance.type)
        self._require_settled(instance)
        changes = {k: v for k, v in fields.items() if k != "name"}
        if not changes:
            if "name" in fields:
                instance.name = fields["name"]
                return instance, False
            # `{}`: accepted, nothing to do (UNCONFIRMED, docs/aura-api.md §3.2)
            return instance, True
        if instance.status not in ("running", "paused"):
            raise wrong_state(instance.id, instance.status, "updated")
        pending: dict[str, Any] = {}
        if "memory" in changes or "storage" in changes:
            if instance.is_free:
                raise bad_request("Free instances cannot be resized", "memory")
            memory, storage = validation.resize_target(
                self.tenant(instance.tenant_id),
                instance_type=instance.type,
                cloud=instance.cloud_provider,
                region=instance.region,
                version=instance.version,
                memory=changes.get("memory", instance.memory),
                storage=changes.get("storage"),
            )
            pending.update(memory=memory, storage=storage)
        validation.check_flags(
            instance.type,
            pending.get("memory", instance.memory),
            changes.get("vector_optimized", instance.vector_optimized),
            changes.get("graph_analytics_plugin"),
        )
        for key in ("vector_optimized", "graph_analytics_plugin", "secondaries_count"):
            if key in changes:
                pending[key] = changes[key]
        if "cdc_enrichment_mode" in changes:
            pending["cdc_enrichment_mode"] = changes["cdc_enrichment_mode"]
        if "name" in fields:
            instance.name = fields["name"]
        # A paused instance stays paused after a change (TF accepts `paused` as settled).
        self._start(instance, "updating", instance.status, "updating", pending)
        return instance, True

    def delete_instance(self, instance_id: str, visible: set[str] | None) -> SimInstance:
        instance = self.instance(instance_id, visible)
        if instance.status == "destroying":
            # Only one DELETE gets 202; later ones get 404 (SPEC delete description).
            raise instance_not_found(instance_id)
        self._require_settled(instance)
        self._start(instance, "destroying", GONE, "destroying")
        return instance

    def pause(self, instance_id: str, visible: set[str] | None) -> SimInstance:
        instance = self.instance(instance_id, visible)
        self._require_settled(instance)
        if instance.is_free:
            # UNCONFIRMED status (docs/aura-api.md §3.2); pause lists 400 in the SPEC.
            raise bad_request("Free instances cannot be paused", reason="tier-unsupported-action")
        if instance.status != "running":
            raise wrong_state(instance.id, instance.status, "paused")
        self._start(instance, "pausing", "paused", "pausing")
        return instance

    def resume(self, instance_id: str, visible: set[str] | None) -> SimInstance:
        instance = self.instance(instance_id, visible)
        self._require_settled(instance)
        if instance.status != "paused":
            raise wrong_state(instance.id, instance.status, "resumed")
        self._start(instance, "resuming", "running", "resuming")
        return instance

    def overwrite(
        self, instance_id: str, body: dict[str, Any], visible: set[str] | None
    ) -> SimInstance:
        instance = self.instance(instance_id, visible)
        source_id = body.get("source_instance_id")
        if not isinstance(source_id, str) or not source_id:
            raise bad_request("source_instance_id is required", "source_instance_id")
        snapshot_id = body.get("source_snapshot_id")
        if snapshot_id is not None and not isinstance(snapshot_id, str):
            raise bad_request("source_snapshot_id must be a string", "source_snapshot_id")
        if instance.is_free:
            raise ApiError(420, "Action unsupported for this tier", "tier-unsupported-action")
        self._require_settled(instance)
        if instance.status != "running":
            raise wrong_state(instance.id, instance.status, "overwritten")
        source = self._source(source_id, visible)
        if snapshot_id is not None:
            self._exportable_snapshot(source, snapshot_id)
        if gigabytes(source.storage) > gigabytes(instance.storage):
            raise ApiError(
                500,
                f"Cannot clone database {source.id} into smaller database {instance.id}.",
                "db-overwrite-size-disparity",
            )
        self._start(instance, "overwriting", "running", "overwriting")
        return instance

    def upgrade(
        self, instance_id: str, body: dict[str, Any], visible: set[str] | None
    ) -> SimInstance:
        """professional-db -> business-critical in place (200; async, UNCONFIRMED)."""
        instance = self.instance(instance_id, visible)
        self._require_settled(instance)
        if instance.type != "professional-db":
            raise bad_request("Only professional-db instances can be upgraded", "type")
        if instance.status != "running":
            raise wrong_state(instance.id, instance.status, "upgraded")
        if ("memory" in body) != ("storage" in body):
            raise bad_request("memory and storage must be given together", "memory")
        memory, storage = validation.resize_target(
            self.tenant(instance.tenant_id),
            instance_type="business-critical",
            cloud=instance.cloud_provider,
            region=instance.region,
            version=instance.version,
            memory=str(body.get("memory", instance.memory)),
            storage=body.get("storage"),
        )
        pending = {"type": "business-critical", "memory": memory, "storage": storage}
        self._start(instance, "updating", "running", "updating", pending)
        return instance

    def restore(self, instance_id: str, snapshot_id: str, visible: set[str] | None) -> SimInstance:
        instance = self.instance(instance_id, visible)
        snapshot = self._snapshot(instance, snapshot_id)
        self._require_settled(instance)
        if instance.status != "running":
            raise wrong_state(instance.id, instance.status, "restored")
        if self._snapshot_status(snapshot) != "Completed":
            raise bad_request(f"Snapshot {snapshot_id} is not completed", "snapshot_id")
        self._start(instance, "restoring", "running", "restoring")
        return instance

    # ------------------------------------------------- customer-managed keys

    def create_key(self, body: dict[str, Any], visible: set[str] | None) -> SimKey:
        tenant_id = body.get("tenant_id")
        if not isinstance(tenant_id, str) or not tenant_id:
            raise bad_request("tenant_id is required", "tenant_id")
        tenant = self.config.tenant(tenant_id)
        if tenant is None or (visible is not None and tenant_id not in visible):
            raise bad_request(f"Tenant not found: {tenant_id}", "tenant_id", "tenant-not-found")
        fields = validate_key_body(tenant, body)
        key = SimKey(id=str(uuid.uuid4()), created=self.now(), **fields)
        self.keys[key.id] = key
        return key

    def key(self, key_id: str, visible: set[str] | None) -> SimKey:
        key = self.keys.get(key_id)
        if key is None or (visible is not None and key.tenant_id not in visible):
            raise key_not_found(key_id)
        return key

    def list_keys(self, visible: set[str] | None, tenant_id: str | None) -> list[SimKey]:
        return [
            k
            for k in self.keys.values()
            if (visible is None or k.tenant_id in visible)
            and (tenant_id is None or k.tenant_id == tenant_id)
        ]

    def delete_key(self, key_id: str, visible: set[str] | None) -> None:
        """Gone at once (204); refused while a live instance is encrypted with it."""
        key = self.key(key_id, visible)
        self.settle()
        if any(i.customer_managed_key_id == key.id for i in self.instances.values()):
            raise ApiError(
                400,
                f"Can not delete encryption key {key.id}. The key is linked to an active instance.",
                "encryption-key-is-active",
            )
        del self.keys[key.id]

    # ----------------------------------------------------------------- admin

    def force_status(
        self, instance_id: str, status: str, *, then: str | None = None, after: float = 0.0
    ) -> SimInstance:
        """Put an instance into `status` now; optionally move to `then` after `after` seconds
        (scaled). Any running transition is dropped."""
        self.settle()
        instance = self.instances.get(instance_id)
        if instance is None:
            raise instance_not_found(instance_id)
        for value in (status, then):
            if value is not None and value not in INSTANCE_STATUSES and value != GONE:
                raise bad_request(f"unknown status {value}", "status")
        instance.status = status
        instance.visible_at = min(instance.visible_at, self.now())
        instance.listed_at = min(instance.listed_at, self.now())
        instance.pending = {}
        instance.next_status = then
        instance.due = self.now() + self.scaled(after) if then is not None else None
        if status == GONE:
            instance.next_status, instance.due = GONE, self.now()
            self.settle()
        return instance

    def force_snapshot_status(self, instance_id: str, snapshot_id: str, status: str) -> SimSnapshot:
        self.settle()
        instance = self.instances.get(instance_id)
        if instance is None:
            raise instance_not_found(instance_id)
        if status not in SNAPSHOT_STATUSES:
            raise bad_request(f"unknown snapshot status {status}", "status")
        snapshot = self._snapshot(instance, snapshot_id)
        snapshot.forced_status = status
        return snapshot

    def console(self, instance_id: str, action: str, **fields: Any) -> SimInstance:
        """A change made by a person in the Aura console: no auth, no rate limit, no 409 —
        it just happens, and any running transition is replaced."""
        self.settle()
        instance = self.instances.get(instance_id)
        if instance is None:
            raise instance_not_found(instance_id)
        instance.visible_at = min(instance.visible_at, self.now())
        instance.listed_at = min(instance.listed_at, self.now())
        if action == "delete":
            self._start(instance, "destroying", GONE, "destroying")
        elif action == "pause":
            self._start(instance, "pausing", "paused", "pausing")
        elif action == "resume":
            self._start(instance, "resuming", "running", "resuming")
        elif action == "rename":
            instance.name = validation.check_name(fields.get("name"))
        elif action == "resize":
            memory, storage = validation.resize_target(
                self.tenant(instance.tenant_id),
                instance_type=instance.type,
                cloud=instance.cloud_provider,
                region=instance.region,
                version=instance.version,
                memory=str(fields.get("memory", instance.memory)),
                storage=fields.get("storage"),
            )
            settled = instance.status if instance.status in ("running", "paused") else "running"
            self._start(
                instance, "updating", settled, "updating", {"memory": memory, "storage": storage}
            )
        else:
            raise bad_request(f"unknown console action {action}", "action")
        return instance
