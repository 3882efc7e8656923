"""The API's bodies parse leniently, and the password never shows in a repr."""

from __future__ import annotations

import pytest

from aura_operator.aura.models import SETTLED_STATUSES, CreatedInstance, Instance, TokenResponse


@pytest.mark.parametrize(
    ("raw", "parsed"), [(1200, 1200), ("1200", 1200), ("", None), (None, None)]
)
def test_graph_counts_accept_numbers_and_strings(raw: object, parsed: int | None) -> None:
    instance = Instance.model_validate({"id": "a1b2c3d4", "graph_nodes": raw})
    assert instance.graph_nodes == parsed


def test_unknown_status_and_fields_are_kept() -> None:
    instance = Instance.model_validate(
        {"id": "a1b2c3d4", "status": "Hibernating", "shiny_new_field": {"x": 1}}
    )
    assert instance.status == "hibernating"
    assert not instance.is_transient
    assert instance.status not in SETTLED_STATUSES
    assert instance.model_extra == {"shiny_new_field": {"x": 1}}


@pytest.mark.parametrize(
    ("status", "transient", "settled"),
    [
        ("creating", True, False),
        ("updating", True, False),
        ("destroying", True, False),
        ("running", False, True),
        ("paused", False, True),
        ("loading failed", False, True),
    ],
)
def test_status_classes(status: str, transient: bool, settled: bool) -> None:
    instance = Instance.model_validate({"id": "a1b2c3d4", "status": status})
    assert (instance.is_transient, instance.status in SETTLED_STATUSES) == (transient, settled)


def test_password_and_token_are_secret_in_repr() -> None:
    created = CreatedInstance.model_validate(
        {
            "id": "db1d1234",
            "connection_url": "neo4j+s://db1d1234.databases.neo4j.io",
            "username": "neo4j",
            "password": "s3cr3t-pa55word",
            "tenant_id": "t",
            "cloud_provider": "gcp",
            "region": "europe-west1",
            "type": "enterprise-db",
            "name": "Instance01",
            "created_at": "2023-01-20T13:44:42Z",
        }
    )
    assert "s3cr3t-pa55word" not in repr(created)
    assert "s3cr3t-pa55word" not in str(created)
    assert "s3cr3t-pa55word" not in created.model_dump_json()
    assert created.password.get_secret_value() == "s3cr3t-pa55word"
    token = TokenResponse.model_validate({"access_token": "tok-123", "expires_in": 3600})
    assert "tok-123" not in repr(token)


def test_an_unreadable_create_response_still_yields_id_and_password() -> None:
    salvaged = CreatedInstance.salvage(
        {"id": "0d6065b0", "password": "s3cret", "created_at": "not a date", "region": 7}
    )
    assert salvaged is not None
    assert (salvaged.id, salvaged.password.get_secret_value()) == ("0d6065b0", "s3cret")
    assert salvaged.region == ""
    assert "s3cret" not in repr(salvaged)


@pytest.mark.parametrize("body", [None, [], {"id": "0d6065b0"}, {"password": "x"}, {"id": 7}])
def test_nothing_is_salvaged_without_id_and_password(body: object) -> None:
    assert CreatedInstance.salvage(body) is None
