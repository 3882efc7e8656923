"""The account's Graph Analytics sessions: get-or-create by name and project, list, get, delete,
and the admin's ways around the clock (expire now, activity, failing creates).

A layer between `StateCore` (instances, the clock) and `SimState` (the instance rules), so the
session rules read instances and the tenant configuration the same way the instance rules do,
and reset and `--state FILE` cover sessions with everything else (docs/aura-api.md §3.5).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from aura_simulator.core import StateCore
from aura_simulator.errors import ApiError, bad_request
from aura_simulator.sessions import (
    MAX_LIFETIME,
    SESSION_STATUSES,
    SessionRequest,
    SimSession,
    conflict,
    parse_session_body,
    session_not_found,
)
from aura_simulator.validation import CLOUD_PROVIDERS


class SessionState(StateCore):
    """Sessions by id, beside the instances they may be attached to."""

    def session_status(self, session: SimSession) -> str:
        return session.status(self.now(), self.scaled(session.ttl), self.scaled(MAX_LIFETIME))

    def session_view(self, session: SimSession) -> dict[str, Any]:
        return session.to_api(self.session_status(session), self.scaled(MAX_LIFETIME))

    def get_or_create_session(
        self, body: dict[str, Any], visible: set[str] | None, user_id: str
    ) -> tuple[SimSession, bool]:
        """(session, created): the session of that name in that project when its parameters
        match (200), a new one (202), or the SPEC's 409 listing the differences."""
        request = parse_session_body(body)
        placement = self._placement(request, visible)
        now = self.now()
        candidate = SimSession(
            id=self._session_id(placement["instance_id"]),
            name=request.name,
            user_id=user_id,
            memory=request.memory,
            ttl=request.ttl,
            database_uuid=request.database_uuid or placement["database_uuid"],
            created=now,
            ready_at=now + self.duration("session_creating"),
            failing=self.failing_session_creates > 0,
            **{k: v for k, v in placement.items() if k != "database_uuid"},
        )
        for session in self.sessions.values():
            if session.name == candidate.name and session.tenant_id == candidate.tenant_id:
                error = conflict(session, candidate.parameters())
                if error is not None:
                    raise error
                return session, False
        session = candidate
        self.failing_session_creates = max(0, self.failing_session_creates - 1)
        self.sessions[session.id] = session
        return session, True

    def _placement(self, request: SessionRequest, visible: set[str] | None) -> dict[str, Any]:
        """Where the session runs: its instance's project, cloud and region when attached;
        the body's `tenant_id`, `cloud_provider`, `region` when standalone."""
        if request.instance_id is not None:
            try:
                instance = self.instance(request.instance_id, visible)
            except ApiError:
                raise bad_request(
                    f"DB not found: {request.instance_id}", "instance_id", "db-not-found"
                ) from None
            given = {
                "tenant_id": request.tenant_id,
                "cloud_provider": request.cloud_provider,
                "region": request.region,
            }
            for field, value in given.items():
                if value is not None and value != getattr(instance, field):
                    raise bad_request(
                        f"{field} {value} does not match instance {instance.id}", field
                    )
            return {
                "tenant_id": instance.tenant_id,
                "instance_id": instance.id,
                "cloud_provider": instance.cloud_provider,
                "region": instance.region,
                "database_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"aura-sim:{instance.id}")),
            }
        for field in ("tenant_id", "cloud_provider", "region"):
            if getattr(request, field) is None:
                raise bad_request(
                    f"{field} is required for a standalone session (or give instance_id)", field
                )
        tenant_id = str(request.tenant_id)
        tenant = self.config.tenant(tenant_id)
        if tenant is None or (visible is not None and tenant_id not in visible):
            raise bad_request(f"Tenant not found: {tenant_id}", "tenant_id", "tenant-not-found")
        if request.cloud_provider not in CLOUD_PROVIDERS:
            allowed = ", ".join(CLOUD_PROVIDERS)
            raise bad_request(f"cloud_provider must be one of: {allowed}", "cloud_provider")
        regions = sorted(
            {
                c.region
                for c in tenant.instance_configurations
                if c.cloud_provider == request.cloud_provider
            }
        )
        if request.region not in regions:
            offered = ", ".join(regions) or "(none for this cloud)"
            raise bad_request(f"region must be one of: {offered}", "region")
        return {
            "tenant_id": tenant_id,
            "instance_id": None,
            "cloud_provider": request.cloud_provider,
            "region": request.region,
            "database_uuid": None,
        }

    def _session_id(self, instance_id: str | None) -> str:
        """Shaped like the SPEC's examples: `559c94c7-15de43fg` (attached: the instance id,
        then 8 characters) or `s-04de43fe-67ab-4` (standalone)."""
        while True:
            token = secrets.token_hex(7)
            if instance_id is not None:
                candidate = f"{instance_id}-{token[:8]}"
            else:
                candidate = f"s-{token[:8]}-{token[8:12]}-{token[12]}"
            if candidate not in self.sessions:
                return candidate

    def session(self, session_id: str, visible: set[str] | None) -> SimSession:
        session = self.sessions.get(session_id)
        if session is None or (visible is not None and session.tenant_id not in visible):
            raise session_not_found(session_id)
        return session

    def list_sessions(
        self, visible: set[str] | None, *, tenant_id: str | None, instance_id: str | None
    ) -> list[SimSession]:
        """`?tenantId=` and `?instanceId=` filter; an unknown instance is 404 (SPEC); the
        simulator has no organizations, so `?organizationId=` filters nothing."""
        if instance_id is not None:
            self.instance(instance_id, visible)
        if tenant_id is not None:
            self.tenant(tenant_id, visible)
        return [
            s
            for s in self.sessions.values()
            if (visible is None or s.tenant_id in visible)
            and (tenant_id is None or s.tenant_id == tenant_id)
            and (instance_id is None or s.instance_id == instance_id)
        ]

    def delete_session(self, session_id: str, visible: set[str] | None) -> SimSession:
        """202 and gone: the SPEC has no `Deleting` status, so a GET right after is 404."""
        session = self.session(session_id, visible)
        del self.sessions[session.id]
        return session

    # ----------------------------------------------------------------- admin

    def _any_session(self, session_id: str) -> SimSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise session_not_found(session_id)
        return session

    def expire_session(self, session_id: str) -> SimSession:
        """`Expired` now, as if its TTL or the 7 days had run out."""
        session = self._any_session(session_id)
        session.forced_status = "Expired"
        return session

    def force_session_status(self, session_id: str, status: str) -> SimSession:
        if status not in SESSION_STATUSES:
            raise bad_request(f"unknown session status {status}", "status")
        session = self._any_session(session_id)
        session.forced_status = status
        return session

    def session_activity(self, session_id: str) -> SimSession:
        """Someone used the session now: its inactivity timeout starts again."""
        session = self._any_session(session_id)
        session.active_at = max(self.now(), session.ready_at)
        return session
