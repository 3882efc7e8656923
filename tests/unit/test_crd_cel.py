"""The CRD's CEL rules (`x-kubernetes-validations`), evaluated with cel-python.

The e2e API server is v1.20, which drops these rules silently (they need Kubernetes 1.25+), so
this module covers that gap: it applies each rule the way an API server does and checks that
creation-time fields are immutable, instanceId cannot change once set, and the creation fields
are required unless adopting.

How an API server applies a rule, reproduced here: rules sit on a schema node and run with `self`
bound to the (defaulted) value at that node, only when the value is present; a rule that mentions
`oldSelf` is a transition rule and runs only on update, and only when the old object has a value
at the same place. An evaluation error rejects the object like a false result does.

cel-python implements standard CEL, not Kubernetes' type-checked dialect; kind clusters (1.25+)
run the rules for real (README, e2e section).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import celpy
import pytest

from tests.harness.controlplane import load_crds

_ABSENT = object()

CREATE_SPEC: dict[str, Any] = {
    "name": "orders",
    "tenantId": "6981ace7-efe8-4f5c-b7c5-267b5162ce91",
    "type": "enterprise-db",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "version": "5",
    "memory": "8GB",
    "paused": False,
    "managementPolicy": "Full",
}


def aura_schema() -> dict[str, Any]:
    crd = next(c for c in load_crds() if c["metadata"]["name"] == "aurainstances.aura-operator.dev")
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


SCHEMA = aura_schema()
ENV = celpy.Environment()


def all_rules(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = [(path or "<root>", rule) for rule in schema.get("x-kubernetes-validations", [])]
    for key, sub in (schema.get("properties") or {}).items():
        found += all_rules(sub, f"{path}.{key}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += all_rules(schema[key], f"{path}[*]")
    return found


def with_defaults(schema: dict[str, Any], value: Any) -> Any:
    """Apply schema defaults as the API server does before it validates."""
    if isinstance(value, dict):
        result = dict(value)
        for key, sub in (schema.get("properties") or {}).items():
            if key not in result and "default" in sub:
                result[key] = copy.deepcopy(sub["default"])
            if key in result:
                result[key] = with_defaults(sub, result[key])
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [with_defaults(schema["items"], item) for item in value]
    return value


@functools.cache
def program(rule: str) -> celpy.Runner:
    return ENV.program(ENV.compile(rule))


def evaluate(rule: str, new: Any, old: Any) -> bool:
    activation = {"self": celpy.json_to_cel(new)}
    if old is not _ABSENT:
        activation["oldSelf"] = celpy.json_to_cel(old)
    try:
        result = program(rule).evaluate(activation)
    except celpy.CELEvalError:  # e.g. no such key: the API server rejects the object
        return False
    return result is True or (isinstance(result, celpy.celtypes.BoolType) and bool(result))


def violations(schema: dict[str, Any], new: Any, old: Any = _ABSENT, path: str = "") -> list[str]:
    """The messages of the rules `new` breaks (an update when `old` is given)."""
    errors = []
    for rule in schema.get("x-kubernetes-validations", []):
        transition = "oldSelf" in rule["rule"]
        if transition and old is _ABSENT:
            continue
        if not evaluate(rule["rule"], new, old if transition else _ABSENT):
            errors.append(f"{path or '<root>'}: {rule['message']}")
    if isinstance(new, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key in new:
                old_value = old.get(key, _ABSENT) if isinstance(old, dict) else _ABSENT
                errors += violations(sub, new[key], old_value, f"{path}.{key}")
    return errors


def on_create(spec: dict[str, Any]) -> list[str]:
    return violations(SCHEMA, with_defaults(SCHEMA, {"spec": spec}))


def on_update(old_spec: dict[str, Any], new_spec: dict[str, Any]) -> list[str]:
    old = with_defaults(SCHEMA, {"spec": old_spec})
    return violations(SCHEMA, with_defaults(SCHEMA, {"spec": new_spec}), old)


def test_every_rule_compiles_and_says_what_is_wrong() -> None:
    rules = all_rules(SCHEMA)
    assert len(rules) >= 13
    for path, rule in rules:
        ENV.compile(rule["rule"])
        assert rule.get("message"), f"rule at {path} has no message"


def test_a_complete_spec_is_accepted() -> None:
    assert on_create(CREATE_SPEC) == []
    assert on_update(CREATE_SPEC, CREATE_SPEC) == []


@pytest.mark.parametrize("missing", ["type", "cloudProvider", "region", "memory"])
def test_creation_fields_are_required_unless_adopting(missing: str) -> None:
    spec = {k: v for k, v in CREATE_SPEC.items() if k != missing}
    assert on_create(spec) == [
        ".spec: type, cloudProvider, region and memory are required unless instanceId adopts "
        "an existing instance"
    ]
    assert on_create({"instanceId": "2f49c2b3"}) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tenantId", "c4ae3bd0-0b4c-4b8a-a0f4-6b5c2c3e1f00"),
        ("type", "professional-db"),
        ("cloudProvider", "aws"),
        ("region", "europe-west2"),
        ("version", "4"),
    ],
)
def test_creation_time_fields_are_immutable(field: str, value: str) -> None:
    message = f"{field} is immutable"
    if field == "type":
        message += ", except professional-db -> business-critical (an upgrade)"
    assert on_update(CREATE_SPEC, {**CREATE_SPEC, field: value}) == [f".spec.{field}: {message}"]


def test_type_changes_only_from_professional_db_to_business_critical() -> None:
    professional = {**CREATE_SPEC, "type": "professional-db"}
    assert on_update(professional, {**professional, "type": "business-critical"}) == []
    refused = ".spec.type: type is immutable, except professional-db -> business-critical " + (
        "(an upgrade)"
    )
    critical = {**CREATE_SPEC, "type": "business-critical"}
    assert on_update(critical, professional) == [refused]
    assert on_update(professional, {**professional, "type": "enterprise-db"}) == [refused]


def test_source_is_an_instance_or_an_aura_snapshot() -> None:
    by_ref = {**CREATE_SPEC, "source": {"snapshotRef": {"name": "orders-before-migration"}}}
    assert on_create(by_ref) == []
    both = {**CREATE_SPEC, "source": {"instanceId": "2f49c2b3", "snapshotRef": {"name": "s"}}}
    assert on_create(both) == [
        ".spec.source: source needs exactly one of instanceId and snapshotRef"
    ]
    only_snapshot = {**CREATE_SPEC, "source": {"snapshotId": "3e5e6e27"}}
    assert on_create(only_snapshot) == [
        ".spec.source: source needs exactly one of instanceId and snapshotRef",
        ".spec.source: source.snapshotId needs source.instanceId",
    ]


def test_source_is_immutable() -> None:
    cloned = {**CREATE_SPEC, "source": {"instanceId": "2f49c2b3"}}
    changed = {**cloned, "source": {"instanceId": "2f49c2b3", "snapshotId": "3e5e6e27"}}
    assert on_update(cloned, changed) == [".spec.source: source is immutable"]
    assert on_update(cloned, CREATE_SPEC) == [
        ".spec: source is fixed at creation and cannot be added or removed"
    ]


@pytest.mark.parametrize("field", ["tenantId", "type", "cloudProvider", "region"])
def test_creation_time_fields_cannot_be_added_or_removed(field: str) -> None:
    without = {k: v for k, v in CREATE_SPEC.items() if k != field}
    if field in ("type", "cloudProvider", "region"):
        without["instanceId"] = "2f49c2b3"  # only an adopted instance may leave these out
    message = f".spec: {field} is fixed at creation and cannot be added or removed"
    assert on_update(without, {**without, field: CREATE_SPEC[field]}) == [message]
    assert message in on_update({**without, field: CREATE_SPEC[field]}, without)


def test_omitted_version_keeps_its_default_and_is_not_a_change() -> None:
    spec = {k: v for k, v in CREATE_SPEC.items() if k != "version"}
    assert on_update(spec, spec) == []
    assert on_update(spec, {**spec, "version": "4"}) == [".spec.version: version is immutable"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "renamed"),
        ("memory", "16GB"),
        ("storage", "32GB"),
        ("vectorOptimized", True),
        ("graphAnalyticsPlugin", True),
        ("secondariesCount", 2),
        ("cdcEnrichmentMode", "FULL"),
        ("paused", True),
        ("deletionPolicy", "Delete"),
        ("deletionProtection", True),
        ("managementPolicy", "ObserveOnly"),
        ("credentialsSecretRef", {"name": "aura-team-credentials"}),
        ("connectionSecret", {"name": "orders-db", "labels": {"team": "orders"}}),
    ],
)
def test_mutable_fields_can_change(field: str, value: Any) -> None:
    assert on_update(CREATE_SPEC, {**CREATE_SPEC, field: value}) == []


def test_instance_id_can_be_set_later_but_never_changed_or_removed() -> None:
    adopted = {**CREATE_SPEC, "instanceId": "2f49c2b3"}
    assert on_update(CREATE_SPEC, adopted) == []
    assert on_update(adopted, adopted) == []
    message = ".spec: instanceId cannot be changed or removed once set"
    assert on_update(adopted, {**adopted, "instanceId": "a1b2c3d4"}) == [message]
    assert on_update(adopted, CREATE_SPEC) == [message]


# --- customer-managed keys and credentials (issue 13) -------------------------------------------

KEYED = {**CREATE_SPEC, "customerManagedKeyRef": {"name": "orders-key"}}


@pytest.mark.parametrize(
    "key", [{"customerManagedKeyRef": {"name": "orders-key"}}, {"customerManagedKeyId": "8c76"}]
)
def test_a_customer_managed_key_is_accepted_at_creation(key: dict[str, Any]) -> None:
    assert on_create({**CREATE_SPEC, **key}) == []
    assert on_update({**CREATE_SPEC, **key}, {**CREATE_SPEC, **key}) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("customerManagedKeyRef", {"name": "orders-key"}), ("customerManagedKeyId", "8c76")],
)
def test_a_customer_managed_key_is_set_at_creation_only(field: str, value: Any) -> None:
    message = f".spec: {field} is fixed at creation and cannot be added or removed"
    assert on_update(CREATE_SPEC, {**CREATE_SPEC, field: value}) == [message]
    assert on_update({**CREATE_SPEC, field: value}, CREATE_SPEC) == [message]


def test_a_customer_managed_key_cannot_change() -> None:
    changed = {**KEYED, "customerManagedKeyRef": {"name": "other-key"}}
    assert on_update(KEYED, changed) == [
        ".spec.customerManagedKeyRef: customerManagedKeyRef is immutable"
    ]
    with_id = {**CREATE_SPEC, "customerManagedKeyId": "8c76"}
    assert on_update(with_id, {**with_id, "customerManagedKeyId": "9d87"}) == [
        ".spec.customerManagedKeyId: customerManagedKeyId is immutable"
    ]


def test_a_customer_managed_key_needs_an_enterprise_type_and_one_way_to_name_it() -> None:
    assert on_create({**KEYED, "type": "professional-db"}) == [
        ".spec: a customer-managed key (customerManagedKeyRef, customerManagedKeyId) is only "
        "available for type enterprise-db and enterprise-ds"
    ]
    assert on_create({**KEYED, "type": "enterprise-ds"}) == []
    assert on_create({**KEYED, "customerManagedKeyId": "8c76"}) == [
        ".spec: set customerManagedKeyRef or customerManagedKeyId, not both"
    ]


def test_credential_ref_may_change_but_not_beside_credentials_secret_ref() -> None:
    team_a = {**CREATE_SPEC, "credentialRef": {"name": "team-a"}}
    assert on_create(team_a) == []
    assert on_update(team_a, {**team_a, "credentialRef": {"name": "team-b"}}) == []
    assert on_update(CREATE_SPEC, team_a) == []
    assert on_create({**team_a, "credentialsSecretRef": {"name": "aura"}}) == [
        ".spec: set credentialRef or credentialsSecretRef, not both"
    ]
