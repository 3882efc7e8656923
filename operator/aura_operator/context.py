"""The one process-wide object: settings, Kubernetes access, Aura clients, per-object state.

kopf keeps it in its memo (see lifecycle.py); nothing process-wide lives in module globals. It
hands out one `AuraClient` per credential, all sharing one `CredentialRegistry`, so every
request of a client id draws from one budget however many objects use it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from aura_operator.aura import AuraClient, CredentialRegistry, Tenant, TenantSummary
from aura_operator.aura.auth import credential_key
from aura_operator.aura.client import RequestObserver
from aura_operator.kube import Kube
from aura_operator.metrics import Metrics
from aura_operator.resource import AuraInstance
from aura_operator.schedule import DriftScheduler, TransitionTimes
from aura_operator.secrets import SecretStore, decode
from aura_operator.settings import Settings

KEY_CLIENT_ID = "AURA_CLIENT_ID"
KEY_CLIENT_SECRET = "AURA_CLIENT_SECRET"  # noqa: S105 - a key name


def make_client(
    settings: Settings,
    client_id: str,
    client_secret: SecretStr,
    *,
    registry: CredentialRegistry | None = None,
    observer: RequestObserver | None = None,
) -> AuraClient:
    """An AuraClient configured from the operator's settings."""
    return AuraClient(
        base_url=settings.api_url,
        client_id=client_id,
        client_secret=client_secret,
        registry=registry,
        requests_per_minute=settings.requests_per_minute,
        burst=settings.request_burst,
        timeout=settings.http_timeout,
        connect_timeout=settings.connect_timeout,
        max_retries=settings.max_retries,
        max_inline_wait=settings.max_inline_wait,
        observer=observer,
    )


class CredentialsProblem(Exception):
    """The credential an object needs is missing or unusable (message names what to fix)."""


@dataclass
class ObjectState:
    """In-memory state of one AuraInstance, keyed by uid (lost on restart by design)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    failures: int = 0
    last_generation: int | None = None
    last_annotations: tuple[tuple[str, str], ...] = ()
    last_status: dict[str, Any] | None = None
    credential: str | None = None
    transient: str | None = None
    transient_since: float = 0.0
    transient_reads: int = 0
    transient_exact: bool = False
    _password: tuple[str, SecretStr] | None = None

    def remember_password(self, instance_id: str, password: SecretStr) -> None:
        """Hold a create response's password until it is safely in a Secret."""
        self._password = (instance_id, password)

    def pending_password(self, instance_id: str) -> SecretStr | None:
        if self._password is not None and self._password[0] == instance_id:
            return self._password[1]
        return None

    def forget_password(self) -> None:
        self._password = None


class OperatorContext:
    def __init__(self, settings: Settings, kube: Kube) -> None:
        self.settings = settings
        self.kube = kube
        self.registry = CredentialRegistry(
            requests_per_minute=settings.requests_per_minute, burst=settings.request_burst
        )
        self.secrets = SecretStore(
            kube, backup_namespace=settings.namespace, backups=settings.backup_secrets
        )
        self.metrics = Metrics()
        self.drift = DriftScheduler(
            interval=settings.drift_interval,
            jitter=settings.drift_jitter,
            share=settings.drift_budget_share,
        )
        self.transitions = TransitionTimes()
        self._clients: dict[str, AuraClient] = {}
        self._tenants: dict[tuple[str, str], tuple[float, Tenant]] = {}
        self._tenant_lists: dict[tuple[str, str], tuple[float, list[TenantSummary]]] = {}
        self._cache_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._objects: dict[str, ObjectState] = {}

    def state(self, uid: str) -> ObjectState:
        return self._objects.setdefault(uid, ObjectState())

    def has_state(self, uid: str) -> bool:
        return uid in self._objects

    def forget(self, uid: str) -> None:
        self._objects.pop(uid, None)
        self.drift.release(uid)
        self.metrics.forget(uid)

    def rate(self, client_id: str) -> float:
        return self.registry.budget(client_id).rate_per_minute

    def wake(self, uid: str) -> None:
        if uid in self._objects:
            self._objects[uid].wake.set()

    async def credentials(self, obj: AuraInstance) -> tuple[str, SecretStr]:
        """The (client id, secret) for an object: its own Secret, or the operator's default."""
        ref = obj.spec.credentials_secret_ref
        if ref is not None:
            return await self._from_secret(obj.ref.namespace, ref.name, "spec.credentialsSecretRef")
        s = self.settings
        if s.credentials_secret:
            if not s.namespace:
                raise CredentialsProblem(
                    "AURA_OPERATOR_CREDENTIALS_SECRET is set but the operator's namespace is not "
                    "(AURA_OPERATOR_NAMESPACE or POD_NAMESPACE)"
                )
            return await self._from_secret(s.namespace, s.credentials_secret, "the operator's")
        if s.client_id and s.client_secret is not None and s.client_secret.get_secret_value():
            return s.client_id, s.client_secret
        raise CredentialsProblem(
            "no Aura credential: set spec.credentialsSecretRef to a Secret with "
            f"{KEY_CLIENT_ID} and {KEY_CLIENT_SECRET}, or give the operator a default credential"
        )

    async def _from_secret(self, namespace: str, name: str, what: str) -> tuple[str, SecretStr]:
        secret = await self.kube.get_secret(namespace, name)
        if secret is None:
            raise CredentialsProblem(f"{what} credentials Secret {namespace}/{name} not found")
        client_id = (decode(secret, KEY_CLIENT_ID) or "").strip()
        client_secret = (decode(secret, KEY_CLIENT_SECRET) or "").strip()
        missing = [
            k for k, v in ((KEY_CLIENT_ID, client_id), (KEY_CLIENT_SECRET, client_secret)) if not v
        ]
        if missing:
            raise CredentialsProblem(
                f"{what} credentials Secret {namespace}/{name} lacks {' and '.join(missing)}"
            )
        return client_id, SecretStr(client_secret)

    def client(self, client_id: str, client_secret: SecretStr) -> AuraClient:
        key = credential_key(client_id, client_secret.get_secret_value())
        client = self._clients.get(key)
        if client is None:
            client = make_client(
                self.settings,
                client_id,
                client_secret,
                registry=self.registry,
                observer=self.metrics,
            )
            self._clients[key] = client
        return client

    async def client_for(self, obj: AuraInstance) -> AuraClient:
        client_id, client_secret = await self.credentials(obj)
        return self.client(client_id, client_secret)

    async def tenant(self, aura: AuraClient, tenant_id: str) -> Tenant:
        """A tenant with its configurations, reused for `tenant_cache_seconds`."""
        key = (aura.client_id, tenant_id)
        async with self._cache_locks.setdefault(key, asyncio.Lock()):  # one read for all waiters
            cached = self._tenants.get(key)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            tenant = await aura.get_tenant(tenant_id)
            self._tenants[key] = (time.monotonic() + self.settings.tenant_cache_seconds, tenant)
            return tenant

    async def tenant_list(self, aura: AuraClient) -> list[TenantSummary]:
        """The tenants a credential sees, reused for `tenant_cache_seconds`."""
        key = (aura.client_id, "")
        async with self._cache_locks.setdefault(key, asyncio.Lock()):
            cached = self._tenant_lists.get(key)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            tenants = await aura.list_tenants()
            self._tenant_lists[key] = (
                time.monotonic() + self.settings.tenant_cache_seconds,
                tenants,
            )
            return tenants

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
