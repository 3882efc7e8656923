"""Plans describe the request the operator would send, never a password, and can be checked."""

from __future__ import annotations

import json

import pytest

from aura_operator.runtime.plan import (
    EVENT_LIMIT,
    PlannedRequest,
    describe,
    differences,
    fingerprint,
    from_record,
    is_secret,
    matches,
    plan_request,
    summary,
    to_record,
)

CREATE_BODY = {
    "name": "orders",
    "version": "5",
    "region": "europe-west1",
    "memory": "8GB",
    "type": "enterprise-db",
    "tenant_id": "6981ace7",
    "cloud_provider": "gcp",
}
AURA_NOW = {
    "id": "abc123",
    "name": "orders",
    "memory": "2GB",
    "storage": "4GB",
    "status": "running",
}


def test_a_change_shows_the_fields_that_change_with_before_and_after() -> None:
    plan = plan_request("patch", "/v1/instances/abc123", {"memory": "4GB"}, AURA_NOW)
    assert describe(plan) == "would PATCH /v1/instances/abc123: memory 2GB → 4GB"


def test_fields_sent_unchanged_are_not_listed_but_are_part_of_the_plan() -> None:
    body = {"name": "orders", "memory": "4GB", "storage": "8GB"}
    plan = plan_request("PATCH", "/v1/instances/abc123", body, AURA_NOW)
    assert describe(plan) == "would PATCH /v1/instances/abc123: memory 2GB → 4GB, storage 4GB → 8GB"
    assert plan.body == body
    assert not matches(plan, "PATCH", "/v1/instances/abc123", {"memory": "4GB", "storage": "8GB"})


def test_a_field_not_set_before_is_shown_as_new() -> None:
    plan = plan_request("PATCH", "/v1/instances/abc123", {"cdc_enrichment_mode": "DIFF"}, AURA_NOW)
    assert describe(plan) == "would PATCH /v1/instances/abc123: cdc_enrichment_mode=DIFF"


def test_a_create_shows_the_spec_it_would_create_sorted() -> None:
    plan = plan_request("POST", "/v1/instances", CREATE_BODY)
    assert describe(plan) == (
        "would POST /v1/instances: cloud_provider=gcp, memory=8GB, name=orders, "
        "region=europe-west1, tenant_id=6981ace7, type=enterprise-db, version=5"
    )


def test_an_action_without_a_body_is_just_method_and_path() -> None:
    assert describe(plan_request("post", "/v1/instances/abc123/pause")) == (
        "would POST /v1/instances/abc123/pause"
    )


def test_values_other_than_strings_are_shown_as_json() -> None:
    current = {"vector_optimized": False, "secondaries_count": 1}
    body = {"vector_optimized": True, "secondaries_count": 2, "name": "", "tags": ["a", "b"]}
    plan = plan_request("PATCH", "/p", body, current)
    assert describe(plan) == (
        'would PATCH /p: name="", secondaries_count 1 → 2, tags=["a","b"], '
        "vector_optimized false → true"
    )


@pytest.mark.parametrize(
    "name",
    ["password", "new_password", "client_secret", "token", "access_token", "private_key",
     "apiKey", "auth.password", "credentials", "passwd"],
)  # fmt: skip
def test_password_like_fields_are_recognised(name: str) -> None:
    assert is_secret(name)


@pytest.mark.parametrize(
    "name",
    ["name", "secondaries_count", "customer_managed_key_id", "memory", "tenant_id", "bypass_x"],
)
def test_ordinary_fields_are_not_taken_for_secrets(name: str) -> None:
    assert not is_secret(name)


def test_a_password_never_enters_the_plan_its_description_or_its_record() -> None:
    body = {"name": "x", "password": "hunter2", "auth": {"client_secret": "s3cr3t", "id": "c"}}
    plan = plan_request("POST", "/v1/things", body)
    everything = repr(plan) + describe(plan) + json.dumps(to_record(plan)) + summary([plan])
    assert "hunter2" not in everything
    assert "s3cr3t" not in everything
    assert plan.hidden == ("auth.client_secret", "password")
    assert describe(plan) == (
        "would POST /v1/things: auth.id=c, name=x, auth.client_secret=(hidden), password=(hidden)"
    )


def test_the_request_about_to_be_sent_is_checked_against_the_recorded_plan() -> None:
    plan = plan_request("PATCH", "/v1/instances/abc123", {"memory": "4GB"}, AURA_NOW)
    recorded = from_record(json.loads(json.dumps(to_record(plan))))
    assert matches(recorded, "PATCH", "/v1/instances/abc123", {"memory": "4GB"})
    assert differences(recorded, "patch", "/v1/instances/abc123", {"memory": "4GB"}) == []
    assert differences(recorded, "PATCH", "/v1/instances/abc123", {"memory": "8GB"}) == [
        "memory: planned 4GB, about to send 8GB"
    ]
    assert differences(recorded, "POST", "/v1/instances/abc124", {}) == [
        "method: planned PATCH, about to send POST",
        "path: planned /v1/instances/abc123, about to send /v1/instances/abc124",
        "memory: planned 4GB, not about to be sent",
    ]
    assert differences(
        recorded, "PATCH", "/v1/instances/abc123", {"memory": "4GB", "storage": "8GB"}
    ) == ["storage: about to send 8GB, not in the plan"]


def test_a_hidden_field_is_compared_by_presence_only() -> None:
    plan = plan_request("POST", "/v1/things", {"name": "x", "password": "a"})
    assert matches(plan, "POST", "/v1/things", {"name": "x", "password": "b"})
    assert differences(plan, "POST", "/v1/things", {"name": "x"}) == [
        "password: (hidden) only in the plan"
    ]


def test_the_fingerprint_is_stable_and_changes_with_what_is_sent() -> None:
    a = plan_request("POST", "/v1/instances", CREATE_BODY)
    b = plan_request("POST", "/v1/instances", dict(reversed(list(CREATE_BODY.items()))))
    c = plan_request("POST", "/v1/instances", {**CREATE_BODY, "memory": "16GB"})
    assert fingerprint(a) == fingerprint(b) == to_record(a)["fingerprint"]
    assert fingerprint(a) != fingerprint(c)
    assert len(fingerprint(a)) == 16
    assert fingerprint(from_record(to_record(a))) == fingerprint(a)


def test_the_summary_fits_an_event_and_says_how_many_were_left_out() -> None:
    assert summary([]) == "no request would be sent: Aura matches the spec"
    one = plan_request("PATCH", "/v1/instances/abc123", {"memory": "4GB"}, AURA_NOW)
    assert summary([one]) == describe(one)
    many = [plan_request("POST", f"/v1/instances/{i:040d}/pause") for i in range(40)]
    text = summary(many)
    assert len(text) <= EVENT_LIMIT
    assert text.startswith(describe(many[0]) + "; ")
    left = 40 - text.count("would POST")
    assert text.endswith(f" … and {left} more requests")
    huge = PlannedRequest("POST", "/" + "x" * 2000)
    assert len(summary([huge])) == EVENT_LIMIT
