"""The pydantic models and the CRD in crds/ agree; names and refs derive as documented."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from aura_operator.kinds.instance.model import AuraInstance, AuraInstanceSpec, AuraInstanceStatus
from aura_operator.runtime.model import default_aura_name

CRD = Path(__file__).resolve().parents[2] / "crds" / "aurainstances.aura-operator.dev.yaml"


def _schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    (version,) = crd["spec"]["versions"]
    return dict(version["schema"]["openAPIV3Schema"]["properties"])


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


@pytest.mark.parametrize(
    ("section", "model"), [("spec", AuraInstanceSpec), ("status", AuraInstanceStatus)]
)
def test_model_fields_match_crd_properties(section: str, model: type[BaseModel]) -> None:
    properties = set(_schema()[section]["properties"])
    assert _aliases(model) == properties


def test_defaults_match_crd_defaults() -> None:
    props = _schema()["spec"]["properties"]
    spec = AuraInstanceSpec()
    for name, field in AuraInstanceSpec.model_fields.items():
        prop = props[field.alias or name]
        if "default" in prop:
            assert getattr(spec, name) == prop["default"], name


@pytest.mark.parametrize(
    ("field", "prop"),
    [("deletion_policy", "deletionPolicy"), ("management_policy", "managementPolicy")],
)
def test_enums_match(field: str, prop: str) -> None:
    annotation = AuraInstanceSpec.model_fields[field].annotation
    literal_values: set[str] = set()
    for arg in typing.get_args(annotation):
        literal_values |= set(typing.get_args(arg)) if typing.get_args(arg) else {arg}
    literal_values.discard(type(None))  # type: ignore[arg-type]
    assert literal_values == set(_schema()["spec"]["properties"][prop]["enum"])


@pytest.mark.parametrize(
    ("namespace", "name", "expected"),
    [
        ("prod", "orders", "prod-orders"),
        ("team.a", "db_1", "team-a-db-1"),
    ],
)
def test_default_aura_name(namespace: str, name: str, expected: str) -> None:
    assert default_aura_name(namespace, name) == expected


def test_long_default_names_stay_within_30_characters_and_distinct() -> None:
    a = default_aura_name("a-very-long-namespace-name", "and-a-long-object-name-1")
    b = default_aura_name("a-very-long-namespace-name", "and-a-long-object-name-2")
    assert len(a) <= 30
    assert len(b) <= 30
    assert a != b
    assert a == default_aura_name("a-very-long-namespace-name", "and-a-long-object-name-1")


def test_from_body_derived_values() -> None:
    obj = AuraInstance.from_body(
        {
            "metadata": {
                "namespace": "prod",
                "name": "orders",
                "uid": "u-1",
                "generation": 3,
                "annotations": {"aura-operator.dev/reconcile": "skip"},
            },
            "spec": {"memory": "8GB", "connectionSecret": {"name": "custom"}},
            "status": {"instanceId": "db1d1234", "conditions": []},
        }
    )
    assert obj.aura_name == "prod-orders"
    assert obj.connection_secret_name == "custom"
    assert obj.instance_id == "db1d1234"
    assert obj.skip
    assert not obj.force_finalize
    assert obj.ref.generation == 3
    assert obj.spec.version == "5"
