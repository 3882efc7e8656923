"""The Aura API client: one method per v1 operation, over one `httpx.AsyncClient`.

The request path (`_send`) is where the rules live:
- every request first takes a token from its credential's budget, at the caller's priority;
- a 401/403 refreshes the token once and resends once (an auth-rejected request did nothing);
- POST and PATCH are never resent after a 5xx, a timeout or a dropped connection: the caller
  gets `AuraOutcomeUnknown` and must look before it acts again;
- GET and DELETE (documented as safe to retry) are retried with capped, jittered backoff, and a
  `Retry-After` is a floor for the next try;
- a 429 (or a 5xx with `Retry-After` on a GET/DELETE) holds every request of the credential
  for its `Retry-After`; waits longer than
  `max_inline_wait` raise `AuraRateLimited(retry_after=...)` instead of sleeping;
- plan mode (`AuraClient.planning()`, per task; `--dry-run`, per process through the registry):
  GETs are sent, every other request raises `AuraPlanned` describing it instead of leaving the
  process (token requests excepted: they change nothing).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import random
import re
import time
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import quote

import httpx
from pydantic import SecretStr, TypeAdapter, ValidationError

from aura_operator import __version__
from aura_operator.aura.auth import credential_key
from aura_operator.aura.clock import Clock
from aura_operator.aura.errors import (
    AuraConflict,
    AuraError,
    AuraOutcomeUnknown,
    AuraPlanned,
    AuraRateLimited,
    AuraServerError,
    AuraSessionConflict,
    AuraTokenError,
    AuraTransportError,
    AuraUnexpectedResponse,
    error_from_response,
)
from aura_operator.aura.models import (
    CreatedInstance,
    CustomerManagedKey,
    CustomerManagedKeySummary,
    Instance,
    InstanceSummary,
    MetricsIntegration,
    Snapshot,
    SnapshotRef,
    Tenant,
    TenantSummary,
    TokenResponse,
    UpdateResult,
)
from aura_operator.aura.ratelimit import (
    BudgetHold,
    CredentialBudget,
    Priority,
    parse_retry_after,
)
from aura_operator.aura.registry import CredentialRegistry
from aura_operator.aura.retry import RetryDecision, decide, is_server_error
from aura_operator.aura.sessions import (
    GdsSession,
    SessionResult,
    SessionSizing,
    format_duration,
    parse_differences,
)

logger = logging.getLogger(__name__)

USER_AGENT = f"aura-operator/{__version__}"
_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})
_priority: contextvars.ContextVar[Priority | None] = contextvars.ContextVar(
    "aura_priority", default=None
)


class Planning:
    """One plan being made (`AuraClient.planning`): what this plan's GETs answered, by path,
    so that a planned PATCH can say which fields would change from what. A witness
    (`send=True`) lets every request go and keeps what was sent, to compare with a plan."""

    def __init__(self, *, send: bool = False) -> None:
        self.send = send
        self.read: dict[str, Mapping[str, Any]] = {}
        self.sent: list[AuraPlanned] = []

    def note(self, path: str, response: httpx.Response) -> None:
        body = _json_or_none(response)
        data = body.get("data") if isinstance(body, Mapping) else None
        if isinstance(data, Mapping):
            self.read[path] = data

    def describe(self, method: str, path: str, body: Mapping[str, Any] | None) -> AuraPlanned:
        return AuraPlanned(method, path, body, self.read.get(path))


_planning: contextvars.ContextVar[Planning | None] = contextvars.ContextVar(
    "aura_planning", default=None
)

_ID_SEGMENT = re.compile(
    r"/(instances|tenants|snapshots|customer-managed-keys|sessions)/(?!sizing\b)[^/]+"
)


def route_of(path: str) -> str:
    """The route template of a path, for metrics: ids become `{id}`."""
    return _ID_SEGMENT.sub(r"/\1/{id}", path)


class RequestObserver(Protocol):
    """Receives what the client did, for metrics. Must not raise."""

    def on_response(self, method: str, route: str, status: int, seconds: float) -> None:
        """One answered request; `status` 0 for a timeout or connection error."""

    def on_budget_wait(self, priority: Priority, seconds: float) -> None:
        """Time one request waited for its credential's budget."""


