"""The Service Binding Secret holds the specification's well-known entries and nothing .env-like."""

from __future__ import annotations

import base64
import re

from pydantic import SecretStr

from aura_operator.kinds.instance.connection_values import ConnectionValues
from aura_operator.kinds.instance.service_binding import (
    SECRET_TYPE,
    complete,
    entries,
    secret,
    secret_name,
    status,
)

VALUES = ConnectionValues(
    uri="neo4j+s://db1d1234.databases.neo4j.io",
    instance_id="db1d1234",
    instance_name="orders",
    password=SecretStr("s3cr3t"),
    tenant_id="t",
    cloud_provider="gcp",
    region="europe-west1",
)
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def test_the_entries_are_the_well_known_ones_with_type_neo4j() -> None:
    assert entries(VALUES) == {
        "type": "neo4j",
        "provider": "neo4j-aura",
        "uri": "neo4j+s://db1d1234.databases.neo4j.io",
        "host": "db1d1234.databases.neo4j.io",
        "username": "neo4j",
        "password": "s3cr3t",
        "database": "neo4j",
    }
    assert complete(entries(VALUES))


def test_no_key_could_become_an_environment_variable_of_the_env_style_secret() -> None:
    assert all(key == key.lower() and not key.startswith("NEO4J_") for key in entries(VALUES))


def test_a_port_is_written_only_when_the_uri_names_one() -> None:
    local = ConnectionValues(uri="neo4j://localhost:7687", instance_id="i", instance_name="n")
    assert entries(local)["port"] == "7687"
    assert entries(local)["host"] == "localhost"
    assert "port" not in entries(VALUES)


def test_without_the_password_the_entries_are_incomplete() -> None:
    unknown = ConnectionValues(uri=VALUES.uri, instance_id="i", instance_name="n")
    data = entries(unknown)
    assert "password" not in data
    assert not complete(data)


def test_the_secret_is_typed_for_field_selectors_and_owned_by_the_instance() -> None:
    owner = {"apiVersion": "aura-operator.dev/v1alpha1", "kind": "AuraInstance", "uid": "u1"}
    body = secret("orders-binding", "team-a", entries(VALUES), labels={"a": "b"},
                  owner_reference=owner)  # fmt: skip
    assert body["type"] == SECRET_TYPE == "servicebinding.io/neo4j"
    assert body["metadata"]["name"] == "orders-binding"
    assert body["metadata"]["namespace"] == "team-a"
    assert body["metadata"]["ownerReferences"] == [owner]
    decoded = {k: base64.b64decode(v).decode() for k, v in body["data"].items()}
    assert decoded == entries(VALUES)


def test_the_status_names_the_secret() -> None:
    assert status("orders-binding") == {"binding": {"name": "orders-binding"}}


def test_the_name_is_the_object_name_with_a_suffix() -> None:
    assert secret_name("orders") == "orders-binding"


def test_a_long_name_is_cut_to_a_valid_unique_secret_name() -> None:
    long_a, long_b = "a" * 250, "a" * 249 + "b"
    name_a, name_b = secret_name(long_a), secret_name(long_b)
    for name in (name_a, name_b):
        assert len(name) <= 253
        assert name.endswith("-binding")
        assert DNS_SUBDOMAIN.fullmatch(name)
    assert name_a != name_b
    assert secret_name("x" * 245) == "x" * 245 + "-binding"
