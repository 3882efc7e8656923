"""The session's connection Secret `<name>-session`: what a GDS client needs to reach it.

The session's host and URI, its id and name, and for an attached session the name of the
instance's connection Secret (where the instance's password is): the password itself is never
copied here. Owned by the object (the garbage collector deletes it with the object); a Secret of
that name the object does not own is never overwritten (SecretConflict).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aura_operator.aura import GdsSession
from aura_operator.kinds.session.model import KIND, AuraGraphAnalyticsSession
from aura_operator.kube.api import KubeApi
from aura_operator.runtime.conditions import SECRET_READY, ConditionUpdate, SecretReason
from aura_operator.runtime.model import GROUP, MANAGED_BY, OPERATOR, VERSION

KEY_SESSION_ID = "AURA_SESSION_ID"
KEY_SESSION_NAME = "AURA_SESSION_NAME"
KEY_HOST = "AURA_SESSION_HOST"
KEY_URI = "AURA_SESSION_URI"
KEY_INSTANCE_ID = "AURA_INSTANCEID"
#: The name of the attached instance's connection Secret (NEO4J_URI, NEO4J_PASSWORD, ...).
KEY_INSTANCE_SECRET = "AURA_INSTANCE_CONNECTION_SECRET"  # noqa: S105 - a key name


@dataclass(frozen=True)
class Attachment:
    """The AuraInstance an attached session projects from."""

    instance_id: str
    connection_secret: str


def session_data(session: GdsSession, attached: Attachment | None) -> dict[str, str]:
    values = {KEY_SESSION_ID: session.id, KEY_SESSION_NAME: session.name or ""}
    if session.host:
        values[KEY_HOST] = session.host
        values[KEY_URI] = f"neo4j+s://{session.host}"
    if attached is not None:
        values[KEY_INSTANCE_ID] = attached.instance_id
        values[KEY_INSTANCE_SECRET] = attached.connection_secret
    return {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}


def build_secret(
    obj: AuraGraphAnalyticsSession, session: GdsSession, attached: Attachment | None
) -> dict[str, Any]:
    owner = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": obj.ref.name,
        "uid": obj.ref.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": obj.secret_name,
            "namespace": obj.ref.namespace,
            "labels": {MANAGED_BY: OPERATOR, f"{GROUP}/session": obj.ref.name},
            "ownerReferences": [owner],
        },
        "data": session_data(session, attached),
    }


def _owned(secret: Mapping[str, Any], uid: str) -> bool:
    refs = (secret.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == uid and r.get("controller") for r in refs)


async def ensure_secret(
    kube: KubeApi,
    obj: AuraGraphAnalyticsSession,
    session: GdsSession,
    attached: Attachment | None,
) -> ConditionUpdate:
    """Create or update the Secret to hold `session`; the condition that says how it went."""
    ns, name = obj.ref.namespace, obj.secret_name
    desired = build_secret(obj, session, attached)
    existing = await kube.get_secret(ns, name)
    if existing is None:
        await kube.create_secret(ns, desired)
    elif not _owned(existing, obj.ref.uid):
        message = (
            f"Secret {name} exists and is not owned by this {KIND}; the operator never "
            "overwrites a Secret it does not own. Delete or rename it."
        )
        return ConditionUpdate(SECRET_READY, "False", SecretReason.CONFLICT, message)
    elif (existing.get("data") or {}) != desired["data"]:
        meta = existing.get("metadata") or {}
        body = {**desired, "metadata": {**desired["metadata"], **_kept(meta)}}
        await kube.replace_secret(ns, name, body)
    return ConditionUpdate(
        SECRET_READY, "True", SecretReason.WRITTEN, f"Secret {name} holds session {session.id}"
    )


def _kept(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What a replace keeps of the Secret it replaces (its version: a concurrent change wins)."""
    return {"resourceVersion": meta.get("resourceVersion")}
