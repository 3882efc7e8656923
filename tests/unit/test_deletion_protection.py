"""Deletion protection (aura_operator.runtime.deletion_protection): the spec value wins over the
operator's default; a protected object is held whatever its deletion policy, with a message
that says how to release it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aura_operator.runtime.deletion_protection import (
    DELETION_PROTECTED,
    Hold,
    Proceed,
    deletion_decision,
    is_protected,
)


@pytest.mark.parametrize(
    ("spec_value", "default", "protected"),
    [(None, False, False), (None, True, True), (True, False, True), (False, True, False),
     (True, True, True), (False, False, False)],
)  # fmt: skip
def test_the_spec_value_wins_over_the_default(
    spec_value: bool | None, default: bool, protected: bool
) -> None:
    assert is_protected(spec_value, default) is protected
    decision = deletion_decision("AuraInstance", spec_value, default, "Delete", "instance 1fa1930f")
    assert isinstance(decision, Hold) is protected


def test_a_protected_instance_with_delete_is_held_and_told_how_to_release() -> None:
    held = deletion_decision("AuraInstance", True, False, "Delete", "instance 1fa1930f")
    assert held == Hold(
        "deletion held: spec.deletionProtection is true; deleting this AuraInstance would delete "
        "instance 1fa1930f in Aura. Set spec.deletionProtection to false to let the deletion "
        "proceed"
    )
    assert held.reason == DELETION_PROTECTED == "DeletionProtected"


def test_retain_is_held_too_and_the_default_is_named_when_it_protects() -> None:
    held = deletion_decision("AuraCustomerManagedKey", None, True, "Retain", "key 8c76")
    assert held == Hold(
        "deletion held: spec.deletionProtection is unset and the operator's default "
        "(AURA_OPERATOR_DEFAULT_DELETION_PROTECTION) is true; deleting this "
        "AuraCustomerManagedKey would release key 8c76 (deletionPolicy Retain). Set "
        "spec.deletionProtection to false to let the deletion proceed"
    )


def test_nothing_in_aura_yet_means_nothing_to_protect() -> None:
    assert deletion_decision("AuraInstance", True, True, "Delete", None) == Proceed()


@pytest.mark.parametrize("crd", ["aurainstances", "auracustomermanagedkeys"])
def test_the_crd_field_has_no_default_so_the_operator_default_applies(crd: str) -> None:
    path = Path(__file__).resolve().parents[2] / "crds" / f"{crd}.aura-operator.dev.yaml"
    (version,) = yaml.safe_load(path.read_text())["spec"]["versions"]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert spec["deletionProtection"]["type"] == "boolean"
    assert "default" not in spec["deletionProtection"]
    column = {c["name"]: c for c in version["additionalPrinterColumns"]}["Protected"]
    assert column["jsonPath"] == ".spec.deletionProtection"
