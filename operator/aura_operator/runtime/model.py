"""What every kind's object has, whatever the kind: the API group, who the object is (`ObjectRef`),
its conditions and status base, the annotations the controller reads, and the intent record of
the exactly-once primitive (runtime/intents.py).

Pure pydantic, imported by every kind's model: it imports nothing of the operator.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "aura-operator.dev"
VERSION = "v1alpha1"

ANNOTATION_RECONCILE = f"{GROUP}/reconcile"
#: The label on every Secret this operator writes (connection Secrets, password backups).
MANAGED_BY = "app.kubernetes.io/managed-by"
OPERATOR = "aura-operator"

DeletionPolicy = Literal["Delete", "Retain"]
ANNOTATION_FORCE_FINALIZE = f"{GROUP}/force-finalize"


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class SecretRef(CamelModel):
    name: str


class Condition(CamelModel):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str = ""
    last_transition_time: str
    observed_generation: int | None = None


class StatusModel(CamelModel):
    """What every kind's status has: the generation last fully applied, when the next attempt
    after an error is due, and the conditions."""

    observed_generation: int | None = None
    next_attempt_at: str | None = None
    conditions: list[Condition] = Field(default_factory=list)

    def condition(self, type_: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == type_), None)


class Intent(CamelModel):
    """Recorded on the object (conditionally on its resourceVersion) before a POST that must be
    sent once: `status.creation` (instances, keys), `status.upgrade`, `status.request`
    (snapshots), `status.safetySnapshot` and `status.restore` (restores). See intents.py."""

    requested_at: datetime
    unanswered_at: datetime | None = None
    name: str = ""
    """The Aura name the request used (creates), by which the result is looked for."""
    discarded_ids: list[str] = Field(default_factory=list)
    """Results of earlier requests that were found and deleted (instance create)."""
    accepted_at: datetime | None = None
    """When Aura answered (snapshots, restores): the request is no longer open."""
    seen: bool = False
    """Aura was seen acting on it (restores): running again means done."""


class ObjectRef(BaseModel):
    """Who the object is: enough to patch it, own Secrets and name events."""

    namespace: str
    name: str
    uid: str
    generation: int = 0
    resource_version: str | None = None


def object_ref(body: Mapping[str, Any]) -> ObjectRef:
    meta = body.get("metadata") or {}
    return ObjectRef(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        uid=meta.get("uid", ""),
        generation=int(meta.get("generation") or 0),
        resource_version=meta.get("resourceVersion"),
    )


def annotation(body: Mapping[str, Any], key: str) -> str:
    """An annotation of the object, trimmed and lower-cased ("" when absent)."""
    meta = body.get("metadata") or {}
    return str((meta.get("annotations") or {}).get(key, "")).strip().lower()


def skipped(body: Mapping[str, Any]) -> bool:
    """`aura-operator.dev/reconcile: skip`: the object is left alone."""
    return annotation(body, ANNOTATION_RECONCILE) == "skip"


def force_finalized(body: Mapping[str, Any]) -> bool:
    """`aura-operator.dev/force-finalize: "true"`: release the finalizer without acting."""
    return annotation(body, ANNOTATION_FORCE_FINALIZE) == "true"


@dataclass(frozen=True)
class SpecProblem:
    """Bad input, found before anything is sent: the field and a message naming the allowed
    values (the outcome is Synced=False InvalidSpec)."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")


def default_aura_name(namespace: str, name: str) -> str:
    """`<namespace>-<name>`, at most 30 characters (Aura's limit), stable and readable.

    Long pairs are shortened with a hash suffix so that two objects never share a name by
    truncation alone.
    """
    full = _UNSAFE.sub("-", f"{namespace}-{name}").strip("-") or "aura"
    if len(full) <= 30:
        return full
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:6]
    return f"{full[:23].rstrip('-')}-{digest}"


def decode(secret: Mapping[str, Any], key: str) -> str | None:
    """A value of a Secret's `data` (base64), or None."""
    raw = (secret.get("data") or {}).get(key)
    if raw is None:
        return None
    try:
        return base64.b64decode(raw).decode()
    except (ValueError, UnicodeDecodeError):
        return None
