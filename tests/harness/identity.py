"""A service-account identity for running the operator under RBAC instead of as cluster admin.

`ServiceAccountIdentity.create` makes the ServiceAccount, applies the RBAC manifests the test
gives (Roles, ClusterRoles and their bindings, e.g. the chart's), and writes a kubeconfig whose
token the API server maps to the user `system:serviceaccount:<ns>:<name>` with the groups
`system:serviceaccounts` and `system:serviceaccounts:<ns>`: exactly what the operator's pod gets.

The token comes from the TokenRequest API (signed by the API server's service-account key) rather
than from the static token file: token-file users must be known before the API server starts,
while each test picks its namespace and identity at run time, and an existing cluster (kind) has
no token file we could edit. The user name and groups are the same either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

from tests.harness.controlplane import kubeconfig_for, write_kubeconfig
from tests.harness.procs import wait_until

TOKEN_SECONDS = 4 * 3600
RBAC_TIMEOUT = 15.0

Manifests = Sequence[dict[str, Any]] | str | Path


def load_manifests(manifests: Manifests) -> list[dict[str, Any]]:
    """A list of manifest dicts from dicts, or from a (multi-document) YAML file path."""
    if isinstance(manifests, str | Path):
        text = Path(manifests).read_text(encoding="utf-8")
        return [doc for doc in yaml.safe_load_all(text) if doc]
    return [dict(doc) for doc in manifests]


@dataclass
class Applied:
    """What `apply` created, so that cluster-scoped objects can be deleted afterwards."""

    cluster_scoped: list[tuple[str, str, str]] = field(default_factory=list)

    def delete(self, dyn: DynamicClient) -> None:
        for api_version, kind, name in reversed(self.cluster_scoped):
            with contextlib.suppress(NotFoundError):
                dyn.resources.get(api_version=api_version, kind=kind).delete(name=name)
        self.cluster_scoped.clear()


def apply(
    dyn: DynamicClient, manifests: Iterable[dict[str, Any]], namespace: str, applied: Applied
) -> None:
    """Create (or replace) each object; namespaced ones without a namespace go to `namespace`,
    and ServiceAccount subjects without a namespace are taken to live there too."""
    for doc in manifests:
        body = {**doc, "metadata": dict(doc.get("metadata") or {})}
        resource = dyn.resources.get(api_version=body["apiVersion"], kind=body["kind"])
        if resource.namespaced:
            body["metadata"].setdefault("namespace", namespace)
        if body.get("subjects"):
            body["subjects"] = [
                {"namespace": namespace, **s} if s.get("kind") == "ServiceAccount" else s
                for s in body["subjects"]
            ]
        ns = body["metadata"].get("namespace") if resource.namespaced else None
        name = body["metadata"]["name"]
        try:
            resource.create(body=body, namespace=ns)
        except ConflictError:
            current = resource.get(name=name, namespace=ns)
            body["metadata"]["resourceVersion"] = current.metadata.resourceVersion
            resource.replace(body=body, namespace=ns)
        if not resource.namespaced:
            applied.cluster_scoped.append((body["apiVersion"], body["kind"], name))


@dataclass
class ServiceAccountIdentity:
    namespace: str
    name: str
    kubeconfig: Path

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"

    @classmethod
    def create(
        cls,
        api: client.ApiClient,
        cluster_entry: dict[str, Any],
        *,
        namespace: str,
        name: str,
        manifests: list[dict[str, Any]],
        kubeconfig_path: Path,
        applied: Applied,
    ) -> ServiceAccountIdentity:
        core = client.CoreV1Api(api)
        try:
            core.create_namespaced_service_account(
                namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
            )
        except ApiException as exc:
            if exc.status != 409:
                raise
        apply(DynamicClient(api), manifests, namespace, applied)
        request = client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=TOKEN_SECONDS)
        )
        token = core.create_namespaced_service_account_token(name, namespace, request).status.token
        identity = cls(namespace=namespace, name=name, kubeconfig=kubeconfig_path)
        write_kubeconfig(
            kubeconfig_path,
            kubeconfig_for(cluster_entry, identity.username, token, f"{namespace}-{name}"),
        )
        identity.wait_for_grants(api, manifests)
        return identity

    def wait_for_grants(self, api: client.ApiClient, manifests: list[dict[str, Any]]) -> None:
        """Wait until the authoriser sees the bindings (its informer lags the API by a moment).

        For each binding naming this identity, one concrete rule of its role (when the role is
        among the manifests) is checked with a SubjectAccessReview until it is allowed.
        """
        roles = {(m["kind"], m["metadata"]["name"]): m for m in manifests if "rules" in m}
        auth = client.AuthorizationV1Api(api)
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{self.namespace}"]
        for binding in (m for m in manifests if m.get("kind", "").endswith("RoleBinding")):
            if not any(self._is_subject(s) for s in binding.get("subjects") or []):
                continue
            ref = binding["roleRef"]
            role = roles.get((ref["kind"], ref["name"]))
            attributes = _concrete_rule(role, binding, self.namespace) if role else None
            if attributes is None:
                continue
            review = client.V1SubjectAccessReview(
                spec=client.V1SubjectAccessReviewSpec(
                    user=self.username, groups=groups, resource_attributes=attributes
                )
            )
            wait_until(
                lambda review=review: auth.create_subject_access_review(review).status.allowed,
                timeout=RBAC_TIMEOUT,
                what=f"{binding['kind']} {binding['metadata']['name']} to grant {self.username}",
            )

    def _is_subject(self, subject: dict[str, Any]) -> bool:
        return (
            subject.get("kind") == "ServiceAccount"
            and subject.get("name") == self.name
            and subject.get("namespace", self.namespace) == self.namespace
        )


def _concrete_rule(
    role: dict[str, Any], binding: dict[str, Any], namespace: str
) -> client.V1ResourceAttributes | None:
    for rule in role.get("rules") or []:
        verbs = [v for v in rule.get("verbs") or [] if v != "*"]
        resources = [r for r in rule.get("resources") or [] if r != "*"]
        if verbs and resources and "nonResourceURLs" not in rule:
            group = (rule.get("apiGroups") or [""])[0]
            resource, _, subresource = resources[0].partition("/")
            scoped = binding["kind"] == "RoleBinding"
            return client.V1ResourceAttributes(
                verb=verbs[0],
                group="" if group == "*" else group,
                resource=resource,
                subresource=subresource or None,
                namespace=binding["metadata"].get("namespace", namespace) if scoped else None,
                name=(rule.get("resourceNames") or [None])[0],
            )
    return None
