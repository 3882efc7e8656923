"""The connection Secret applications mount, and its backup in the operator's namespace.

Aura returns an instance's password once, in the create response. This module writes it into
the connection Secret first, copies it to a backup Secret (named after the Aura instance id, in
the operator's own namespace), and restores the connection Secret from that backup if a user
deletes it. It never overwrites or deletes a Secret it does not own.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from aura_operator.kinds.instance.model import KIND, AuraInstance
from aura_operator.kube.api import KubeApi
from aura_operator.runtime.conditions import SECRET_READY, ConditionUpdate, SecretReason
from aura_operator.runtime.model import GROUP, MANAGED_BY, OPERATOR, VERSION, decode

LABEL_OWNER_NAME = f"{GROUP}/instance"
LABEL_INSTANCE_ID = f"{GROUP}/instance-id"
LABEL_BACKUP = f"{GROUP}/backup"
LABEL_OWNER_NAMESPACE = f"{GROUP}/owner-namespace"

KEY_URI = "NEO4J_URI"
KEY_USERNAME = "NEO4J_USERNAME"
KEY_PASSWORD = "NEO4J_PASSWORD"  # noqa: S105 - a key name
KEY_DATABASE = "NEO4J_DATABASE"
KEY_INSTANCE_ID = "AURA_INSTANCEID"
KEY_INSTANCE_NAME = "AURA_INSTANCENAME"

#: Labels and annotations never copied onto a Secret: Argo CD would treat the Secret as its own
#: and prune it, although the operator (not Git) creates it.
_FOREIGN_PREFIXES = ("argocd.argoproj.io/",)
_FOREIGN_KEYS = frozenset({"app.kubernetes.io/instance"})


@dataclass(frozen=True)
class ConnectionInfo:
    instance_id: str
    instance_name: str
    connection_url: str
    username: str = "neo4j"
    database: str = "neo4j"


@dataclass(frozen=True)
class SecretResult:
    condition: ConditionUpdate
    event: tuple[str, str, str] | None = None  # (type, reason, message)
    password_known: bool = False


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _clean(items: Mapping[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in items.items()
        if k not in _FOREIGN_KEYS and not k.startswith(_FOREIGN_PREFIXES)
    }


def owner_reference(obj: AuraInstance) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": obj.ref.name,
        "uid": obj.ref.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def secret_data(info: ConnectionInfo, password: SecretStr | None) -> dict[str, str]:
    """The Secret's `data`, keyed as in the .env file the Aura console offers for download."""
    values = {
        KEY_URI: info.connection_url,
        KEY_USERNAME: info.username,
        KEY_DATABASE: info.database,
        KEY_INSTANCE_ID: info.instance_id,
        KEY_INSTANCE_NAME: info.instance_name,
    }
    if password is not None:
        values[KEY_PASSWORD] = password.get_secret_value()
    return {k: _b64(v) for k, v in values.items()}


def build_connection_secret(
    obj: AuraInstance, info: ConnectionInfo, password: SecretStr | None
) -> dict[str, Any]:
    """The connection Secret as it should be (pure)."""
    spec = obj.spec.connection_secret
    labels = {**_clean(spec.labels), MANAGED_BY: OPERATOR, LABEL_OWNER_NAME: obj.ref.name}
    annotations = {**_clean(spec.annotations), f"{GROUP}/instance-id": info.instance_id}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": obj.connection_secret_name,
            "namespace": obj.ref.namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner_reference(obj)],
        },
        "data": secret_data(info, password),
    }


def backup_name(instance_id: str) -> str:
    return f"aura-backup-{instance_id.lower()}"


