"""spec.metrics.scrapeConfig on a real API server: with the Prometheus Operator's ScrapeConfig CRD
installed (vendored in tests/e2e/vendor/, its source noted there), the operator applies a
ScrapeConfig it owns under the chart's RBAC, and the garbage collector deletes it with the
AuraInstance; without the CRD the instance is Ready all the same and a condition says why.

The CRD is cluster-wide: the test that installs it deletes it again, and the test that needs it
absent makes sure it is.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.harness.aura_env import BASE_SPEC, AuraEnv, condition, settled
from tests.harness.controlplane import install_crds

pytestmark = pytest.mark.e2e

CRD_FILE = Path(__file__).parent / "vendor" / "scrapeconfigs.monitoring.coreos.com.yaml"
CRD_NAME = "scrapeconfigs.monitoring.coreos.com"
GROUP, VERSION, PLURAL = "monitoring.coreos.com", "v1alpha1", "scrapeconfigs"
SPEC = {
    **BASE_SPEC,
    "type": "business-critical",
    "metrics": {"scrapeConfig": {"secretName": "metrics-reader", "labels": {"release": "prom"}}},
}


def _crd_gone(api: client.ApiClient) -> bool:
    try:
        client.ApiextensionsV1Api(api).read_custom_resource_definition(CRD_NAME)
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False


def _delete_crd(api: client.ApiClient) -> None:
    with contextlib.suppress(ApiException):
        client.ApiextensionsV1Api(api).delete_custom_resource_definition(CRD_NAME)
    deadline = time.monotonic() + 60
    while not _crd_gone(api):
        assert time.monotonic() < deadline, f"CRD {CRD_NAME} was not deleted"
        time.sleep(0.2)


@pytest.fixture
def scrape_config_crd(admin_api: client.ApiClient) -> Iterator[None]:
    install_crds(admin_api, [yaml.safe_load(CRD_FILE.read_text())])
    yield
    _delete_crd(admin_api)


def scrape_config(env: AuraEnv, name: str) -> dict[str, Any] | None:
    try:
        found = env.objects.get_namespaced_custom_object(
            GROUP, VERSION, env.namespace, PLURAL, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return cast(dict[str, Any], found)


def metrics_reason(obj: dict[str, Any]) -> str | None:
    reason: str | None = condition(obj, "MetricsScrapeConfig").get("reason")
    return reason


def test_the_operator_owns_a_scrape_config_of_an_eligible_instance(
    aura_env: AuraEnv, scrape_config_crd: None
) -> None:
    aura_env.run_operator()
    aura_env.apply("orders", SPEC)
    obj = aura_env.wait_for(
        "orders",
        lambda o: settled(o) and metrics_reason(o) == "Applied",
        what="MetricsScrapeConfig=True Applied",
        timeout=60,
    )
    url = obj["status"]["metricsIntegrationUrl"]
    assert url.startswith("https://customer-metrics-api.neo4j.io/api/v1/")
    applied = scrape_config(aura_env, "orders")
    assert applied is not None
    owner = applied["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"]) == ("AuraInstance", obj["metadata"]["uid"])
    assert applied["metadata"]["labels"]["release"] == "prom"
    spec = applied["spec"]
    assert spec["scheme"] == "HTTPS"
    assert spec["metricsPath"] == url.removeprefix("https://customer-metrics-api.neo4j.io")
    assert spec["staticConfigs"][0]["targets"] == ["customer-metrics-api.neo4j.io"]
    assert spec["oauth2"]["clientSecret"] == {"name": "metrics-reader", "key": "AURA_CLIENT_SECRET"}
    assert spec["oauth2"]["tokenUrl"] == f"{aura_env.simulator.base_url}/oauth/token"
    # The operator never needed the Metrics Reader's Secret: it does not exist.
    assert aura_env.secret("metrics-reader") is None

    aura_env.delete("orders")
    aura_env.wait_gone("orders", timeout=60)
    aura_env.wait_until(
        lambda: scrape_config(aura_env, "orders") is None,
        what="the garbage collector to delete the ScrapeConfig",
        timeout=60,
    )


def test_without_the_crd_the_instance_is_ready_and_a_condition_says_why(
    aura_env: AuraEnv, admin_api: client.ApiClient
) -> None:
    _delete_crd(admin_api)
    aura_env.run_operator()
    aura_env.apply("orders", SPEC)
    obj = aura_env.wait_for(
        "orders",
        lambda o: settled(o) and metrics_reason(o) == "CRDNotInstalled",
        what="MetricsScrapeConfig=False CRDNotInstalled",
        timeout=60,
    )
    found = condition(obj, "MetricsScrapeConfig")
    assert found["status"] == "False"
    assert "monitoring.coreos.com/v1alpha1" in found["message"]
