"""An in-memory Kubernetes API server with the calls of `kube.api.KubeApi`, and no more.

The decisions of the operator hinge on a few API server behaviours, so this fake keeps exactly
those: every write bumps one cluster-wide `resourceVersion`; a replace or status patch that names
a stale `resourceVersion` fails with `KubeConflict` (409); status is merge-patched (RFC 7386:
None removes a key, lists are replaced); a spec change bumps `generation`, a status change does
not. `fail()` makes the next calls raise `KubeError` (status 0 by default: no answer, an API
server restart) so a test can cut the API server at an exact point of a pass. `writes` records
every write in order, to assert what was written before what.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aura_operator.kinds.instance.model import KIND, PLURAL
from aura_operator.kube.api import KubeConflict, KubeError
from aura_operator.runtime.model import GROUP, VERSION

Key = tuple[str, str, str]  # (kind or, for this operator's kinds, plural; namespace; name)


@dataclass
class _Fault:
    count: int
    status: int
    methods: frozenset[str] | None
    skip: int


@dataclass(frozen=True)
class Write:
    """One successful write: the method, the object's kind/namespace/name and what was sent."""

    method: str
    kind: str
    namespace: str
    name: str
    body: dict[str, Any]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: what the API server does with `application/merge-patch+json`."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class FakeKube:
    """Implements `kube.api.KubeApi` in memory (plus helpers tests use as `kubectl`)."""

    def __init__(self) -> None:
        self._objects: dict[Key, dict[str, Any]] = {}
        self._versions = itertools.count(1)
        self._uids = itertools.count(1)
        self._faults: list[_Fault] = []
        self.writes: list[Write] = []
        self.calls: list[str] = []
        self.namespaces: dict[str, dict[str, Any]] = {}
        #: The API versions of other groups whose kinds are installed (their CRDs): an object
        #: of any other one is a 404, as on an API server without that CRD.
        self.installed: set[str] = set()

    # ------------------------------------------------------------ test controls

    def fail(
        self, count: int = 1, *, status: int = 0, methods: set[str] | None = None, skip: int = 0
    ) -> None:
        """The next `count` calls (of `methods`, after `skip` of them succeed) raise
        `KubeError(status)`; status 0 is no answer at all (the API server is restarting)."""
        self._faults.append(_Fault(count, status, frozenset(methods) if methods else None, skip))

    @property
    def faults_left(self) -> int:
        return sum(f.count for f in self._faults)

    def add_instance(self, namespace: str, name: str, spec: Mapping[str, Any], **meta: Any) -> str:
        """`kubectl apply` of a new AuraInstance; returns its uid."""
        return self.add_object(PLURAL, KIND, namespace, name, spec, **meta)

    def add_object(
        self,
        plural: str,
        kind: str,
        namespace: str,
        name: str,
        spec: Mapping[str, Any],
        **meta: Any,
    ) -> str:
        """`kubectl apply` of a new object of this operator's group; returns its uid."""
        uid = f"uid-{next(self._uids)}"
        if namespace:
            self.namespaces.setdefault(namespace, {"metadata": {"name": namespace}})
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": kind,
            "metadata": {
                "namespace": namespace,
                "name": name,
                "uid": uid,
                "generation": 1,
                "resourceVersion": self._version(),
                "creationTimestamp": _now(),
                "finalizers": [f"{GROUP}/finalizer"],
                **meta,
            },
            "spec": copy.deepcopy(dict(spec)),
        }
        self._objects[(plural, namespace, name)] = body
        return uid

    def edit_instance(
        self,
        namespace: str,
        name: str,
        *,
        spec: Mapping[str, Any] | None = None,
        annotations: Mapping[str, str | None] | None = None,
    ) -> dict[str, Any]:
        """`edit_object` of an AuraInstance."""
        return self.edit_object(PLURAL, namespace, name, spec=spec, annotations=annotations)

    def edit_object(
        self,
        plural: str,
        namespace: str,
        name: str,
        *,
        spec: Mapping[str, Any] | None = None,
        annotations: Mapping[str, str | None] | None = None,
    ) -> dict[str, Any]:
        """`kubectl patch --type merge` of spec and/or annotations (a spec change bumps
        generation, as the API server does for custom resources with a status subresource)."""
        obj = self._get(plural, namespace, name)
        if spec is not None:
            new_spec = merge_patch(obj.get("spec") or {}, spec)
            if new_spec != obj.get("spec"):
                obj["spec"] = new_spec
                obj["metadata"]["generation"] += 1
        if annotations is not None:
            obj["metadata"]["annotations"] = merge_patch(
                obj["metadata"].get("annotations") or {}, annotations
            )
        obj["metadata"]["resourceVersion"] = self._version()
        return copy.deepcopy(obj)

    def mark_deleted(self, namespace: str, name: str) -> None:
        """`kubectl delete`: the finalizer keeps the object, with a deletionTimestamp."""
        obj = self._get(PLURAL, namespace, name)
        obj["metadata"]["deletionTimestamp"] = _now()
        obj["metadata"]["resourceVersion"] = self._version()

    def instance(self, namespace: str, name: str) -> dict[str, Any]:
        """The AuraInstance as stored now (a copy)."""
        return copy.deepcopy(self._get(PLURAL, namespace, name))

    def object(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        """An object of this operator's group as stored now (a copy)."""
        return copy.deepcopy(self._get(plural, namespace, name))

    def secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._objects.get(("Secret", namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def put_secret(self, namespace: str, body: Mapping[str, Any]) -> None:
        """A Secret made by someone else (a user, another controller)."""
        self._store("Secret", namespace, body)

    def writes_of(self, *methods: str) -> list[Write]:
        return [w for w in self.writes if w.method in methods]

    # ---------------------------------------------------------------- KubeApi

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._enter("get_secret")
        return self.secret(namespace, name)

    async def create_secret(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._enter("create_secret")
        return self._create("create_secret", "Secret", namespace, body)

    async def replace_secret(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._enter("replace_secret")
        return self._replace("replace_secret", "Secret", namespace, name, body)

    async def patch_secret(
        self, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._enter("patch_secret")
        obj = self._get("Secret", namespace, name)
        patched = merge_patch(obj, patch)
        patched["metadata"]["resourceVersion"] = self._version()
        self._objects[("Secret", namespace, name)] = patched
        self._record("patch_secret", "Secret", namespace, name, patch)
        return copy.deepcopy(patched)

    async def delete_secret(self, namespace: str, name: str) -> bool:
        self._enter("delete_secret")
        if self._objects.pop(("Secret", namespace, name), None) is None:
            return False
        self._record("delete_secret", "Secret", namespace, name, {})
        return True

    async def get_namespace(self, name: str) -> dict[str, Any] | None:
        self._enter("get_namespace")
        namespace = self.namespaces.get(name)
        return copy.deepcopy(namespace) if namespace is not None else None

    async def get_object(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        self._enter("get_object")
        obj = self._objects.get((plural, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    async def list_objects(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        self._enter("list_objects")
        return [
            copy.deepcopy(obj)
            for (kind, ns, _), obj in sorted(self._objects.items())
            if kind == plural and ns == namespace
        ]

    async def patch_object_status(
        self,
        plural: str,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        self._enter("patch_status")  # one status write, whichever kind: one fault name
        return self._patch_status(plural, namespace, name, status, resource_version)

    async def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._enter("get_lease")
        obj = self._objects.get(("Lease", namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    async def create_lease(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._enter("create_lease")
        return self._create("create_lease", "Lease", namespace, body)

    async def replace_lease(
        self, namespace: str, name: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._enter("replace_lease")
        return self._replace("replace_lease", "Lease", namespace, name, body)

    async def get_foreign_object(
        self, api_version: str, plural: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        self._enter("get_foreign_object")
        obj = self._objects.get((f"{api_version}/{plural}", namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    async def apply_foreign_object(
        self, api_version: str, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Server-side apply, simplified: the applied fields replace spec, labels and owner
        references (the operator is the only field manager here)."""
        self._enter("apply_foreign_object")
        if api_version not in self.installed:
            raise KubeError("404 Not Found", 404)
        kind, name = f"{api_version}/{plural}", body["metadata"]["name"]
        current = self._objects.get((kind, namespace, name))
        if current is None:
            obj = self._store(kind, namespace, body)
        else:
            meta = {**current["metadata"], **copy.deepcopy(body["metadata"])}
            meta["resourceVersion"] = self._version()
            obj = {**current, **copy.deepcopy(dict(body)), "metadata": meta}
            self._objects[(kind, namespace, name)] = obj
        self._record("apply_foreign_object", kind, namespace, name, body)
        return copy.deepcopy(obj)

    async def delete_foreign_object(
        self, api_version: str, plural: str, namespace: str, name: str
    ) -> bool:
        self._enter("delete_foreign_object")
        kind = f"{api_version}/{plural}"
        if self._objects.pop((kind, namespace, name), None) is None:
            return False
        self._record("delete_foreign_object", kind, namespace, name, {})
        return True

    def foreign(self, api_version: str, plural: str, namespace: str, name: str) -> dict[str, Any]:
        """An object of another group as stored now (a copy); KubeError 404 if none."""
        return copy.deepcopy(self._get(f"{api_version}/{plural}", namespace, name))

    # -------------------------------------------------------------- internals

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        for fault in self._faults:
            if fault.methods is not None and method not in fault.methods:
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            fault.count -= 1
            if fault.count == 0:
                self._faults.remove(fault)
            message = "API server unreachable (fake)" if fault.status == 0 else str(fault.status)
            raise KubeError(f"{method}: {message}", fault.status)

    def _patch_status(
        self,
        plural: str,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        resource_version: str | None,
    ) -> dict[str, Any]:
        """The status subresource: merge patch, conditional on `resource_version` if given."""
        obj = self._get(plural, namespace, name)
        if resource_version is not None and resource_version != obj["metadata"]["resourceVersion"]:
            raise KubeConflict("409 Conflict", 409)
        obj["status"] = merge_patch(obj.get("status") or {}, status)
        obj["metadata"]["resourceVersion"] = self._version()
        self._record("patch_status", plural, namespace, name, {"status": dict(status)})
        return copy.deepcopy(obj)

    def _version(self) -> str:
        return str(next(self._versions))

    def _get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        obj = self._objects.get((kind, namespace, name))
        if obj is None:
            raise KubeError(f"404 {kind} {namespace}/{name} not found", 404)
        return obj

    def _store(self, kind: str, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(dict(body))
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = namespace
        meta.setdefault("uid", f"uid-{next(self._uids)}")
        meta.setdefault("creationTimestamp", _now())
        meta["resourceVersion"] = self._version()
        self._objects[(kind, namespace, meta["name"])] = obj
        return obj

    def _create(
        self, method: str, kind: str, namespace: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        name = (body.get("metadata") or {}).get("name")
        if not name:
            raise KubeError("422 metadata.name is required", 422)
        if (kind, namespace, name) in self._objects:
            raise KubeConflict(f"409 {kind} {namespace}/{name} already exists", 409)
        obj = self._store(kind, namespace, body)
        self._record(method, kind, namespace, name, body)
        return copy.deepcopy(obj)

    def _replace(
        self, method: str, kind: str, namespace: str, name: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        current = self._get(kind, namespace, name)
        meta = current["metadata"]
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != meta["resourceVersion"]:
            raise KubeConflict(f"409 {kind} {namespace}/{name} was modified", 409)
        obj = copy.deepcopy(dict(body))
        new_meta = obj.setdefault("metadata", {})
        new_meta.update(
            namespace=namespace,
            name=name,
            uid=meta["uid"],
            creationTimestamp=meta["creationTimestamp"],
            resourceVersion=self._version(),
        )
        self._objects[(kind, namespace, name)] = obj
        self._record(method, kind, namespace, name, body)
        return copy.deepcopy(obj)

    def _record(
        self, method: str, kind: str, namespace: str, name: str, body: Mapping[str, Any]
    ) -> None:
        self.writes.append(Write(method, kind, namespace, name, copy.deepcopy(dict(body))))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