def build_backup_secret(
    obj: AuraInstance, info: ConnectionInfo, password: SecretStr, namespace: str
) -> dict[str, Any]:
    """The backup copy, in the operator's namespace (no owner: it outlives the object)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": backup_name(info.instance_id),
            "namespace": namespace,
            "labels": {
                MANAGED_BY: OPERATOR,
                LABEL_BACKUP: "true",
                LABEL_INSTANCE_ID: info.instance_id,
                LABEL_OWNER_NAMESPACE: obj.ref.namespace,
                LABEL_OWNER_NAME: obj.ref.name,
            },
        },
        "data": secret_data(info, password),
    }


def is_owned_by(secret: Mapping[str, Any], obj: AuraInstance) -> bool:
    refs = (secret.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == obj.ref.uid and r.get("controller") for r in refs)


def _is_orphan_of_instance(secret: Mapping[str, Any], instance_id: str) -> bool:
    """A Secret this operator wrote for the same Aura instance and then let go (Retain)."""
    meta = secret.get("metadata") or {}
    refs = meta.get("ownerReferences") or []
    return (
        (meta.get("labels") or {}).get(MANAGED_BY) == OPERATOR
        and not any(r.get("controller") for r in refs)
        and decode(secret, KEY_INSTANCE_ID) == instance_id
    )


class SecretStore:
    """Writes connection Secrets and their backups through `Kube`."""

    def __init__(
        self, kube: KubeApi, *, backup_namespace: str | None, backups: bool = True
    ) -> None:
        self._kube = kube
        self._backup_namespace = backup_namespace
        self._backups = backups and bool(backup_namespace)

    async def backup_password(self, instance_id: str) -> SecretStr | None:
        if not self._backups or self._backup_namespace is None:
            return None
        backup = await self._kube.get_secret(self._backup_namespace, backup_name(instance_id))
        if backup is None or decode(backup, KEY_INSTANCE_ID) != instance_id:
            return None
        password = decode(backup, KEY_PASSWORD)
        return SecretStr(password) if password else None

    async def existing_password(self, obj: AuraInstance, instance_id: str) -> SecretStr | None:
        """The password of `instance_id`, from the connection Secret or else the backup."""
        secret = await self._kube.get_secret(obj.ref.namespace, obj.connection_secret_name)
        if secret is not None and decode(secret, KEY_INSTANCE_ID) == instance_id:
            password = decode(secret, KEY_PASSWORD)
            if password:
                return SecretStr(password)
        return await self.backup_password(instance_id)

    async def conflict(self, obj: AuraInstance, instance_id: str | None) -> bool:
        """True if the connection Secret's name is taken by a Secret this object may not use."""
        secret = await self._kube.get_secret(obj.ref.namespace, obj.connection_secret_name)
        if secret is None or is_owned_by(secret, obj):
            return False
        return not (instance_id and _is_orphan_of_instance(secret, instance_id))

    async def ensure(
        self,
        obj: AuraInstance,
        info: ConnectionInfo,
        password: SecretStr | None = None,
        *,
        from_backup: bool = True,
    ) -> SecretResult:
        """Make the connection Secret (and its backup) match; `password` only from a create.
        `from_backup` False: another object manages the instance, and its backup is never
        copied to this object (issue 19)."""
        ns, name = obj.ref.namespace, obj.connection_secret_name
        existing = await self._kube.get_secret(ns, name)
        foreign = existing is not None and not is_owned_by(existing, obj)
        if foreign and not _is_orphan_of_instance(existing or {}, info.instance_id):
            message = (
                f"Secret {name} exists and is not owned by this AuraInstance; the operator "
                "never overwrites a Secret it does not own. Delete or rename it, or set "
                "spec.connectionSecret.name."
            )
            return SecretResult(
                ConditionUpdate(SECRET_READY, "False", SecretReason.CONFLICT, message),
                ("Warning", SecretReason.CONFLICT, message),
            )
        restored = False
        if (
            password is None
            and existing is not None
            and decode(existing, KEY_INSTANCE_ID) == info.instance_id
        ):
            kept = decode(existing, KEY_PASSWORD)
            password = SecretStr(kept) if kept else None
        if password is None and from_backup:
            password = await self.backup_password(info.instance_id)
            restored = password is not None and existing is None
        desired = build_connection_secret(obj, info, password)
        event: tuple[str, str, str] | None = None
        if existing is None:
            await self._kube.create_secret(ns, desired)
            if restored:
                event = ("Normal", "SecretRestored", f"Restored Secret {name} from its backup")
            else:
                event = ("Normal", "SecretWritten", f"Wrote connection Secret {name}")
        elif _differs(existing, desired):
            body = dict(desired)
            body["metadata"] = {
                **desired["metadata"],
                "resourceVersion": (existing.get("metadata") or {}).get("resourceVersion"),
            }
            await self._kube.replace_secret(ns, name, body)
            event = ("Normal", "SecretWritten", f"Updated connection Secret {name}")
        if password is not None:
            await self._ensure_backup(obj, info, password)
            condition = ConditionUpdate(
                SECRET_READY, "True", SecretReason.WRITTEN, f"Secret {name} holds the connection"
            )
        else:
            condition = ConditionUpdate(
                SECRET_READY,
                "False",
                SecretReason.PASSWORD_UNAVAILABLE,
                f"Secret {name} has no {KEY_PASSWORD}: Aura returns the password only when it "
                "creates an instance, and the operator holds no copy of it (the instance was "
                "adopted, or its Secret was lost while backups were off). Add the key to the "
                "Secret yourself (or reset the password in the Aura console) and the operator "
                "keeps it.",
            )
        return SecretResult(condition, event, password is not None)

    async def _ensure_backup(
        self, obj: AuraInstance, info: ConnectionInfo, password: SecretStr
    ) -> None:
        if not self._backups or self._backup_namespace is None:
            return
        desired = build_backup_secret(obj, info, password, self._backup_namespace)
        name = desired["metadata"]["name"]
        existing = await self._kube.get_secret(self._backup_namespace, name)
        if existing is None:
            await self._kube.create_secret(self._backup_namespace, desired)
        elif _differs(existing, desired, owner=False):
            body = dict(desired)
            body["metadata"] = {
                **desired["metadata"],
                "resourceVersion": (existing.get("metadata") or {}).get("resourceVersion"),
            }
            await self._kube.replace_secret(self._backup_namespace, name, body)

    async def delete_backup(self, instance_id: str) -> None:
        if self._backups and self._backup_namespace is not None:
            await self._kube.delete_secret(self._backup_namespace, backup_name(instance_id))

    async def release(self, obj: AuraInstance) -> bool:
        """Drop this object's owner reference from its Secret (Retain): GC will not delete it."""
        ns, name = obj.ref.namespace, obj.connection_secret_name
        secret = await self._kube.get_secret(ns, name)
        if secret is None or not is_owned_by(secret, obj):
            return False
        refs = [
            r
            for r in (secret.get("metadata") or {}).get("ownerReferences") or []
            if r.get("uid") != obj.ref.uid
        ]
        await self._kube.patch_secret(ns, name, {"metadata": {"ownerReferences": refs or None}})
        return True


def _differs(
    existing: Mapping[str, Any], desired: Mapping[str, Any], *, owner: bool = True
) -> bool:
    meta, want = existing.get("metadata") or {}, desired["metadata"]
    if (existing.get("data") or {}) != desired["data"]:
        return True
    labels = meta.get("labels") or {}
    if any(labels.get(k) != v for k, v in want.get("labels", {}).items()):
        return True
    annotations = meta.get("annotations") or {}
    if any(annotations.get(k) != v for k, v in want.get("annotations", {}).items()):
        return True
    if owner:
        uids = {r.get("uid") for r in meta.get("ownerReferences") or []}
        if not all(r["uid"] in uids for r in want.get("ownerReferences", [])):
            return True
    return False
