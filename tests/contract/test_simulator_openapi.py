"""The OpenAPI check that every simulator test runs at teardown is not vacuous: it rejects
bodies that break the document, and accepts exactly the documented deviations."""

from __future__ import annotations

from typing import Any

from tests.contract.openapi_check import problems

INSTANCE: dict[str, Any] = {
    "id": "2f49c2b3",
    "name": "Production",
    "status": "running",
    "tenant_id": "t",
    "cloud_provider": "gcp",
    "connection_url": "neo4j+s://2f49c2b3.databases.neo4j.io",
    "region": "europe-west1",
    "type": "enterprise-db",
    "memory": "8GB",
    "storage": "16GB",
    "created_at": "2023-01-20T13:44:42Z",
}


def test_a_valid_instance_passes() -> None:
    assert problems("GET", "/v1/instances/2f49c2b3", 200, {"data": INSTANCE}) == []


def test_broken_bodies_are_caught() -> None:
    missing = {k: v for k, v in INSTANCE.items() if k != "status"}
    assert problems("GET", "/v1/instances/x", 200, {"data": missing})
    assert problems("GET", "/v1/instances/x", 200, {"data": {**INSTANCE, "status": "Running"}})
    assert problems("GET", "/v1/instances/x", 200, INSTANCE)  # not wrapped in `data`
    assert problems("GET", "/v1/instances/x", 404, {"errors": [{"message": "m"}]})  # no reason
    assert problems("GET", "/v1/instances/x", 404, {"oops": True})
    summary = {"id": "x", "name": "n", "tenant_id": "t", "cloud_provider": "ibm", "created_at": ""}
    assert problems("GET", "/v1/instances", 200, {"data": [summary]})


def test_undocumented_statuses_and_operations_are_caught() -> None:
    error = {"errors": [{"message": "m", "reason": "r"}]}
    assert problems("GET", "/v1/instances/x", 418, error)
    assert problems("POST", "/v1/instances", 404, error)  # create documents no 404
    assert problems("PUT", "/v1/instances/x", 200, {"data": INSTANCE})


def test_documented_deviations_are_accepted() -> None:
    free = {k: v for k, v in INSTANCE.items() if k != "storage"}
    free.update(type="free-db", graph_nodes=12, graph_relationships=3)
    assert problems("GET", "/v1/instances/x", 200, {"data": free}) == []
    cdc = {**INSTANCE, "cdc_enrichment_mode": "OFF"}  # YAML 1.1 would read OFF as false
    assert problems("GET", "/v1/instances/x", 200, {"data": cdc}) == []
    gateway = {"error": "API rate limit exceeded"}
    assert problems("GET", "/v1/instances", 429, gateway) == []
    assert problems("PATCH", "/v1/instances/x", 202, {}) == []


SESSION: dict[str, Any] = {
    "id": "559c94c7-15de43fg",
    "name": "people-and-fruit-with-db",
    "memory": "4GB",
    "instance_id": "559c94c7",
    "status": "Ready",
    "host": "559c94c7-15de43fg.orchestra.neo4j.io",
    "user_id": "u",
    "tenant_id": "t",
    "ttl": "8m",
}


def test_session_bodies_are_checked_where_the_examples_put_them() -> None:
    path = "/v1/graph-analytics/sessions"
    for status in (200, 202):
        assert problems("POST", path, status, {"data": SESSION}) == []
    assert problems("GET", f"{path}/x", 200, {"data": SESSION}) == []
    assert problems("GET", path, 200, {"data": [SESSION]}) == []
    # The document's own schema nests `data` twice and would pass anything; the patched one
    # does not.
    missing = {k: v for k, v in SESSION.items() if k != "host"}
    assert problems("GET", f"{path}/x", 200, {"data": missing})
    assert problems("GET", path, 200, {"data": [{**SESSION, "status": "Running"}]})
    assert problems("POST", path, 202, {"data": {**SESSION, "ttl": ["8m"]}})
    assert problems("GET", f"{path}/x", 200, {"data": {**SESSION, "ttl": 480}}) == []


def test_session_statuses_outside_the_document_are_caught() -> None:
    error = {"errors": [{"message": "m", "reason": ""}]}
    path = "/v1/graph-analytics/sessions"
    assert problems("POST", path, 409, error) == []
    assert problems("POST", path, 415, error) == []  # docs/aura-api.md §1, listed as undocumented
    assert problems("POST", path, 404, error)
    assert problems("DELETE", f"{path}/x", 404, error) == []
    assert problems("DELETE", f"{path}/x", 409, error)
