"""AuraReferenceGrant (aura_operator.runtime.grants): a cross-namespace reference is allowed only
by a grant in the manager's namespace that names the referrer's namespace and kind and the
manager's kind (and name, when given); each refusal names exactly what is missing."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from aura_operator.runtime.claims import AuraObject, ClaimRecord, ManagerRef
from aura_operator.runtime.grants import (
    REFERENCE_NOT_PERMITTED,
    AuraReferenceGrant,
    ManagerKind,
    ReferenceAllowed,
    ReferenceRefused,
    ReferrerKind,
    check_reference,
    unmanaged_policy,
)

ROOT = Path(__file__).resolve().parents[2]
X = AuraObject("instance", "1fa1930f")
PROD = ClaimRecord(X, ManagerRef("AuraInstance", "prod", "orders", "uid-1"), "t")


def grant(
    namespace: str = "prod",
    from_: list[dict[str, str]] | None = None,
    to: list[dict[str, str]] | None = None,
    name: str = "staging-may-refresh",
) -> AuraReferenceGrant:
    return AuraReferenceGrant.from_body(
        {
            "metadata": {"namespace": namespace, "name": name},
            "spec": {
                "from": from_ or [{"namespace": "staging", "kind": "AuraRestore"}],
                "to": to or [{"kind": "AuraInstance", "name": "orders"}],
            },
        }
    )


def check(
    referrer_ns: str = "staging",
    kind: str = "AuraRestore",
    manager: ClaimRecord | None = PROD,
    grants: list[AuraReferenceGrant] | None = None,
    unmanaged: typing.Literal["Allow", "Deny"] = "Allow",
    credential: str | None = None,
) -> ReferenceAllowed | ReferenceRefused:
    return check_reference(
        referrer_ns, kind, X, manager, grants or [], unmanaged, credential=credential
    )


MISSING = (
    "no AuraReferenceGrant in namespace prod allows AuraRestore from namespace staging to "
    "AuraInstance orders"
)


def test_same_namespace_needs_no_grant() -> None:
    assert check(referrer_ns="prod") == ReferenceAllowed("same namespace")


def test_without_a_grant_the_reference_is_refused_naming_the_missing_grant() -> None:
    refused = check()
    assert refused == ReferenceRefused(MISSING)
    assert refused.reason == REFERENCE_NOT_PERMITTED == "ReferenceNotPermitted"
    assert not refused.allowed


def test_a_matching_grant_allows_it_and_says_which() -> None:
    assert check(grants=[grant()]) == ReferenceAllowed(
        "AuraReferenceGrant prod/staging-may-refresh"
    )
    # Without a name, every AuraInstance of the namespace.
    assert check(grants=[grant(to=[{"kind": "AuraInstance"}])]).allowed


@pytest.mark.parametrize(
    ("why", "refusing_grant", "message"),
    [
        ("another namespace may refer", grant(from_=[{"namespace": "dev", "kind": "AuraRestore"}]),
         MISSING),
        ("another kind may refer", grant(from_=[{"namespace": "staging", "kind": "AuraInstance"}]),
         MISSING),
        ("another object is granted", grant(to=[{"kind": "AuraInstance", "name": "billing"}]),
         MISSING),
        ("another kind is granted", grant(to=[{"kind": "AuraSnapshot"}]), MISSING),
        # A grant counts only in the namespace of the manager: staging cannot grant itself.
        ("the grant is in the referrer's namespace", grant(namespace="staging"), MISSING),
    ],
)  # fmt: skip
def test_a_grant_that_does_not_match_exactly_is_no_grant(
    why: str, refusing_grant: AuraReferenceGrant, message: str
) -> None:
    assert check(grants=[refusing_grant]) == ReferenceRefused(message), why


def test_entries_of_from_and_to_combine_and_any_grant_suffices() -> None:
    wide = grant(
        from_=[{"namespace": "dev", "kind": "AuraInstance"},
               {"namespace": "staging", "kind": "AuraRestore"}],
        to=[{"kind": "AuraSnapshot"}, {"kind": "AuraInstance", "name": "orders"}],
        name="wide",
    )  # fmt: skip
    assert check(grants=[grant(namespace="dev"), wide]) == ReferenceAllowed(
        "AuraReferenceGrant prod/wide"
    )
    assert check(referrer_ns="dev", kind="AuraInstance", grants=[wide]).allowed


def test_an_unmanaged_target_follows_the_credentials_setting() -> None:
    assert check(manager=None, unmanaged="Allow") == ReferenceAllowed(
        "instance 1fa1930f is managed by no object; unmanagedObjects: Allow"
    )
    assert check(manager=None, unmanaged="Deny", credential="team-a") == ReferenceRefused(
        "instance 1fa1930f is managed by no object, and AuraCredential team-a sets "
        "spec.unmanagedObjects: Deny: create an object that manages it (spec.instanceId) in the "
        "namespace that should own it, then grant this reference there if it is another namespace"
    )
    refused = check(manager=None, unmanaged="Deny")
    assert isinstance(refused, ReferenceRefused)
    assert "the default credential's AURA_OPERATOR_UNMANAGED_OBJECTS is Deny" in refused.message


@pytest.mark.parametrize(
    ("spec", "default", "policy"),
    [
        (None, "Deny", "Deny"),  # the operator's default credential: the setting
        (None, "Allow", "Allow"),
        ({"unmanagedObjects": "Deny"}, "Allow", "Deny"),
        ({"unmanagedObjects": "Allow"}, "Deny", "Allow"),
        ({}, "Deny", "Allow"),  # stored before the field existed: the schema's default
    ],
)
def test_unmanaged_policy(spec: dict[str, Any] | None, default: Any, policy: str) -> None:
    assert unmanaged_policy(spec, default) == policy


def _crd_spec() -> dict[str, Any]:
    crd = yaml.safe_load((ROOT / "crds" / "aurareferencegrants.aura-operator.dev.yaml").read_text())
    (version,) = crd["spec"]["versions"]
    return dict(version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"])


def test_the_model_accepts_exactly_the_kinds_the_crd_accepts() -> None:
    spec = _crd_spec()
    assert spec["from"]["items"]["properties"]["kind"]["enum"] == list(
        typing.get_args(ReferrerKind)
    )
    assert spec["to"]["items"]["properties"]["kind"]["enum"] == list(typing.get_args(ManagerKind))
    cred = yaml.safe_load((ROOT / "crds" / "auracredentials.aura-operator.dev.yaml").read_text())
    prop = cred["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "properties"
    ]["unmanagedObjects"]
    assert (prop["enum"], prop["default"]) == (["Allow", "Deny"], "Allow")


def test_the_staging_refresh_sample_is_allowed_by_the_sample_grant_and_by_nothing_else() -> None:
    samples = ROOT / "deploy" / "samples"
    body = yaml.safe_load((samples / "reference-grant.yaml").read_text())
    sample = AuraReferenceGrant.from_body(
        {**body, "metadata": {**body["metadata"], "namespace": "shop"}}
    )
    docs = yaml.safe_load_all((samples / "staging-refresh.yaml").read_text())
    (restore,) = [d for d in docs if d["kind"] == "AuraRestore"]
    assert restore["spec"]["source"]["instanceId"] == "ORDERS-INSTANCE-ID"  # orders, in shop
    manager = ClaimRecord(X, ManagerRef("AuraInstance", "shop", "orders", "u"), "t")
    refer = ("shop-staging", "AuraRestore", X, manager)
    assert check_reference(*refer, [sample], "Deny").allowed
    assert not check_reference(*refer, [], "Allow").allowed
