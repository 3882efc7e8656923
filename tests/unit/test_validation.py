"""A spec is checked against the tenant's instance configurations before any create."""

from __future__ import annotations

import pytest

from aura_operator.aura.models import Instance, InstanceConfiguration
from aura_operator.kinds.instance.model import AuraInstanceSpec
from aura_operator.kinds.instance.validation import (
    check_configuration,
    check_fixed_fields,
    check_required,
    check_resize,
    check_template,
    check_tier_rules,
)


def cfg(
    type_: str, cloud: str, region: str, memory: str, storage: str, version: str = "5"
) -> InstanceConfiguration:
    return InstanceConfiguration(
        type=type_,
        cloud_provider=cloud,
        region=region,
        memory=memory,
        storage=storage,
        version=version,
    )


CONFIGS = [
    cfg("professional-db", "gcp", "europe-west1", "2GB", "4GB"),
    cfg("professional-db", "gcp", "europe-west1", "8GB", "16GB"),
    cfg("professional-db", "gcp", "us-central1", "4GB", "8GB"),
    cfg("professional-db", "aws", "eu-west-1", "16GB", "32GB"),
    cfg("enterprise-db", "gcp", "europe-west1", "16GB", "32GB"),
]


def spec(**kw: object) -> AuraInstanceSpec:
    base: dict[str, object] = {
        "type": "professional-db",
        "cloudProvider": "gcp",
        "region": "europe-west1",
        "memory": "8GB",
    }
    base.update(kw)
    return AuraInstanceSpec.model_validate(base)


def test_offered_combination_passes() -> None:
    assert check_configuration(spec(), CONFIGS, "t1") is None
    assert check_configuration(spec(storage="16GB"), CONFIGS, "t1") is None


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"type": "business-critical"}, "spec.type", "enterprise-db, professional-db"),
        ({"cloudProvider": "azure"}, "spec.cloudProvider", "aws, gcp"),
        ({"region": "mars-1"}, "spec.region", "europe-west1, us-central1"),
        ({"memory": "4GB"}, "spec.memory", "2GB, 8GB"),
        ({"version": "4"}, "spec.version", "5"),
        ({"storage": "64GB"}, "spec.storage", "16GB"),
    ],
)
def test_first_field_not_offered_is_named_with_allowed_values(
    changes: dict[str, str], field: str, allowed: str
) -> None:
    problem = check_configuration(spec(**changes), CONFIGS, "t1")
    assert problem is not None
    assert problem.field == field
    assert f"allowed: {allowed}" in problem.message
    assert "tenant t1" in problem.message


def test_memory_is_checked_for_the_chosen_type_cloud_and_region() -> None:
    problem = check_configuration(spec(region="us-central1", memory="8GB"), CONFIGS, "t1")
    assert problem is not None
    assert problem.message.endswith("allowed: 4GB")
    assert "region us-central1" in problem.message


def test_empty_configurations() -> None:
    problem = check_configuration(spec(), [], "t1")
    assert problem is not None
    assert problem.field == "spec.tenantId"


@pytest.mark.parametrize("missing", ["type", "cloudProvider", "region", "memory"])
def test_required_fields_unless_adopting(missing: str) -> None:
    data = {
        "type": "professional-db",
        "cloudProvider": "gcp",
        "region": "europe-west1",
        "memory": "8GB",
    }
    del data[missing]
    problem = check_required(AuraInstanceSpec.model_validate(data))
    assert problem is not None
    assert problem.field == f"spec.{missing}"
    assert (
        check_required(AuraInstanceSpec.model_validate({**data, "instanceId": "db1d1234"})) is None
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"graphAnalyticsPlugin": True, "type": "enterprise-db"}, "spec.graphAnalyticsPlugin"),
        ({"vectorOptimized": True, "memory": "2GB"}, "spec.vectorOptimized"),
        ({"type": "free-db", "paused": True}, "spec.paused"),
    ],
)
def test_tier_rules(changes: dict[str, object], field: str) -> None:
    problem = check_tier_rules(spec(**changes))
    assert problem is not None
    assert problem.field == field
    assert check_tier_rules(spec()) is None


def test_resize_must_be_offered_where_the_instance_lives() -> None:
    observed = Instance(
        id="db1d1234",
        type="professional-db",
        cloud_provider="gcp",
        region="europe-west1",
        memory="8GB",
    )
    assert check_resize(spec(memory="2GB"), CONFIGS, observed) is None
    problem = check_resize(spec(memory="16GB"), CONFIGS, observed)
    assert problem is not None
    assert "allowed: 2GB, 8GB" in problem.message


def test_fixed_fields_are_checked_against_the_instance() -> None:
    observed = Instance(
        id="db1d1234", type="professional-db", cloud_provider="gcp", region="europe-west1"
    )
    assert check_fixed_fields(spec(), observed) is None
    problem = check_fixed_fields(spec(region="us-central1"), observed)
    assert problem is not None
    assert problem.field == "spec.region"
    assert "allowed: europe-west1" in problem.message


def test_a_template_problem_names_every_key_at_fault_and_the_allowed_placeholders() -> None:
    spec = AuraInstanceSpec.model_validate(
        {"connectionSecret": {"template": {"data": {"B": "{{ .url }}", "A": "{{ .uri"}}}}
    )
    problem = check_template(spec)
    assert problem is not None
    assert problem.field == "spec.connectionSecret.template.data[A]"
    assert "data[A]: malformed template" in problem.message
    assert "data[B]: unknown placeholder .url; allowed: .uri, .host" in problem.message
    assert check_template(AuraInstanceSpec()) is None
    fine = {"connectionSecret": {"template": {"data": {"U": "{{ .uri }}"}}}}
    assert check_template(AuraInstanceSpec.model_validate(fine)) is None
