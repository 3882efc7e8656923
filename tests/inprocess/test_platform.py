"""Issue 13 in process: AuraCredential resolution and status, AuraCustomerManagedKey passes and
finalizer, and an AuraInstance that waits for its key (fake Kubernetes, real simulator)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aura_operator.kinds.credential.registration import credential_status
from aura_operator.kinds.customer_key.model import KIND as KEY_KIND
from aura_operator.kinds.customer_key.model import PLURAL as KEYS
from aura_operator.kinds.customer_key.registration import CUSTOMER_KEY
from aura_operator.runtime.credential_usage import User
from aura_simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID
from aura_simulator.gateway import RequestRecord
from tests.inprocess.harness import NS, Harness, add_credential, condition, harness

CREDENTIALS = "auracredentials"
ENTERPRISE = {
    "type": "enterprise-db",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "memory": "2GB",
}
KEY_SPEC = {
    "keyId": "arn:aws:kms:eu:1:key/1",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "instanceType": "enterprise-db",
    "deletionPolicy": "Delete",
}


async def test_a_namespace_the_credential_does_not_allow_sends_nothing(h: Harness) -> None:
    add_credential(h, allowedNamespaces={"matchLabels": {"team": "a"}})
    h.apply("orders", ENTERPRISE, credentialRef={"name": "team-a"})
    result = await h.run_pass("orders")
    synced = result.condition("Synced")
    assert synced["reason"] == "CredentialsInvalid"
    assert "AuraCredential team-a" in synced["message"] and f"namespace {NS}" in synced["message"]
    assert "team=a" in synced["message"]
    assert h.requests() == [] and not result.status.get("creation")


async def test_an_allowed_namespace_uses_the_credential_its_budget_and_default_tenant(
    h: Harness,
) -> None:
    add_credential(h, allowedNamespaces={}, defaultTenantId=DEMO_TENANT_ID)
    h.apply("orders", ENTERPRISE, credentialRef={"name": "team-a"})
    result = await h.run_pass("orders")
    assert result.status["instanceId"]
    assert h.ctx.rate(DEMO_CLIENT_ID) == 40
    (post,) = h.posts()
    assert post.client_id == DEMO_CLIENT_ID
    # defaultTenantId was used: the tenant list was never needed.
    assert h.requests("GET", "/v1/tenants") == []


async def test_the_credential_status_shows_its_budget_and_users(h: Harness) -> None:
    add_credential(h, allowedNamespaces={})
    h.ctx.credentials.users.note("uid-x", "team-a", User("AuraInstance", NS, "orders"))
    body = h.kube.object(CREDENTIALS, "", "team-a")
    status = await credential_status(h.ctx, body)
    assert condition({"status": status}, "Ready")["status"] == "True"
    assert status["tenantIds"] == DEMO_TENANT_ID
    assert status["requestsPerMinute"] == 40
    assert status["requests"]["lastMinute"] >= 1 and status["throttled"]["lastMinute"] == 0
    assert status["usedBy"] == 1 and status["users"] == [f"AuraInstance {NS}/orders"]
    assert status["driftInterval"]
    assert DEMO_CLIENT_SECRET not in str(status)


async def _key_pass(h: Harness, name: str = "orders-key") -> dict[str, Any]:
    return (await h.pass_of(CUSTOMER_KEY, name)).obj


async def test_a_key_is_created_once_and_an_instance_waits_for_it(h: Harness) -> None:
    h.kube.add_object(KEYS, KEY_KIND, NS, "orders-key", KEY_SPEC)
    h.apply("orders", ENTERPRISE, customerManagedKeyRef={"name": "orders-key"})
    waiting = await h.run_pass("orders")
    assert "waiting for AuraCustomerManagedKey orders-key" in waiting.condition("Synced")["message"]
    assert h.posts() == []

    key = await _key_pass(h)
    key_id = key["status"]["customerManagedKeyId"]
    assert key["status"]["creation"]["name"] == "team-a-orders-key"  # the intent, first
    first = next(w for w in h.kube.writes_of("patch_status") if w.name == "orders-key")
    assert "creation" in first.body["status"]  # written before the POST, without an id
    assert "customerManagedKeyId" not in first.body["status"]
    assert condition(key, "Ready")["status"] == "False"
    await h.until(
        lambda: h.sim.state.key_status(h.sim.state.keys[key_id]) == "ready", what="key ready"
    )
    key = await _key_pass(h)
    assert condition(key, "Ready")["status"] == "True"
    assert len(h.requests("POST", "/v1/customer-managed-keys")) == 1

    created = await h.run_pass("orders")
    instance_id = created.status["instanceId"]
    assert h.sim.instance(instance_id).customer_managed_key_id == key_id

    # Deleting the key while it encrypts the instance: held, with the reason.
    held = (await h.finalize_of(CUSTOMER_KEY, "orders-key")).result
    assert held is not None
    assert held.retry_after is not None and "encryption-key-is-active" in held.message
    assert "KeyInUse" in [reason for _, reason, _ in h.events]


async def test_a_key_where_the_tier_or_region_is_not_offered_is_refused_before_any_post(
    h: Harness,
) -> None:
    h.kube.add_object(KEYS, KEY_KIND, NS, "bad-key", {**KEY_SPEC, "region": "mars-north1"})
    key = await _key_pass(h, "bad-key")
    synced = condition(key, "Synced")
    assert synced["reason"] == "InvalidSpec" and synced["message"].startswith("spec.region")
    assert h.requests("POST") == []

    h.kube.add_object(KEYS, KEY_KIND, NS, "orders-key", KEY_SPEC)
    h.apply(
        "wrong",
        {**ENTERPRISE, "region": "us-central1"},
        customerManagedKeyRef={"name": "orders-key"},
    )
    result = await h.run_pass("wrong")
    assert result.condition("Synced")["reason"] == "InvalidSpec"
    assert result.condition("Synced")["message"].startswith("spec.customerManagedKeyRef")
    h.apply("tier", {**ENTERPRISE, "type": "professional-db"}, customerManagedKeyId="k-1")
    result = await h.run_pass("tier")
    assert result.condition("Synced")["message"].startswith("spec.customerManagedKeyId")
    assert h.posts() == []


#: The budget tests run the e2e platform test's windows (20 s and 15 s) at 20 times the rate for
#: a twentieth of the time: the same number of requests, the same bounds, one second of waiting.
BUDGET_SCALE = 20


async def _load(h: Harness, names: list[str], seconds: float) -> None:
    """Each object read back to back for `seconds`, as drift would if the budget let it."""
    stop = time.monotonic() + seconds

    async def reads(name: str) -> None:
        while time.monotonic() < stop:
            await h.run_pass(name, background=True)
            await asyncio.sleep(0)  # a pass the budget refused inline still yields

    await asyncio.gather(*(reads(name) for name in names))


def _sent_since(h: Harness, since: float) -> list[RequestRecord]:
    return [r for r in h.sim.requests if r.time >= since and r.client_id == DEMO_CLIENT_ID]


async def test_a_credentials_budget_holds_under_load_and_a_new_rate_applies_at_once() -> None:
    """From tests/e2e/test_platform.py (issue 17): a credential's requestsPerMinute and burst
    bound what its objects send while they want far more, and a changed requestsPerMinute binds
    at once, without a restart."""
    rate, burst = 30 * BUDGET_SCALE, 10
    async with harness(request_burst=burst) as h:
        add_credential(h, allowedNamespaces={}, requestsPerMinute=rate)
        names = [f"b{i}" for i in range(3)]
        for name in names:
            h.apply(name, ENTERPRISE, credentialRef={"name": "team-a"})
        for name in names:
            await h.settle(name)
        assert h.ctx.rate(DEMO_CLIENT_ID) == rate

        window = time.time()
        seconds = 20 / BUDGET_SCALE
        await _load(h, names, seconds)
        sent = _sent_since(h, window)
        assert len(sent) <= burst + rate * seconds / 60 + 2, len(sent)
        assert len(sent) >= rate * seconds / 60 / 2, "the load did not reach the budget"
        assert 429 not in [r.status for r in sent]

        # requestsPerMinute changes: the credential's watch hands the new body over.
        slower = 12 * BUDGET_SCALE
        body = h.kube.object(CREDENTIALS, "", "team-a")
        body["spec"]["requestsPerMinute"] = slower
        h.ctx.credentials.remember_credential(body)
        assert h.ctx.rate(DEMO_CLIENT_ID) == slower
        slowed = time.time()
        seconds = 15 / BUDGET_SCALE
        await _load(h, names, seconds)
        after = _sent_since(h, slowed)
        assert len(after) <= burst + slower * seconds / 60 + 1, len(after)
