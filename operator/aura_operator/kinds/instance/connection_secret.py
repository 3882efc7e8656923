"""The connection Secret applications mount, its backup, and the Service Binding Secret.

Aura returns an instance's password once, in the create response. This module writes it into
the connection Secret first, copies it to a backup Secret (named after the Aura instance id, in
the operator's own namespace, always with the default keys), then writes the Service Binding
Secret (`service_binding.py`) from the same values, and restores the connection Secret from the
backup (or the binding Secret) if a user deletes it. It never overwrites or deletes a Secret it
does not own.

The connection Secret's keys follow `spec.connectionSecret.template` (`secret_template.py`), so
nothing here reads a fixed data key of it: the instance id and the key that holds the bare
password are annotations the operator writes on the Secret (a `Replace` template may keep
neither `AURA_INSTANCEID` nor `NEO4J_PASSWORD`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from aura_operator.aura import Instance
from aura_operator.kinds.instance import secret_template, service_binding
from aura_operator.kinds.instance.connection_values import ConnectionValues
from aura_operator.kinds.instance.model import KIND, AuraInstance
from aura_operator.kube.api import KubeApi
from aura_operator.runtime.conditions import SECRET_READY, ConditionUpdate, SecretReason
from aura_operator.runtime.model import GROUP, MANAGED_BY, OPERATOR, VERSION, decode

LABEL_OWNER_NAME = f"{GROUP}/instance"
LABEL_INSTANCE_ID = f"{GROUP}/instance-id"
LABEL_BACKUP = f"{GROUP}/backup"
LABEL_OWNER_NAMESPACE = f"{GROUP}/owner-namespace"
ANNOTATION_INSTANCE_ID = f"{GROUP}/instance-id"
#: The data key that holds the bare password ("" if none does), as the Secret was written.
ANNOTATION_PASSWORD_KEY = f"{GROUP}/password-key"

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
    tenant_id: str = ""
    cloud_provider: str = ""
    region: str = ""

    def values(self, password: SecretStr | None) -> ConnectionValues:
        """The fields a template or the binding Secret may use."""
        return ConnectionValues(
            uri=self.connection_url,
            instance_id=self.instance_id,
            instance_name=self.instance_name,
            username=self.username,
            password=password,
            database=self.database,
            tenant_id=self.tenant_id,
            cloud_provider=self.cloud_provider,
            region=self.region,
        )


def info_of(instance: Instance, obj: AuraInstance) -> ConnectionInfo:
    """What a GET of the instance says about connecting to it."""
    return ConnectionInfo(
        instance.id,
        instance.name or obj.aura_name,
        instance.connection_url or "",
        tenant_id=instance.tenant_id or obj.spec.tenant_id or "",
        cloud_provider=instance.cloud_provider or obj.spec.cloud_provider or "",
        region=instance.region or obj.spec.region or "",
    )


@dataclass(frozen=True)
class SecretResult:
    condition: ConditionUpdate
    event: tuple[str, str, str] | None = None  # (type, reason, message)
    password_known: bool = False
    binding: str | None = None
    """The binding Secret's name once it holds the password (status.binding.name)."""
    events: tuple[tuple[str, str, str], ...] = ()
    """Further events (the binding Secret's)."""

    @property
    def status(self) -> dict[str, Any]:
        """The status fields of this result: status.binding, or its removal."""
        return service_binding.status(self.binding) if self.binding else {"binding": None}

    def all_events(self) -> list[tuple[str, str, str]]:
        return [*([self.event] if self.event else []), *self.events]


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


