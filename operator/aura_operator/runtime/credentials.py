"""Which Aura credential an object uses, and the one client per credential.

A credential is, in this order: an AuraCredential (`spec.credentialRef`, cluster-scoped, which
must allow the object's namespace and sets its client id's budget), the object's own Secret
(`spec.credentialsSecretRef`), or the operator's default (a Secret in its namespace, or
variables: an implicit credential every namespace may use, at the operator's budget). Any kind
with these spec fields resolves the same way. Every client is built with the process's one
`CredentialRegistry`, so all requests of a client id draw from one budget however many objects
use it, and every client counts what it sends (`usage.RequestWindows`) for the credential's
status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import SecretStr

from aura_operator.aura import AuraClient, CredentialRegistry
from aura_operator.aura.auth import credential_key
from aura_operator.aura.client import RequestObserver
from aura_operator.kinds.credential.model import PLURAL as CREDENTIALS
from aura_operator.kinds.credential.model import AuraCredential
from aura_operator.kube.api import KubeApi, KubeError
from aura_operator.runtime.credential_usage import (
    CountingObserver,
    CredentialObjects,
    CredentialUsers,
    RequestWindows,
)
from aura_operator.runtime.model import SecretRef, decode
from aura_operator.runtime.settings import Settings

KEY_CLIENT_ID = "AURA_CLIENT_ID"
KEY_CLIENT_SECRET = "AURA_CLIENT_SECRET"  # noqa: S105 - a key name


class CredentialsProblem(Exception):
    """The credential an object needs is missing or unusable (message names what to fix)."""


class _Ref(Protocol):
    @property
    def namespace(self) -> str: ...


class _Spec(Protocol):
    @property
    def credentials_secret_ref(self) -> SecretRef | None: ...

    @property
    def credential_ref(self) -> SecretRef | None: ...


class Credentialed(Protocol):
    """Any object with `spec.credentialRef` / `spec.credentialsSecretRef` (every kind)."""

    @property
    def ref(self) -> _Ref: ...

    @property
    def spec(self) -> _Spec: ...


@dataclass(frozen=True)
class Resolved:
    client_id: str
    client_secret: SecretStr
    credential: str | None = None
    """The AuraCredential's name; None for a Secret or the operator's default."""
    default_tenant_id: str | None = None


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


class Credentials:
    """Resolves an object's credential and hands out one client per (id, secret)."""

    def __init__(
        self,
        settings: Settings,
        kube: KubeApi,
        registry: CredentialRegistry,
        observer: RequestObserver | None = None,
    ) -> None:
        self._settings = settings
        self._kube = kube
        self._registry = registry
        self._observer = observer
        self._clients: dict[str, AuraClient] = {}
        self.windows = RequestWindows()
        self.users = CredentialUsers()
        self.memory = CredentialObjects()
        #: AuraCredential bodies and namespace labels as the watches last saw them (a miss is
        #: read from the API server).
        self._credentials: dict[str, Mapping[str, Any]] = {}
        self._namespaces: dict[str, dict[str, str]] = {}
        #: AuraCredential name -> the client id its Secret held when last resolved.
        self._client_ids: dict[str, str] = {}

    # ----------------------------------------------------- what the watches feed

    def remember_credential(self, body: Mapping[str, Any]) -> None:
        """A credential as its watch saw it; a new requestsPerMinute applies at once."""
        name = (body.get("metadata") or {}).get("name", "")
        self._credentials[name] = body
        client_id = self._client_ids.get(name)
        if client_id is not None:
            credential = AuraCredential.from_body(body)
            self._registry.set_rate(client_id, credential.spec.requests_per_minute)

    def forget_credential(self, name: str) -> None:
        self._credentials.pop(name, None)

    def remember_namespace(self, name: str, labels: Mapping[str, str] | None) -> None:
        self._namespaces[name] = dict(labels or {})

    def forget_namespace(self, name: str) -> None:
        self._namespaces.pop(name, None)

    async def credential(self, name: str) -> AuraCredential | None:
        body = self._credentials.get(name)
        if body is None:
            body = await self._kube.get_object(CREDENTIALS, "", name)
            if body is None:
                return None
            self._credentials[name] = body
        return AuraCredential.from_body(body)

    async def namespace_labels(self, name: str) -> dict[str, str] | None:
        labels = self._namespaces.get(name)
        if labels is None:
            namespace = await self._kube.get_namespace(name)
            if namespace is None:
                return None
            labels = dict((namespace.get("metadata") or {}).get("labels") or {})
            self._namespaces[name] = labels
        return labels

    # ------------------------------------------------------------- resolution

    async def resolve(self, obj: Credentialed) -> tuple[str, SecretStr]:
        """The (client id, secret) for an object (see `resolve_full`)."""
        found = await self.resolve_full(obj)
        return found.client_id, found.client_secret

    async def default_tenant_id(self, obj: Credentialed) -> str | None:
        """The AuraCredential's defaultTenantId, for objects that set no tenantId."""
        ref = obj.spec.credential_ref
        if ref is None:
            return None
        credential = await self.credential(ref.name)
        return credential.spec.default_tenant_id if credential is not None else None

    async def resolve_full(self, obj: Credentialed) -> Resolved:
        """An object's credential: its AuraCredential, its own Secret, or the default."""
        named = obj.spec.credential_ref
        if named is not None:
            return await self._from_credential(named.name, obj.ref.namespace)
        ref = obj.spec.credentials_secret_ref
        if ref is not None:
            client_id, secret = await self._from_secret(
                obj.ref.namespace, ref.name, "spec.credentialsSecretRef"
            )
            return Resolved(client_id, secret)
        client_id, secret = await self._default()
        return Resolved(client_id, secret)

    async def _from_credential(self, name: str, namespace: str) -> Resolved:
        """An AuraCredential, if it allows `namespace` ("" for the credential itself)."""
        credential = await self.credential(name)
        if credential is None:
            raise CredentialsProblem(f"AuraCredential {name} (spec.credentialRef) not found")
        if namespace:
            labels = await self.namespace_labels(namespace)
            if labels is None or not credential.allows(labels):
                selector = credential.spec.allowed_namespaces
                allowed = (
                    f"it allows namespaces matching {selector.describe()}"
                    if selector is not None
                    else "its spec.allowedNamespaces is not set, so it allows none"
                )
                raise CredentialsProblem(
                    f"AuraCredential {name} does not allow namespace {namespace} ({allowed}); "
                    "nothing was sent to Aura"
                )
        ref = credential.spec.secret_ref
        secret_namespace = ref.namespace or self._settings.namespace
        if not secret_namespace:
            raise CredentialsProblem(
                f"AuraCredential {name}: spec.secretRef.namespace is not set and the operator's "
                "namespace is unknown (AURA_OPERATOR_NAMESPACE or POD_NAMESPACE)"
            )
        client_id, secret = await self._from_secret(
            secret_namespace,
            ref.name,
            f"AuraCredential {name}:",
            keys=(ref.client_id_key, ref.client_secret_key),
        )
        self._registry.set_rate(client_id, credential.spec.requests_per_minute)
        self._client_ids[name] = client_id
        return Resolved(client_id, secret, name, credential.spec.default_tenant_id)

    async def resolve_credential(self, name: str) -> Resolved:
        """The client of an AuraCredential itself (its status pass)."""
        return await self._from_credential(name, "")

    async def _default(self) -> tuple[str, SecretStr]:
        s = self._settings
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

    async def _from_secret(
        self,
        namespace: str,
        name: str,
        what: str,
        keys: tuple[str, str] = (KEY_CLIENT_ID, KEY_CLIENT_SECRET),
    ) -> tuple[str, SecretStr]:
        try:
            secret = await self._kube.get_secret(namespace, name)
        except KubeError as exc:
            if exc.status != 403:
                raise
            raise CredentialsProblem(
                f"{what} the operator may not read Secret {namespace}/{name}: keep credential "
                "Secrets in the operator's namespace, or grant it get on this Secret "
                "(docs/platform.md)"
            ) from None
        if secret is None:
            raise CredentialsProblem(f"{what} credentials Secret {namespace}/{name} not found")
        id_key, secret_key = keys
        client_id = (decode(secret, id_key) or "").strip()
        client_secret = (decode(secret, secret_key) or "").strip()
        missing = [k for k, v in ((id_key, client_id), (secret_key, client_secret)) if not v]
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
                self._settings,
                client_id,
                client_secret,
                registry=self._registry,
                observer=CountingObserver(client_id, self.windows, self._observer),
            )
            self._clients[key] = client
        return client

    async def client_for(self, obj: Credentialed) -> AuraClient:
        client_id, client_secret = await self.resolve(obj)
        return self.client(client_id, client_secret)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
