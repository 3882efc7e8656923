"""Every kind's pydantic models agree with its CRD in crds/ (test_resource.py goes deeper for
AuraInstance): the spec fields are exactly the CRD's, every status field the operator reads is
in the CRD, and every intent the CRD records fits the one intent model (runtime/model.py)."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from aura_operator.kinds.credential.model import AuraCredentialSpec, AuraCredentialStatus
from aura_operator.kinds.customer_key.model import KeySpec, KeyStatus
from aura_operator.kinds.instance.model import (
    AuraInstanceSpec,
    AuraInstanceStatus,
    BindingStatus,
    ConnectionSecretSpec,
    MetricsSpec,
    ScrapeConfigSpec,
    UptimeStatus,
)
from aura_operator.kinds.instance.secret_template import SecretTemplate
from aura_operator.kinds.restore.model import AuraRestoreSpec, AuraRestoreStatus
from aura_operator.kinds.session.model import SessionSpec, SessionStatus
from aura_operator.kinds.snapshot.model import AuraSnapshotSpec, AuraSnapshotStatus
from aura_operator.runtime.grants import AuraReferenceGrantSpec
from aura_operator.runtime.model import Intent

CRDS = Path(__file__).resolve().parents[2] / "crds"
KINDS = [
    ("aurainstances", AuraInstanceSpec, AuraInstanceStatus),
    ("aurasnapshots", AuraSnapshotSpec, AuraSnapshotStatus),
    ("aurarestores", AuraRestoreSpec, AuraRestoreStatus),
    ("auracustomermanagedkeys", KeySpec, KeyStatus),
    ("auracredentials", AuraCredentialSpec, AuraCredentialStatus),
    ("auragraphanalyticssessions", SessionSpec, SessionStatus),
]
#: The status an AuraCredential shows has no next attempt: its pass never fails.
NOT_IN_CRD = {"auracredentials": {"nextAttemptAt"}}
INTENTS = ("creation", "upgrade", "request", "safetySnapshot", "restore")


def _properties(plural: str) -> dict[str, Any]:
    crd = yaml.safe_load((CRDS / f"{plural}.aura-operator.dev.yaml").read_text())
    (version,) = crd["spec"]["versions"]
    return dict(version["schema"]["openAPIV3Schema"]["properties"])


def _aliases(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


#: Kinds the operator reads but never reconciles: no status.
READ_ONLY = [("aurareferencegrants", AuraReferenceGrantSpec)]


def test_every_crd_is_covered() -> None:
    covered = [k[0] for k in KINDS] + [k[0] for k in READ_ONLY]
    assert sorted(p.name.split(".")[0] for p in CRDS.glob("*.yaml")) == sorted(covered)


@pytest.mark.parametrize(("plural", "spec"), READ_ONLY)
def test_a_read_only_kinds_model_is_its_crd_spec(plural: str, spec: type[BaseModel]) -> None:
    assert _aliases(spec) == set(_properties(plural)["spec"]["properties"])
    assert "status" not in _properties(plural)


@pytest.mark.parametrize(("plural", "spec", "status"), KINDS)
def test_the_spec_model_is_the_crd_spec(
    plural: str, spec: type[BaseModel], status: type[BaseModel]
) -> None:
    assert _aliases(spec) == set(_properties(plural)["spec"]["properties"])


@pytest.mark.parametrize(("plural", "spec", "status"), KINDS)
def test_every_status_field_read_is_in_the_crd(
    plural: str, spec: type[BaseModel], status: type[BaseModel]
) -> None:
    crd = set(_properties(plural)["status"]["properties"])
    assert _aliases(status) - crd == NOT_IN_CRD.get(plural, set())


@pytest.mark.parametrize(("plural", "spec", "status"), KINDS)
def test_every_recorded_intent_fits_the_one_intent_model(
    plural: str, spec: type[BaseModel], status: type[BaseModel]
) -> None:
    status_props = _properties(plural)["status"]["properties"]
    for field in INTENTS:
        if field in status_props:
            assert set(status_props[field]["properties"]) <= _aliases(Intent), (plural, field)
            assert "requestedAt" in status_props[field]["properties"]


def test_the_connection_secret_template_is_the_crds() -> None:
    """spec.connectionSecret.template and status.binding (issue 20) agree with their models:
    the fields, the merge policies and their default."""
    props = _properties("aurainstances")
    secret = props["spec"]["properties"]["connectionSecret"]["properties"]
    assert _aliases(ConnectionSecretSpec) == set(secret)
    template = secret["template"]["properties"]
    assert _aliases(SecretTemplate) == set(template)
    assert template["data"]["additionalProperties"] == {"type": "string"}
    policies = typing.get_args(SecretTemplate.model_fields["merge_policy"].annotation)
    assert set(policies) == set(template["mergePolicy"]["enum"]) == {"Merge", "Replace"}
    assert template["mergePolicy"]["default"] == SecretTemplate().merge_policy == "Merge"
    binding = props["status"]["properties"]["binding"]["properties"]
    assert _aliases(BindingStatus) == set(binding) == {"name"}


def test_the_metrics_and_uptime_models_are_their_crd_fields() -> None:
    props = _properties("aurainstances")
    metrics = props["spec"]["properties"]["metrics"]
    assert _aliases(MetricsSpec) == set(metrics["properties"])
    scrape = metrics["properties"]["scrapeConfig"]["properties"]
    assert _aliases(ScrapeConfigSpec) == set(scrape)
    for name, field in ScrapeConfigSpec.model_fields.items():
        if "default" in scrape[field.alias or name]:
            assert scrape[field.alias or name]["default"] == field.default
    uptime = props["status"]["properties"]["uptime"]["properties"]
    assert _aliases(UptimeStatus) == set(uptime)
