"""The only module that talks to the Kubernetes API through the official client.

The client is synchronous; every call runs in a thread (`asyncio.to_thread`) so handlers stay
async. Objects come back as plain dicts in wire form (camelCase), which is what the rest of the
operator reads. Every write names its content type explicitly (merge patch), so no generated
client default can turn a merge patch into a JSON patch.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, Protocol, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from aura_operator.runtime.model import GROUP, VERSION

MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
#: The field manager of the operator's server-side applies.
FIELD_MANAGER = "aura-operator"
#: (connect, read) seconds: a hung API server must not hang a reconcile pass forever.
REQUEST_TIMEOUT = (5.0, 30.0)


class KubeError(Exception):
    """A Kubernetes API call failed; `status` is the HTTP status (0: no answer at all)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class KubeConflict(KubeError):
    """409: the object changed since it was read (a write conditional on resourceVersion)."""


def _load_api_client() -> client.ApiClient:
    """In-cluster config when running in a pod, else the current kubeconfig."""
    if os.environ.get("KUBERNETES_SERVICE_HOST") and not os.environ.get("KUBECONFIG"):
        config.load_incluster_config()
    else:
        config.load_kube_config()
    return client.ApiClient()


class KubeApi(Protocol):
    """The Kubernetes calls the operator makes, as a type: `Kube` below is the real one, and
    the in-process tests (tests/inprocess) run the operator on an in-memory one."""

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def create_secret(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    async def replace_secret(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    async def patch_secret(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    async def delete_secret(self, namespace: str, name: str) -> bool: ...

    async def get_object(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def list_objects(self, plural: str, namespace: str) -> list[dict[str, Any]]: ...

    async def patch_object_status(
        self,
        plural: str,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]: ...

    async def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def create_lease(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    async def replace_lease(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    async def get_namespace(self, name: str) -> dict[str, Any] | None: ...

    async def get_foreign_object(
        self, api_version: str, plural: str, namespace: str, name: str
    ) -> dict[str, Any] | None: ...

    async def apply_foreign_object(
        self, api_version: str, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    async def delete_foreign_object(
        self, api_version: str, plural: str, namespace: str, name: str
    ) -> bool: ...


class Kube:
    """Async wrappers of the few Kubernetes calls the operator makes (implements `KubeApi`)."""

    def __init__(self, api_client: client.ApiClient | None = None) -> None:
        self._api = api_client or _load_api_client()
        self._core = client.CoreV1Api(self._api)
        self._objects = client.CustomObjectsApi(self._api)
        self._coordination = client.CoordinationV1Api(self._api)

    def _wire(self, obj: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self._api.sanitize_for_serialization(obj))

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ApiException as exc:
            cls = KubeConflict if exc.status == 409 else KubeError
            raise cls(f"{exc.status} {exc.reason}", exc.status or 0) from None
        except (HTTPError, OSError) as exc:
            # A refused or reset connection, a timeout, a TLS failure: the API server is down
            # or restarting. Transient, like every other KubeError without a status.
            raise KubeError(f"API server unreachable ({type(exc).__name__})") from None

    async def _read(self, fn: Any, *args: Any) -> Any | None:
        """`_call` for a read: None when the object does not exist (404)."""
        try:
            return await self._call(fn, *args)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def _wire_or_none(self, obj: Any | None) -> dict[str, Any] | None:
        return None if obj is None else self._wire(obj)

    # ---------------------------------------------------------------- Secrets

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._wire_or_none(
            await self._read(self._core.read_namespaced_secret, name, namespace)
        )

    async def create_secret(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._wire(await self._call(self._core.create_namespaced_secret, namespace, body))

    async def replace_secret(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Replace (with the body's resourceVersion, so a concurrent change is not lost)."""
        return self._wire(
            await self._call(self._core.replace_namespaced_secret, name, namespace, body)
        )

    async def patch_secret(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._wire(
            await self._call(
                self._core.patch_namespaced_secret,
                name,
                namespace,
                patch,
                _content_type=MERGE_PATCH,
            )
        )

    async def delete_secret(self, namespace: str, name: str) -> bool:
        """Delete; False if it was already gone."""
        try:
            await self._call(self._core.delete_namespaced_secret, name, namespace)
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def get_namespace(self, name: str) -> dict[str, Any] | None:
        """A Namespace (for its labels: AuraCredential.spec.allowedNamespaces), None if gone."""
        return self._wire_or_none(await self._read(self._core.read_namespace, name))

    # ------------------------------------------- custom objects (every kind of this group)

    async def get_object(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """One object of this operator's API group, or None if it is gone. `namespace` ""
        reads a cluster-scoped kind (AuraCredential)."""
        if namespace:
            obj = await self._read(
                self._objects.get_namespaced_custom_object, GROUP, VERSION, namespace, plural, name
            )
        else:
            obj = await self._read(
                self._objects.get_cluster_custom_object, GROUP, VERSION, plural, name
            )
        return cast(dict[str, Any] | None, obj)

    async def list_objects(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        """The objects of one kind of this operator's API group in a namespace."""
        found = await self._call(
            self._objects.list_namespaced_custom_object, GROUP, VERSION, namespace, plural
        )
        return list(cast(dict[str, Any], found).get("items") or [])

    async def patch_object_status(
        self,
        plural: str,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Merge-patch `.status` through the status subresource (never touches spec).

        With `resource_version`, the write happens only if the object is still at that version
        (else `KubeConflict`): the fence before every non-idempotent Aura call, so that two
        processes that read the same object cannot both record an intent and act on it.
        """
        body: dict[str, Any] = {"status": dict(status)}
        if resource_version is not None:
            body["metadata"] = {"resourceVersion": resource_version}
        if not namespace:  # a cluster-scoped kind
            found = await self._call(
                self._objects.patch_cluster_custom_object_status,
                GROUP,
                VERSION,
                plural,
                name,
                body,
                _content_type=MERGE_PATCH,
            )
            return cast(dict[str, Any], found)
        obj = await self._call(
            self._objects.patch_namespaced_custom_object_status,
            GROUP,
            VERSION,
            namespace,
            plural,
            name,
            body,
            _content_type=MERGE_PATCH,
        )
        return cast(dict[str, Any], obj)

    # ----------------------------------------------------------------- Leases

    async def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._wire_or_none(
            await self._read(self._coordination.read_namespaced_lease, name, namespace)
        )

    async def create_lease(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._wire(
            await self._call(self._coordination.create_namespaced_lease, namespace, body)
        )

    async def replace_lease(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Replace with the body's resourceVersion: `KubeConflict` if someone wrote first."""
        return self._wire(
            await self._call(self._coordination.replace_namespaced_lease, name, namespace, body)
        )

    # ------------------- objects of other API groups (a Prometheus Operator ScrapeConfig)

    async def get_foreign_object(
        self, api_version: str, plural: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        """A namespaced object of another group (`group/version`); None if it does not exist,
        or if its kind is not installed (both are a 404)."""
        group, version = api_version.split("/", 1)
        obj = await self._read(
            self._objects.get_namespaced_custom_object, group, version, namespace, plural, name
        )
        return cast(dict[str, Any] | None, obj)

    async def apply_foreign_object(
        self, api_version: str, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Server-side apply (field manager aura-operator, forced): creates or updates the
        fields the operator owns. A `KubeError` with status 404: the kind is not installed."""
        group, version = api_version.split("/", 1)
        name = body["metadata"]["name"]
        obj = await self._call(
            self._objects.patch_namespaced_custom_object,
            group,
            version,
            namespace,
            plural,
            name,
            dict(body),
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type=APPLY_PATCH,
        )
        return cast(dict[str, Any], obj)

    async def delete_foreign_object(
        self, api_version: str, plural: str, namespace: str, name: str
    ) -> bool:
        """Delete; False if it (or its kind) was already gone."""
        group, version = api_version.split("/", 1)
        try:
            await self._call(
                self._objects.delete_namespaced_custom_object,
                group,
                version,
                namespace,
                plural,
                name,
            )
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True
