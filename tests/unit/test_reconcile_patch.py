"""Which PATCH fields a settled instance needs: the spec against what Aura reports."""

from __future__ import annotations

from typing import Any

from aura_operator.aura.models import Instance
from aura_operator.kinds.instance.model import AuraInstance
from aura_operator.kinds.instance.reconcile import _patch_fields


def _obj(**spec: Any) -> AuraInstance:
    return AuraInstance.from_body(
        {"metadata": {"namespace": "prod", "name": "orders", "uid": "u1"}, "spec": spec}
    )


def _instance(name: str = "made-by-hand", memory: str = "2GB") -> Instance:
    return Instance(id="abc123", name=name, status="running", memory=memory)


def test_created_instance_takes_the_derived_default_name() -> None:
    obj = _obj(type="professional-db", cloudProvider="gcp", region="europe-west1", memory="2GB")
    assert _patch_fields(obj, _instance(name="old")) == {"name": "prod-orders"}
    assert _patch_fields(obj, _instance(name="prod-orders")) == {}


def test_adopted_instance_keeps_its_own_name_without_spec_name() -> None:
    assert _patch_fields(_obj(instanceId="abc123"), _instance()) == {}


def test_adopted_instance_is_renamed_when_spec_name_asks() -> None:
    obj = _obj(instanceId="abc123", name="orders-prod")
    assert _patch_fields(obj, _instance()) == {"name": "orders-prod"}


def test_adopted_instance_is_resized_to_spec_memory() -> None:
    obj = _obj(instanceId="abc123", memory="4GB")
    assert _patch_fields(obj, _instance()) == {"memory": "4GB"}