def templated_data(
    obj: AuraInstance,
    info: ConnectionInfo,
    password: SecretStr | None,
    kept: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The Secret's `data` under spec.connectionSecret.template (the default keys without
    one). A key whose template needs the password, while it is unknown, keeps its value from
    `kept` (the Secret as it is) rather than losing the only copy."""
    defaults = secret_data(info, password)
    template = obj.spec.connection_secret.template
    if template is None:
        return defaults
    rendered = secret_template.render(template, info.values(password))
    data = {key: _b64(value) for key, value in rendered.data.items()}
    data.update({key: kept[key] for key in rendered.waiting if kept and key in kept})
    return secret_template.merged(defaults, data, template.merge_policy)


def build_connection_secret(
    obj: AuraInstance,
    info: ConnectionInfo,
    password: SecretStr | None,
    kept: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The connection Secret as it should be (pure)."""
    spec = obj.spec.connection_secret
    labels = {**_clean(spec.labels), MANAGED_BY: OPERATOR, LABEL_OWNER_NAME: obj.ref.name}
    annotations = {
        **_clean(spec.annotations),
        ANNOTATION_INSTANCE_ID: info.instance_id,
        ANNOTATION_PASSWORD_KEY: secret_template.password_key(spec.template, KEY_PASSWORD) or "",
    }
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
        "data": templated_data(obj, info, password, kept),
    }


def build_binding_secret(
    obj: AuraInstance, info: ConnectionInfo, password: SecretStr | None
) -> dict[str, Any]:
    """The Service Binding Secret `<name>-binding` (pure)."""
    return service_binding.secret(
        service_binding.secret_name(obj.ref.name),
        obj.ref.namespace,
        service_binding.entries(info.values(password)),
        labels={MANAGED_BY: OPERATOR, LABEL_OWNER_NAME: obj.ref.name},
        annotations={ANNOTATION_INSTANCE_ID: info.instance_id},
        owner_reference=owner_reference(obj),
    )


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


def _annotations(secret: Mapping[str, Any]) -> Mapping[str, str]:
    return (secret.get("metadata") or {}).get("annotations") or {}


def instance_id_of(secret: Mapping[str, Any]) -> str | None:
    """The Aura instance a Secret the operator wrote is for (annotation; older Secrets: the
    AURA_INSTANCEID key)."""
    return _annotations(secret).get(ANNOTATION_INSTANCE_ID) or decode(secret, KEY_INSTANCE_ID)


def password_in(secret: Mapping[str, Any]) -> SecretStr | None:
    """The bare password a connection Secret holds, under the key its annotation names (a
    Secret without the annotation was written with the default keys)."""
    key = _annotations(secret).get(ANNOTATION_PASSWORD_KEY, KEY_PASSWORD)
    value = decode(secret, key) if key else None
    return SecretStr(value) if value else None


def _is_orphan_of_instance(secret: Mapping[str, Any], instance_id: str) -> bool:
    """A Secret this operator wrote for the same Aura instance and then let go (Retain)."""
    meta = secret.get("metadata") or {}
    refs = meta.get("ownerReferences") or []
    return (
        (meta.get("labels") or {}).get(MANAGED_BY) == OPERATOR
        and not any(r.get("controller") for r in refs)
        and instance_id_of(secret) == instance_id
    )


def _unavailable(obj: AuraInstance, name: str) -> ConditionUpdate:
    key = secret_template.password_key(obj.spec.connection_secret.template, KEY_PASSWORD)
    fix = (
        f"Add the key {key} to the Secret yourself (or reset the password in the Aura "
        "console) and the operator keeps it."
        if key
        else "Reset the password in the Aura console, and add a template key that holds only "
        "{{ .password }} so that the operator can keep it."
    )
    return ConditionUpdate(
        SECRET_READY,
        "False",
        SecretReason.PASSWORD_UNAVAILABLE,
        f"Secret {name} has no password: Aura returns the password only when it creates an "
        "instance, and the operator holds no copy of it (the instance was adopted, or its "
        f"Secret was lost while backups were off). {fix}",
    )


