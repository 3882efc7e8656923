"""The API's bodies parse leniently, and the password never shows in a repr."""

from __future__ import annotations

import pytest

from aura_operator.aura.models import CreatedInstance, Instance, TokenResponse


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
    assert not instance.is_settled
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
    assert (instance.is_transient, instance.is_settled) == (transient, settled)


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
