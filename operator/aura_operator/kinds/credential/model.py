"""The AuraCredential custom resource (cluster-scoped) and its namespace selector.

An AuraCredential names a Secret with a client id and secret, the credential's request budget,
the namespaces whose objects may use it (`allowedNamespaces`, a label selector: omitted selects
none, `{}` selects all) and an optional default tenant. `crds/auracredentials...yaml` is the
schema; these models are what the operator reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from aura_operator.runtime.model import CamelModel, ObjectRef, StatusModel, object_ref

PLURAL = "auracredentials"
KIND = "AuraCredential"
DEFAULT_REQUESTS_PER_MINUTE = 110.0


class CredentialSecretRef(CamelModel):
    name: str
    namespace: str | None = None
    client_id_key: str = "AURA_CLIENT_ID"
    client_secret_key: str = "AURA_CLIENT_SECRET"  # noqa: S105 - a key name


class SelectorRequirement(CamelModel):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = Field(default_factory=list)


class LabelSelector(CamelModel):
    match_labels: dict[str, str] = Field(default_factory=dict)
    match_expressions: list[SelectorRequirement] = Field(default_factory=list)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Kubernetes label-selector semantics: every term must hold; {} matches everything."""
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        for req in self.match_expressions:
            present = req.key in labels
            if req.operator == "Exists" and not present:
                return False
            if req.operator == "DoesNotExist" and present:
                return False
            if req.operator == "In" and (not present or labels[req.key] not in req.values):
                return False
            if req.operator == "NotIn" and present and labels[req.key] in req.values:
                return False
        return True

    def describe(self) -> str:
        terms = [f"{k}={v}" for k, v in sorted(self.match_labels.items())]
        for req in self.match_expressions:
            values = f" ({','.join(req.values)})" if req.values else ""
            terms.append(f"{req.key} {req.operator}{values}")
        return ", ".join(terms) or "every namespace"


class AuraCredentialSpec(CamelModel):
    secret_ref: CredentialSecretRef
    requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE
    allowed_namespaces: LabelSelector | None = None
    default_tenant_id: str | None = None
    unmanaged_objects: Literal["Allow", "Deny"] = "Allow"


class AuraCredentialStatus(StatusModel):
    pass


class AuraCredential(BaseModel):
    ref: ObjectRef
    spec: AuraCredentialSpec
    status: AuraCredentialStatus
    deleting: bool = False

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> AuraCredential:
        meta = body.get("metadata") or {}
        return cls(
            ref=object_ref(body),
            spec=AuraCredentialSpec.model_validate(dict(body.get("spec") or {})),
            status=AuraCredentialStatus.model_validate(dict(body.get("status") or {})),
            deleting=bool(meta.get("deletionTimestamp")),
        )

    def allows(self, labels: Mapping[str, str]) -> bool:
        selector = self.spec.allowed_namespaces
        return selector is not None and selector.matches(labels)
