"""The claims of Aura objects (runtime/claims.py) as ConfigMaps in the operator's namespace.

Kubernetes gives the two guarantees the claim flows rest on: a create of an existing name fails
(409 AlreadyExists), so exactly one of several claimants creates a claim; and a delete with
`preconditions` (uid, resourceVersion) fails (409 Conflict) when the ConfigMap was replaced or
changed since it was read, so a takeover never removes a claim someone else just wrote. Reads go
to the API server, never to a cache: a claim decision must see the latest claim.

Like kube.py (where this belongs once the Kubernetes access is one package), the synchronous
client runs in a thread and every ApiException becomes a `KubeError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from aura_operator.kube.api import REQUEST_TIMEOUT, KubeConflict, KubeError, _load_api_client
from aura_operator.runtime.claims import (
    AuraObject,
    ClaimChanged,
    ClaimExists,
    ClaimRecord,
    ManagerRef,
    claim_data,
    claim_labels,
    claim_name,
    record_from_data,
)
from aura_operator.runtime.model import GROUP, VERSION


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except ApiException as exc:
        cls = KubeConflict if exc.status == 409 else KubeError
        raise cls(f"{exc.status} {exc.reason}", exc.status or 0) from None
    except (HTTPError, OSError) as exc:
        raise KubeError(f"API server unreachable ({type(exc).__name__})") from None


def _record(config_map: Any) -> ClaimRecord:
    """A V1ConfigMap as a claim (ClaimUnreadable if someone edited its data)."""
    metadata = config_map.metadata
    data: Mapping[str, str] = config_map.data or {}
    return record_from_data(
        metadata.name or "",
        data,
        uid=metadata.uid or "",
        resource_version=metadata.resource_version or "",
    )


class KubeClaimStore:
    """`ClaimStore` over ConfigMaps `aura-claim-<type>-<auraId>` in `namespace` (the
    operator's). RBAC: get, create and delete on configmaps there; no list or watch."""

    def __init__(self, namespace: str, api_client: client.ApiClient | None = None) -> None:
        self.namespace = namespace
        self._api = api_client or _load_api_client()
        self._core = client.CoreV1Api(self._api)

    async def get(self, target: AuraObject) -> ClaimRecord | None:
        try:
            found = await _call(
                self._core.read_namespaced_config_map, claim_name(target), self.namespace
            )
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        return _record(found)

    async def create(self, record: ClaimRecord) -> ClaimRecord:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": record.name,
                "namespace": self.namespace,
                "labels": claim_labels(record.target),
            },
            "data": claim_data(record),
        }
        try:
            created = await _call(self._core.create_namespaced_config_map, self.namespace, body)
        except KubeConflict:
            raise ClaimExists(f"ConfigMap {self.namespace}/{record.name} exists") from None
        return _record(created)

    async def delete(self, record: ClaimRecord) -> bool:
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": record.uid, "resourceVersion": record.resource_version},
        }
        try:
            await _call(
                self._core.delete_namespaced_config_map, record.name, self.namespace, body=options
            )
        except KubeConflict:
            raise ClaimChanged(
                f"ConfigMap {self.namespace}/{record.name} changed since it was read"
            ) from None
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def manager_plural(kind: str) -> str:
    """The resource name of a managing kind: AuraInstance -> aurainstances."""
    return kind.lower() + "s"


class KubeManagerLookup:
    """`ManagerLookup`: the current uid of the object a claim names, read from the API server
    (None when it is gone). RBAC: get on the managing kinds (the operator has it)."""

    def __init__(self, api_client: client.ApiClient | None = None) -> None:
        self._objects = client.CustomObjectsApi(api_client or _load_api_client())

    async def __call__(self, ref: ManagerRef) -> str | None:
        try:
            found = await _call(
                self._objects.get_namespaced_custom_object,
                GROUP,
                VERSION,
                ref.namespace,
                manager_plural(ref.kind),
                ref.name,
            )
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise
        uid = (cast(dict[str, Any], found).get("metadata") or {}).get("uid")
        return str(uid) if uid else None