_tenants = TypeAdapter(list[TenantSummary])
_instances = TypeAdapter(list[InstanceSummary])
_snapshots = TypeAdapter(list[Snapshot])
_keys = TypeAdapter(list[CustomerManagedKeySummary])
_sessions = TypeAdapter(list[GdsSession])
_SESSIONS = "/v1/graph-analytics/sessions"


def _seg(value: str) -> str:
    """One path segment, escaped so an id can never change the path."""
    if not value:
        raise ValueError("an id in the path must not be empty")
    return quote(value, safe="")


class AuraClient:
    """Async client of the Aura API v1. Use as `async with AuraClient(...) as aura:`."""

    def __init__(
        self,
        *,
        base_url: str = "https://api.neo4j.io",
        client_id: str,
        client_secret: str | SecretStr,
        registry: CredentialRegistry | None = None,
        requests_per_minute: float = 110.0,
        burst: int = 10,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        max_inline_wait: float = 5.0,
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        observer: RequestObserver | None = None,
    ) -> None:
        if not client_id:
            raise ValueError("client_id is required")
        secret = client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        if not secret.get_secret_value():
            raise ValueError("client_secret is required")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = secret
        self._registry = registry or CredentialRegistry(
            requests_per_minute=requests_per_minute, burst=burst, clock=clock
        )
        self._clock = self._registry.clock
        self._key = credential_key(client_id, secret.get_secret_value())
        self.max_retries = max_retries
        self.max_inline_wait = max_inline_wait
        self._rng = rng or random.Random()
        self._observer = observer
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"AuraClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def budget(self) -> CredentialBudget:
        """This credential's request budget (shared with every client of the same id)."""
        return self._registry.budget(self.client_id)

    @staticmethod
    @contextlib.contextmanager
    def priority(priority: Priority) -> Iterator[None]:
        """Send the requests made inside this block (in this task) at `priority`."""
        token = _priority.set(priority)
        try:
            yield
        finally:
            _priority.reset(token)

    @staticmethod
    @contextlib.contextmanager
    def planning(active: bool = True, *, send: bool = False) -> Iterator[Planning | None]:
        """Plan the requests made inside this block (in this task and the tasks it starts):
        GETs are sent, any other request raises `AuraPlanned` instead. `send`: a witness,
        every request goes and `sent` keeps the others. Not `active`: a no-op."""
        if not active:
            yield None
            return
        plan = Planning(send=send)
        token = _planning.set(plan)
        try:
            yield plan
        finally:
            _planning.reset(token)

    @staticmethod
    def is_planning() -> bool:
        """Is a plan being made in this task (no mutating request may leave it)?"""
        plan = _planning.get()
        return plan is not None and not plan.send

    # ---------------------------------------------------------------- tenants

    async def list_tenants(self) -> list[TenantSummary]:
        return _tenants.validate_python(await self._data("GET", "/v1/tenants"))

    async def get_tenant(self, tenant_id: str) -> Tenant:
        return Tenant.model_validate(await self._data("GET", f"/v1/tenants/{_seg(tenant_id)}"))

    # -------------------------------------------------------------- instances

    async def list_instances(self, tenant_id: str | None = None) -> list[InstanceSummary]:
        params = {"tenantId": tenant_id} if tenant_id else None
        return _instances.validate_python(await self._data("GET", "/v1/instances", params=params))

    async def create_instance(
        self,
        *,
        name: str,
        version: str,
        region: str,
        memory: str,
        type: str,  # the API's field name
        tenant_id: str,
        cloud_provider: str,
        **fields: Any,
    ) -> CreatedInstance:
        """`POST /v1/instances`, sent exactly once. Other body fields (storage,
        source_instance_id, source_snapshot_id, customer_managed_key_id, vector_optimized,
        graph_analytics_plugin) go in `fields`; None values are left out."""
        body = {
            "name": name,
            "version": version,
            "region": region,
            "memory": memory,
            "type": type,
            "tenant_id": tenant_id,
            "cloud_provider": cloud_provider,
            **fields,
        }
        try:
            data = await self._data("POST", "/v1/instances", body=_compact(body))
        except AuraUnexpectedResponse as exc:
            # A 2xx whose body is unreadable: Aura may well have created the instance.
            raise AuraOutcomeUnknown(
                f"{exc.message}; the instance may or may not have been created",
                method="POST",
                path="/v1/instances",
                status=exc.status,
                request_id=exc.request_id,
            ) from None
        try:
            return CreatedInstance.model_validate(data)
        except ValidationError:
            # The only response that carries the password: keep what can be read of it
            # rather than lose the password over an odd field.
            salvaged = CreatedInstance.salvage(data)
            if salvaged is None:
                raise AuraOutcomeUnknown(
                    "the create response has no readable id and password; the instance may or "
                    "may not have been created",
                    method="POST",
                    path="/v1/instances",
                ) from None
            logger.warning(
                "aura POST /v1/instances: response partly unreadable; kept id %s", salvaged.id
            )
            return salvaged

    async def get_instance(self, instance_id: str) -> Instance:
        return Instance.model_validate(
            await self._data("GET", f"/v1/instances/{_seg(instance_id)}")
        )

    async def update_instance(self, instance_id: str, **fields: Any) -> UpdateResult:
        """`PATCH /v1/instances/{id}` with name, memory, storage, vector_optimized,
        graph_analytics_plugin, secondaries_count, cdc_enrichment_mode (None values dropped)."""
        body = _compact(fields)
        if not body:
            raise ValueError("update_instance needs at least one field to change")
        response = await self._send("PATCH", f"/v1/instances/{_seg(instance_id)}", body=body)
        data = _envelope(response, allow_empty=True)
        instance = Instance.model_validate(data) if isinstance(data, Mapping) and data else None
        return UpdateResult(accepted=response.status_code == 202, instance=instance)

    async def delete_instance(self, instance_id: str) -> Instance | None:
        """`DELETE /v1/instances/{id}`: 202 with the instance (`destroying`). A second delete
        answers 404 (`AuraNotFound`), which callers should count as done."""
        response = await self._send("DELETE", f"/v1/instances/{_seg(instance_id)}")
        data = _envelope(response, allow_empty=True)
        return Instance.model_validate(data) if isinstance(data, Mapping) and data else None

    async def pause_instance(self, instance_id: str) -> Instance:
        return await self._action(instance_id, "pause")

    async def resume_instance(self, instance_id: str) -> Instance:
        return await self._action(instance_id, "resume")

    async def overwrite_instance(
        self, instance_id: str, *, source_instance_id: str, source_snapshot_id: str | None = None
    ) -> Instance:
        body = _compact(
            {"source_instance_id": source_instance_id, "source_snapshot_id": source_snapshot_id}
        )
        return await self._action(instance_id, "overwrite", body)

    async def upgrade_instance(
        self, instance_id: str, *, memory: str | None = None, storage: str | None = None
    ) -> Instance:
        """`POST /instances/{id}/upgrade`: professional-db -> business-critical in place.
        Sent once; memory and storage are sent together or not at all (docs/aura-api.md §3.2)."""
        body = _compact({"memory": memory, "storage": storage}) if memory and storage else {}
        return await self._action(instance_id, "upgrade", body)

    # -------------------------------------------------------------- snapshots

    async def list_snapshots(
        self, instance_id: str, *, date: date | str | None = None
    ) -> list[Snapshot]:
        """Snapshots of one day (`date`, default: today as the API defines it)."""
        params = {"date": date if isinstance(date, str) else date.isoformat()} if date else None
        data = await self._data(
            "GET", f"/v1/instances/{_seg(instance_id)}/snapshots", params=params
        )
        return _snapshots.validate_python(data)

    async def create_snapshot(self, instance_id: str) -> SnapshotRef:
        path = f"/v1/instances/{_seg(instance_id)}/snapshots"
        return SnapshotRef.model_validate(await self._data("POST", path, body={}))

    async def get_snapshot(self, instance_id: str, snapshot_id: str) -> Snapshot:
        path = f"/v1/instances/{_seg(instance_id)}/snapshots/{_seg(snapshot_id)}"
        return Snapshot.model_validate(await self._data("GET", path))

    async def restore_snapshot(self, instance_id: str, snapshot_id: str) -> Instance:
        """Restore in place: the instance goes to `restoring`, then `running`."""
        path = f"/v1/instances/{_seg(instance_id)}/snapshots/{_seg(snapshot_id)}/restore"
        return Instance.model_validate(await self._data("POST", path, body={}))

    # -------------------------------------------------- customer-managed keys

    async def list_customer_managed_keys(
        self, tenant_id: str | None = None
    ) -> list[CustomerManagedKeySummary]:
        """Summaries only (id, name, tenant_id); GET each key for its status."""
        params = {"tenantId": tenant_id} if tenant_id else None
        data = await self._data("GET", "/v1/customer-managed-keys", params=params)
        return _keys.validate_python(data)

    async def create_customer_managed_key(
        self,
        *,
        name: str,
        key_id: str,
        instance_type: str,
        region: str,
        tenant_id: str,
        cloud_provider: str,
    ) -> CustomerManagedKey:
        """`POST /v1/customer-managed-keys`, sent exactly once: 202 with the key (`pending`).
        An unreadable 2xx raises `AuraOutcomeUnknown`: the key may exist; look before acting."""
        body = {
            "name": name,
            "key_id": key_id,
            "instance_type": instance_type,
            "region": region,
            "tenant_id": tenant_id,
            "cloud_provider": cloud_provider,
        }
        path = "/v1/customer-managed-keys"
        try:
            return CustomerManagedKey.model_validate(await self._data("POST", path, body=body))
        except (AuraUnexpectedResponse, ValidationError) as exc:
            raise AuraOutcomeUnknown(
                f"unreadable answer to the key create ({type(exc).__name__}); the key may or "
                "may not have been created",
                method="POST",
                path=path,
            ) from None

    async def get_customer_managed_key(self, key_id: str) -> CustomerManagedKey:
        path = f"/v1/customer-managed-keys/{_seg(key_id)}"
        return CustomerManagedKey.model_validate(await self._data("GET", path))

    async def delete_customer_managed_key(self, key_id: str) -> None:
        """`DELETE`: 204 without a body. A key still used by an instance answers 400
        `encryption-key-is-active` (AuraBadRequest with that reason); a gone key 404."""
        await self._send("DELETE", f"/v1/customer-managed-keys/{_seg(key_id)}")

    # ------------------------------------------------- graph analytics sessions

    async def get_or_create_session(
        self,
        *,
        name: str,
        memory: str,
        ttl: timedelta | str | None = None,
        instance_id: str | None = None,
        database_uuid: str | None = None,
        tenant_id: str | None = None,
        cloud_provider: str | None = None,
        region: str | None = None,
    ) -> SessionResult:
        """`POST /v1/graph-analytics/sessions`, sent exactly once (like every POST: after a 5xx
        or a lost answer the caller gets `AuraOutcomeUnknown` and looks the name up in the list
        before asking again). Attached: `instance_id`; standalone: `tenant_id`,
        `cloud_provider`, `region`. `created` is True for a 202 (created now), False for a 200
        (it existed with these parameters). A 409 raises `AuraSessionConflict`."""
        body = _compact(
            {
                "name": name,
                "memory": memory,
                "ttl": format_duration(ttl) if isinstance(ttl, timedelta) else ttl,
                "instance_id": instance_id,
                "database_uuid": database_uuid,
                "tenant_id": tenant_id,
                "cloud_provider": cloud_provider,
                "region": region,
            }
        )
        try:
            response = await self._send("POST", _SESSIONS, body=body)
        except AuraConflict as exc:
            raise AuraSessionConflict(
                exc.message,
                differences=parse_differences(exc.message),
                method=exc.method,
                path=exc.path,
                status=exc.status,
                reason=exc.reason,
                messages=exc.messages,
                request_id=exc.request_id,
            ) from None
        try:
            session = GdsSession.model_validate(_envelope(response))
        except (AuraUnexpectedResponse, ValidationError) as exc:
            raise AuraOutcomeUnknown(
                f"unreadable answer to the session get-or-create ({type(exc).__name__}); the "
                "session may or may not exist",
                method="POST",
                path=_SESSIONS,
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
            ) from None
        return SessionResult(session=session, created=response.status_code == 202)

    async def list_sessions(
        self,
        *,
        tenant_id: str | None = None,
        instance_id: str | None = None,
        organization_id: str | None = None,
    ) -> list[GdsSession]:
        params = _compact(
            {"tenantId": tenant_id, "instanceId": instance_id, "organizationId": organization_id}
        )
        return _sessions.validate_python(await self._data("GET", _SESSIONS, params=params or None))

    async def get_session(self, session_id: str) -> GdsSession:
        """404 (`AuraNotFound`, empty reason) once it is deleted."""
        return GdsSession.model_validate(await self._data("GET", f"{_SESSIONS}/{_seg(session_id)}"))

    async def delete_session(self, session_id: str) -> str | None:
        """`DELETE`: 202 `{"id"}` (the id, if the body has it). A gone session answers 404
        (`AuraNotFound`), which callers should count as done."""
        response = await self._send("DELETE", f"{_SESSIONS}/{_seg(session_id)}")
        data = _envelope(response, allow_empty=True)
        deleted = data.get("id") if isinstance(data, Mapping) else None
        return deleted if isinstance(deleted, str) else None

    async def estimate_session_size(
        self,
        *,
        node_count: int,
        relationship_count: int,
        algorithm_categories: list[str] | None = None,
        node_property_count: int | None = None,
        node_label_count: int | None = None,
        relationship_property_count: int | None = None,
    ) -> SessionSizing:
        """`POST /v1/graph-analytics/sessions/sizing`: changes nothing, but is a POST and so,
        like every POST, not resent by the client (ask again after `AuraOutcomeUnknown`)."""
        body = _compact(
            {
                "node_count": node_count,
                "relationship_count": relationship_count,
                "algorithm_categories": algorithm_categories,
                "node_property_count": node_property_count,
                "node_label_count": node_label_count,
                "relationship_property_count": relationship_property_count,
            }
        )
        return SessionSizing.model_validate(
            await self._data("POST", f"{_SESSIONS}/sizing", body=body)
        )

    # ---------------------------------------------------------------- metrics

    async def get_metrics_integration(self, tenant_id: str) -> MetricsIntegration:
        """The project's metrics endpoint. A project without an instance Aura exports metrics
        for answers 400 `tenant-incapable-of-action` (`AuraBadRequest`)."""
        path = f"/v1/tenants/{_seg(tenant_id)}/metrics-integration"
        return MetricsIntegration.model_validate(await self._data("GET", path))

    # ------------------------------------------------------------- internals

    async def _action(
        self, instance_id: str, action: str, body: Mapping[str, Any] | None = None
    ) -> Instance:
        path = f"/v1/instances/{_seg(instance_id)}/{action}"
        return Instance.model_validate(await self._data("POST", path, body=body or {}))

    async def _data(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        return _envelope(await self._send(method, path, body=body, params=params))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request through the budget, with a fresh token; retried as `_decide` says (a
        request that may have been applied is never resent: AuraOutcomeUnknown)."""
        plan = _planning.get()
        if method != "GET":
            if self._registry.dry_run:
                raise plan.describe(method, path, body) if plan else AuraPlanned(method, path, body)
            if plan is not None and not plan.send:
                raise plan.describe(method, path, body)
            if plan is not None:
                plan.sent.append(plan.describe(method, path, body))
        retry_safe = method in _IDEMPOTENT
        priority = _priority.get()
        if priority is None:
            priority = Priority.TRANSIENT if method == "GET" else Priority.CHANGE
        content = json.dumps(body if body is not None else {}).encode()
        if method in _IDEMPOTENT and body is None:
            content = b""
        auth_retried = False
        attempt = 0
        while True:
            await self._acquire(method, path, priority)
            token = await self._token()
            headers = {
                "Authorization": f"Bearer {token.get_secret_value()}",
                "Content-Type": "application/json",
            }
            started = time.perf_counter()
            try:
                response = await self._http.request(
                    method, path, content=content, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                self._observe(method, path, 0, started)
                await self._after_transport_error(exc, method, path, retry_safe, attempt)
                attempt += 1
                continue
            status = response.status_code
            self._observe(method, path, status, started)
            logger.debug(
                "aura %s %s -> %d in %.3fs (request id %s)",
                method,
                path,
                status,
                time.perf_counter() - started,
                response.headers.get("x-request-id"),
            )
            if status in (401, 403) and not auth_retried:
                # Expired or revoked token (Aura answers 403; some say 401): refresh and resend
                # once. Safe for a POST too: a request rejected by authentication did nothing.
                auth_retried = True
                self._registry.tokens.invalidate(self._key, token)
                continue
            if 200 <= status < 300:
                if plan is not None:
                    plan.note(path, response)
                return response
            await self._after_error_status(response, method, path, retry_safe, attempt)
            attempt += 1

    async def _after_transport_error(
        self, exc: httpx.TransportError, method: str, path: str, retry_safe: bool, attempt: int
    ) -> None:
        """No answer: wait before the next attempt, or raise (unknown outcome, or given up)."""
        kind = _transport_kind(exc)
        decision = self._decide(None, retry_safe, attempt, None)
        if decision.outcome_unknown:
            raise AuraOutcomeUnknown(
                f"{kind}; the request may or may not have been applied and is not resent",
                method=method,
                path=path,
            ) from None
        if not decision.retry:
            raise AuraTransportError(
                f"{kind} after {attempt + 1} attempts",
                method=method,
                path=path,
                retry_after=decision.delay,
            ) from None
        logger.debug("aura %s %s: %s, retry in %.1fs", method, path, kind, decision.delay)
        await self._clock.sleep(decision.delay)

    async def _after_error_status(
        self, response: httpx.Response, method: str, path: str, retry_safe: bool, attempt: int
    ) -> None:
        """An error status: hold the credential's budget, wait before the next attempt, or
        raise the error it is (unknown outcome, refused, or given up)."""
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock.now())
        error = error_from_response(
            method=method,
            path=path,
            status=status,
            body=_json_or_none(response),
            request_id=response.headers.get("x-request-id"),
            retry_after=retry_after,
        )
        decision = self._decide(status, retry_safe, attempt, retry_after)
        if decision.hold is not None:
            # A 429's Retry-After, or a 5xx's, holds every request of this credential
            # (one budget per credential: docs/client.md); `_acquire` waits it out for every
            # caller.
            self.budget.hold(decision.hold)
        if decision.outcome_unknown:
            raise AuraOutcomeUnknown(
                f"HTTP {status}; the request may or may not have been applied and is "
                "not resent" + (f": {error.message}" if error.messages else ""),
                method=method,
                path=path,
                status=status,
                reason=error.reason,
                messages=error.messages,
                request_id=response.headers.get("x-request-id"),
                retry_after=retry_after,
            )
        if not decision.retry:
            if status == 429 or is_server_error(status):
                error.retry_after = decision.delay
            raise error
        logger.debug("aura %s %s: HTTP %d, retry in %.1fs", method, path, status, decision.delay)
        if decision.hold is None:
            await self._clock.sleep(decision.delay)

    def _decide(
        self, status: int | None, retry_safe: bool, attempt: int, retry_after: float | None
    ) -> RetryDecision:
        return decide(
            status=status,
            retry_safe=retry_safe,
            attempt=attempt,
            retry_after=retry_after,
            max_retries=self.max_retries,
            max_inline_wait=self.max_inline_wait,
            rng=self._rng,
        )

    def _observe(self, method: str, path: str, status: int, started: float) -> None:
        if self._observer is not None:
            self._observer.on_response(
                method, route_of(path), status, time.perf_counter() - started
            )

    async def _acquire(self, method: str, path: str, priority: Priority) -> None:
        try:
            waited = await self.budget.acquire(priority, max_hold_wait=self.max_inline_wait)
            if self._observer is not None:
                self._observer.on_budget_wait(priority, waited)
        except BudgetHold as hold:
            raise AuraRateLimited(
                "request budget of this credential is on hold after a 429",
                method=method,
                path=path,
                retry_after=hold.retry_after,
            ) from None

    async def _token(self) -> SecretStr:
        return await self._registry.tokens.get(self._key, self._fetch_token)

    async def _fetch_token(self) -> TokenResponse:
        """`POST /oauth/token` (client credentials, Basic auth, form body).

        Safe to retry: asking for a token changes nothing. It draws from the same budget.
        """
        path = "/oauth/token"
        attempt = 0
        while True:
            await self._acquire("POST", path, Priority.CHANGE)
            started = time.perf_counter()
            try:
                response = await self._http.post(
                    path,
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self._secret.get_secret_value()),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            except httpx.TransportError as exc:
                self._observe("POST", path, 0, started)
                await self._token_unreachable(exc, path, attempt)
                attempt += 1
                continue
            status = response.status_code
            self._observe("POST", path, status, started)
            if status == 200:
                return _token_from(response, path)
            await self._token_refused(response, path, attempt)
            attempt += 1

    async def _token_unreachable(self, exc: httpx.TransportError, path: str, attempt: int) -> None:
        """No answer from the token endpoint: wait before the next attempt, or give up."""
        decision = self._decide(None, True, attempt, None)
        if decision.retry:
            await self._clock.sleep(decision.delay)
            return
        # No answer says nothing about the credential: transient, never "refused".
        raise AuraTransportError(
            f"token endpoint unreachable ({_transport_kind(exc)}) after {attempt + 1} attempts",
            method="POST",
            path=path,
            retry_after=decision.delay,
        ) from None

    async def _token_refused(self, response: httpx.Response, path: str, attempt: int) -> None:
        """An error status from the token endpoint: hold the budget and wait before the next
        attempt, or raise what it is (a refused credential only on 400/401/403)."""
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock.now())
        decision = self._decide(status, True, attempt, retry_after)
        if decision.hold is not None:
            self.budget.hold(decision.hold)
        if decision.retry:
            if decision.hold is None:
                await self._clock.sleep(decision.delay)
            return
        cause = error_from_response(
            method="POST",
            path=path,
            status=status,
            body=_json_or_none(response),
            request_id=response.headers.get("x-request-id"),
            retry_after=retry_after,
        )
        transient = status == 429 or is_server_error(status)
        cls: type[AuraError] = AuraTokenError
        if status == 429:
            cls = AuraRateLimited
        elif is_server_error(status):
            cls = AuraServerError
        elif status not in (400, 401, 403):
            cls = AuraUnexpectedResponse
        hint = (
            "the client id or secret is wrong, or the credential was deleted"
            if status == 401
            else cause.message
        )
        raise cls(
            f"token request refused: {hint}" if cls is AuraTokenError else f"token request: {hint}",
            method="POST",
            path=path,
            status=status,
            reason=cause.reason,
            messages=cause.messages,
            request_id=cause.request_id,
            retry_after=decision.delay if transient else None,
        )


def _token_from(response: httpx.Response, path: str) -> TokenResponse:
    try:
        return TokenResponse.model_validate(response.json())
    except ValueError:
        raise AuraUnexpectedResponse(
            "token endpoint returned an unreadable body",
            method="POST",
            path=path,
            status=response.status_code,
        ) from None


def _transport_kind(exc: httpx.TransportError) -> str:
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection error"
    return f"{kind} ({type(exc).__name__})"


def _compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _envelope(response: httpx.Response, *, allow_empty: bool = False) -> Any:
    """The `data` member of a 2xx body; `{}`/empty bodies only where the API documents them."""
    if not response.content.strip():
        if allow_empty:
            return None
        raise _unexpected(response, "empty body")
    body = _json_or_none(response)
    if isinstance(body, Mapping) and "data" in body:
        return body["data"]
    if allow_empty and isinstance(body, Mapping) and not body:
        return None
    raise _unexpected(response, "body is not wrapped in a 'data' member")


def _unexpected(response: httpx.Response, what: str) -> AuraUnexpectedResponse:
    return AuraUnexpectedResponse(
        f"unexpected response: {what}",
        method=response.request.method,
        path=response.request.url.path,
        status=response.status_code,
        request_id=response.headers.get("x-request-id"),
    )