class SecretStore:
    """Writes connection Secrets, their backups and binding Secrets through `Kube`."""

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

    async def binding_password(self, obj: AuraInstance, instance_id: str) -> SecretStr | None:
        """The password in this object's binding Secret, if it is for `instance_id`."""
        name = service_binding.secret_name(obj.ref.name)
        if name == obj.connection_secret_name:
            return None
        secret = await self._kube.get_secret(obj.ref.namespace, name)
        if secret is None or not is_owned_by(secret, obj) or instance_id_of(secret) != instance_id:
            return None
        password = decode(secret, "password")
        return SecretStr(password) if password else None

    async def _copy(self, obj: AuraInstance, instance_id: str) -> tuple[SecretStr | None, str]:
        """The password from a copy: the backup, else the binding Secret; and which it was."""
        password = await self.backup_password(instance_id)
        if password is not None:
            return password, "its backup"
        return await self.binding_password(obj, instance_id), "the binding Secret"

    async def existing_password(self, obj: AuraInstance, instance_id: str) -> SecretStr | None:
        """The password of `instance_id`, from the connection Secret or else a copy."""
        secret = await self._kube.get_secret(obj.ref.namespace, obj.connection_secret_name)
        if secret is not None and instance_id_of(secret) == instance_id:
            password = password_in(secret)
            if password is not None:
                return password
        return (await self._copy(obj, instance_id))[0]

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
        """Make the connection Secret, its backup and the binding Secret match, in that order;
        `password` only from a create. `from_backup` False: another object manages the
        instance (issue 19); its backup is the manager's, never copied to this object nor
        written by it."""
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
        same = existing is not None and instance_id_of(existing) == info.instance_id
        if password is None and same:
            password = password_in(existing or {})
        source = ""
        if password is None and from_backup:
            password, source = await self._copy(obj, info.instance_id)
        kept = (existing or {}).get("data") if same else None
        desired = build_connection_secret(obj, info, password, kept)
        event: tuple[str, str, str] | None = None
        if existing is None:
            await self._kube.create_secret(ns, desired)
            if password is not None and source:
                event = ("Normal", "SecretRestored", f"Restored Secret {name} from {source}")
            else:
                event = ("Normal", "SecretWritten", f"Wrote connection Secret {name}")
        elif _differs(existing, desired):
            await self._replace(ns, existing, desired)
            event = ("Normal", "SecretWritten", f"Updated connection Secret {name}")
        if password is not None and from_backup:
            await self._ensure_backup(obj, info, password)
        binding, events = await self._ensure_binding(obj, info, password)
        condition = (
            ConditionUpdate(
                SECRET_READY, "True", SecretReason.WRITTEN, f"Secret {name} holds the connection"
            )
            if password is not None
            else _unavailable(obj, name)
        )
        return SecretResult(condition, event, password is not None, binding, events)

    async def _replace(
        self, namespace: str, existing: Mapping[str, Any], desired: Mapping[str, Any]
    ) -> None:
        body = dict(desired)
        body["metadata"] = {
            **desired["metadata"],
            "resourceVersion": (existing.get("metadata") or {}).get("resourceVersion"),
        }
        await self._kube.replace_secret(namespace, desired["metadata"]["name"], body)

    async def _ensure_binding(
        self, obj: AuraInstance, info: ConnectionInfo, password: SecretStr | None
    ) -> tuple[str | None, tuple[tuple[str, str, str], ...]]:
        """The binding Secret, written after the connection Secret (so never ahead of it with
        the password); its name once it holds the password, and any event."""
        desired = build_binding_secret(obj, info, password)
        ns, name = obj.ref.namespace, desired["metadata"]["name"]
        existing = (
            None if name == obj.connection_secret_name else await self._kube.get_secret(ns, name)
        )
        if name == obj.connection_secret_name or (
            existing is not None
            and (not is_owned_by(existing, obj) or existing.get("type") != desired["type"])
        ):
            message = (
                f"Secret {name} is the connection Secret or a Secret this AuraInstance does not "
                f"own as type {service_binding.SECRET_TYPE}; no Service Binding Secret is written "
                "(status.binding stays unset). Rename or delete that Secret."
            )
            return None, (("Warning", "BindingSecretConflict", message),)
        if existing is None:
            await self._kube.create_secret(ns, desired)
        elif _differs(existing, desired):
            await self._replace(ns, existing, desired)
        return (name if password is not None else None), ()

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
            await self._replace(self._backup_namespace, existing, desired)

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
