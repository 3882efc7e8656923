"""Which Aura credential an object uses, and the one client per credential.

A credential is the object's own Secret (`spec.credentialsSecretRef`) or the operator's
default (a Secret in its namespace, or variables). Every client is built with the process's
one `CredentialRegistry`, so all requests of a client id draw from one budget however many
objects use it.
"""

from __future__ import annotations

from pydantic import SecretStr

from aura_operator.aura import AuraClient, CredentialRegistry
from aura_operator.aura.auth import credential_key
from aura_operator.aura.client import RequestObserver
from aura_operator.kube import KubeApi
from aura_operator.resource import AuraInstance
from aura_operator.secrets import decode
from aura_operator.settings import Settings

KEY_CLIENT_ID = "AURA_CLIENT_ID"
KEY_CLIENT_SECRET = "AURA_CLIENT_SECRET"  # noqa: S105 - a key name


class CredentialsProblem(Exception):
    """The credential an object needs is missing or unusable (message names what to fix)."""


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

    async def resolve(self, obj: AuraInstance) -> tuple[str, SecretStr]:
        """The (client id, secret) for an object: its own Secret, or the operator's default."""
        ref = obj.spec.credentials_secret_ref
        if ref is not None:
            return await self._from_secret(obj.ref.namespace, ref.name, "spec.credentialsSecretRef")
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

    async def _from_secret(self, namespace: str, name: str, what: str) -> tuple[str, SecretStr]:
        secret = await self._kube.get_secret(namespace, name)
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
                self._settings,
                client_id,
                client_secret,
                registry=self._registry,
                observer=self._observer,
            )
            self._clients[key] = client
        return client

    async def client_for(self, obj: AuraInstance) -> AuraClient:
        client_id, client_secret = await self.resolve(obj)
        return self.client(client_id, client_secret)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
