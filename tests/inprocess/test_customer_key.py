"""AuraCustomerManagedKey paths beyond the happy one, through the production controller: a lost
create answer (found by looking, never sent twice), a create that never arrived (sent again
after the window), a key deleted outside Kubernetes, a spec that no longer matches the key,
and force-finalize."""

from __future__ import annotations

from aura_operator.kinds.customer_key.model import KIND as KEY_KIND
from aura_operator.kinds.customer_key.model import PLURAL as KEYS
from aura_operator.kinds.customer_key.registration import CUSTOMER_KEY
from tests.inprocess.harness import NS, Harness, PassResult

KEY_SPEC = {
    "keyId": "arn:aws:kms:eu:1:key/1",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "instanceType": "enterprise-db",
    "deletionPolicy": "Delete",
}
CREATE = "POST /v1/customer-managed-keys"


async def _pass(h: Harness, name: str = "orders-key") -> PassResult:
    return await h.pass_of(CUSTOMER_KEY, name)


def _key_posts(h: Harness) -> int:
    return len(h.requests("POST", "/v1/customer-managed-keys"))


async def test_a_lost_create_answer_is_found_by_name_and_never_sent_again(h: Harness) -> None:
    """Aura created the key but the answer was a 502: the next pass finds it by name."""
    h.sim.inject_fault(CREATE, status=502, body="gateway", after=True, count=1)
    h.kube.add_object(KEYS, KEY_KIND, NS, "orders-key", KEY_SPEC)

    lost = await _pass(h)
    synced = lost.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "ReconcileError")
    assert "got no answer" in synced["message"]
    assert "CreateOutcomeUnknown" in lost.reasons()
    assert lost.status["creation"]["unansweredAt"]
    assert "customerManagedKeyId" not in lost.status
    (created,) = h.sim.state.keys.values()

    found = await _pass(h)
    assert "Recovered" in found.reasons()
    assert found.status["customerManagedKeyId"] == created.id
    assert _key_posts(h) == 1


async def test_a_create_that_never_arrived_is_sent_again_after_the_window(h: Harness) -> None:
    """A 502 before Aura acted: nothing exists; the key is created once the window passed."""
    h.sim.inject_fault(CREATE, status=502, body="gateway", count=1)
    h.kube.add_object(KEYS, KEY_KIND, NS, "orders-key", KEY_SPEC)
    await _pass(h)
    h.clock.advance(10.0)
    looking = await _pass(h)
    assert "looking for it" in looking.condition("Synced")["message"]
    assert looking.delay is not None and looking.delay >= 1.0
    assert _key_posts(h) == 1 and h.sim.state.keys == {}

    h.clock.advance(25.0)  # past unansweredAt + the 30 s window
    again = await _pass(h)
    assert "CreateNotFound" in again.reasons() and "Created" in again.reasons()
    assert _key_posts(h) == 2
    assert again.status["customerManagedKeyId"] in h.sim.state.keys


async def _created(h: Harness) -> str:
    h.kube.add_object(KEYS, KEY_KIND, NS, "orders-key", KEY_SPEC)
    first = await _pass(h)
    key_id: str = first.status["customerManagedKeyId"]
    await h.until(lambda: h.sim.state.key_status(h.sim.state.keys[key_id]) == "ready")
    ready = await _pass(h)
    assert ready.condition("Ready")["status"] == "True"
    return key_id


async def test_a_key_deleted_outside_kubernetes_is_created_again(h: Harness) -> None:
    key_id = await _created(h)
    del h.sim.state.keys[key_id]

    gone = await _pass(h)
    assert "KeyGone" in gone.reasons()
    assert "customerManagedKeyId" not in gone.status and "creation" not in gone.status
    assert gone.condition("Ready")["status"] == "False"

    again = await _pass(h)
    assert "Created" in again.reasons()
    assert again.status["customerManagedKeyId"] not in (None, key_id)
    assert _key_posts(h) == 2


async def test_a_spec_that_no_longer_matches_the_key_is_invalid_and_sends_nothing(
    h: Harness,
) -> None:
    key_id = await _created(h)
    h.kube.edit_object(KEYS, NS, "orders-key", spec={"region": "us-east1"})
    h.sim.requests.clear()

    mismatch = await _pass(h)
    synced = mismatch.condition("Synced")
    assert synced["reason"] == "InvalidSpec"
    assert synced["message"].startswith("spec.region")
    assert "europe-west1" in synced["message"]
    assert mismatch.status["customerManagedKeyId"] == key_id
    assert h.requests("POST") == [] and h.requests("DELETE") == []


async def test_force_finalize_releases_the_key_without_deleting_it(h: Harness) -> None:
    key_id = await _created(h)
    h.kube.edit_object(
        KEYS, NS, "orders-key", annotations={"aura-operator.dev/force-finalize": "True "}
    )
    attempt = await h.finalize_of(CUSTOMER_KEY, "orders-key")
    assert attempt.done
    assert "ForceFinalized" in attempt.reasons()
    assert key_id in h.sim.state.keys
    assert h.requests("DELETE") == []


async def test_a_key_annotated_skip_is_left_alone_like_every_kind(h: Harness) -> None:
    """`reconcile: skip` is the controller's, so a key honours it as an instance does."""
    h.kube.add_object(
        KEYS,
        KEY_KIND,
        NS,
        "orders-key",
        KEY_SPEC,
        annotations={"aura-operator.dev/reconcile": "skip"},
    )
    paused = await _pass(h)
    assert paused.condition("Synced")["reason"] == "ReconcilePaused"
    assert h.requests() == []
