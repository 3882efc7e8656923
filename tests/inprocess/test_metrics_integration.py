"""Aura's metrics of an instance, wired to a Prometheus Operator: status.metricsIntegrationUrl,
the ScrapeConfig the operator owns (applied once, kept, deleted when no longer asked for), the
condition when its CRD is missing or the type has no metrics, the chart-wide default, and the
project's endpoint on the AuraCredential.

The fake API server knows the ScrapeConfig kind only when a test installs it
(`h.kube.installed`), as a real one knows it only with the Prometheus Operator's CRDs.
"""

from __future__ import annotations

from aura_operator.kinds.credential.registration import CREDENTIAL
from aura_operator.kinds.instance.scrape_config import API_VERSION, PLURAL
from aura_simulator import DEMO_TENANT_ID
from tests.inprocess.harness import NS, SPEC, Harness, add_credential, harness

BUSINESS_CRITICAL = {**SPEC, "type": "business-critical"}
SCRAPE = {"scrapeConfig": {"secretName": "aura-metrics-reader", "labels": {"release": "prom"}}}


def applies(h: Harness) -> int:
    return len(h.kube.writes_of("apply_foreign_object"))


async def test_an_eligible_instance_gets_a_scrape_config_it_owns(h: Harness) -> None:
    h.kube.installed.add(API_VERSION)
    uid = h.apply("orders", BUSINESS_CRITICAL, metrics=SCRAPE)
    ready = await h.settle("orders")
    instance_id = ready.status["instanceId"]
    url = f"https://customer-metrics-api.neo4j.io/api/v1/{DEMO_TENANT_ID}/{instance_id}/metrics"
    assert ready.status["metricsIntegrationUrl"] == url
    condition = ready.condition("MetricsScrapeConfig")
    assert (condition["status"], condition["reason"]) == ("True", "Applied")

    scrape = h.kube.foreign(API_VERSION, PLURAL, NS, "orders")
    assert scrape["metadata"]["ownerReferences"][0]["uid"] == uid
    assert scrape["metadata"]["labels"]["release"] == "prom"
    assert scrape["spec"]["scheme"] == "HTTPS"
    assert scrape["spec"]["metricsPath"] == f"/api/v1/{DEMO_TENANT_ID}/{instance_id}/metrics"
    assert scrape["spec"]["staticConfigs"][0]["targets"] == ["customer-metrics-api.neo4j.io"]
    assert scrape["spec"]["oauth2"] == {
        "clientId": {"secret": {"name": "aura-metrics-reader", "key": "AURA_CLIENT_ID"}},
        "clientSecret": {"name": "aura-metrics-reader", "key": "AURA_CLIENT_SECRET"},
        "tokenUrl": h.settings.token_url,
    }
    # The Metrics Reader's Secret is only named: the operator never reads it.
    assert h.kube.secret(NS, "aura-metrics-reader") is None

    written = applies(h)
    again = await h.run_pass("orders", background=True)
    assert applies(h) == written  # unchanged: not written again
    assert again.condition("MetricsScrapeConfig")["reason"] == "Applied"

    h.kube.edit_object("aurainstances", NS, "orders", spec={"metrics": None})
    off = await h.run_pass("orders")
    assert off.condition("MetricsScrapeConfig")["reason"] == "Disabled"
    assert h.kube.writes_of("delete_foreign_object")[0].name == "orders"


async def test_without_the_crd_a_condition_says_so_and_nothing_else_fails(h: Harness) -> None:
    h.apply("orders", BUSINESS_CRITICAL, metrics=SCRAPE)
    ready = await h.settle("orders")  # Ready and Synced all the same
    condition = ready.condition("MetricsScrapeConfig")
    assert (condition["status"], condition["reason"]) == ("False", "CRDNotInstalled")
    assert "monitoring.coreos.com/v1alpha1" in condition["message"]


async def test_a_type_without_metrics_is_not_eligible(h: Harness) -> None:
    h.kube.installed.add(API_VERSION)
    h.apply("orders", SPEC, metrics=SCRAPE)
    ready = await h.settle("orders")
    condition = ready.condition("MetricsScrapeConfig")
    assert (condition["status"], condition["reason"]) == ("False", "NotEligible")
    assert "professional-db" in condition["message"]
    assert "metricsIntegrationUrl" not in ready.status
    assert applies(h) == 0


async def test_a_scrape_config_without_a_secret_is_invalid() -> None:
    async with harness() as h:
        h.kube.installed.add(API_VERSION)
        h.apply("orders", BUSINESS_CRITICAL, metrics={"scrapeConfig": {}})
        ready = await h.settle("orders")
        condition = ready.condition("MetricsScrapeConfig")
        assert (condition["status"], condition["reason"]) == ("False", "InvalidSpec")
        assert condition["message"].startswith("spec.metrics.scrapeConfig.secretName:")


async def test_the_chart_wide_default_and_an_instance_that_opts_out() -> None:
    async with harness(scrape_config_secret="metrics-reader") as h:
        h.kube.installed.add(API_VERSION)
        h.apply("orders", BUSINESS_CRITICAL)
        h.apply("billing", BUSINESS_CRITICAL, metrics={"scrapeConfig": {"enabled": False}})
        await h.settle("orders")
        billing = await h.settle("billing")
        scrape = h.kube.foreign(API_VERSION, PLURAL, NS, "orders")
        assert scrape["spec"]["oauth2"]["clientSecret"]["name"] == "metrics-reader"
        assert "MetricsScrapeConfig" not in str(billing.status["conditions"])
        assert [w.name for w in h.kube.writes_of("apply_foreign_object")] == ["orders"]


async def test_the_credential_shows_the_projects_metrics_endpoint(h: Harness) -> None:
    add_credential(h)
    before = await h.pass_of(CREDENTIAL, "team-a", namespace="")
    assert "metricsIntegrationEndpoint" not in before.status["tenants"][0]  # nothing eligible

    h.apply("orders", BUSINESS_CRITICAL)
    await h.settle("orders")
    h.ctx.credentials.memory.tenant_reads.clear()  # the cached tenant list has expired
    after = await h.pass_of(CREDENTIAL, "team-a", namespace="")
    endpoint = f"https://customer-metrics-api.neo4j.io/api/v1/{DEMO_TENANT_ID}/metrics"
    assert after.status["tenants"][0]["metricsIntegrationEndpoint"] == endpoint
