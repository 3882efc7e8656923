"""AuraGraphAnalyticsSession through the production controller, against the simulator: get or
create once (a lost answer found by the name, never a second session), the 409 as InvalidSpec
listing the differences, sizing asked once, expiry under both `renew` values, the connection
Secret (attached: the instance's Secret named, its password never copied), and deletion."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import pytest
from pydantic import SecretStr

from aura_operator.kinds.session.model import KIND, PLURAL
from aura_operator.kinds.session.registration import SESSION
from aura_operator.kinds.session.secret import KEY_HOST, KEY_INSTANCE_SECRET, KEY_URI
from aura_operator.runtime.credentials import make_client
from aura_simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID
from tests.inprocess.harness import NS, Harness, PassResult

POSTS = "/v1/graph-analytics/sessions"
#: Standalone, in a region the demo tenant offers; a long TTL (scaled by 1000: 8 h -> 29 s) so
#: that a session does not expire under a test that waits for something else.
STANDALONE: dict[str, Any] = {
    "memory": "8GB",
    "ttl": "8h",
    "cloudProvider": "gcp",
    "region": "europe-west1",
}


def _apply(h: Harness, spec: dict[str, Any], name: str = "people") -> None:
    h.kube.add_object(PLURAL, KIND, NS, name, spec)


async def _pass(h: Harness, name: str = "people") -> PassResult:
    return await h.pass_of(SESSION, name)


def _creates(h: Harness) -> int:
    return len(h.requests("POST", POSTS))


def _sim_sessions(h: Harness) -> list[Any]:
    return list(h.sim.state.sessions.values())


def _created(h: Harness, session_id: str) -> bool:
    return h.sim.session_status(session_id) != "Creating"


async def _ready(h: Harness, name: str = "people") -> PassResult:
    """Passes until the session is Ready (the simulator's Creating lasts 60 ms)."""
    result = await _pass(h, name)
    for _ in range(10):
        if result.status.get("phase") == "Ready":
            return result
        session_id = result.status.get("sessionId")
        if session_id:
            await h.until(functools.partial(_created, h, session_id))
        result = await _pass(h, name)
    raise AssertionError(f"{name} did not become Ready: {result.status}")


async def test_a_session_is_created_once_and_its_secret_holds_the_host(h: Harness) -> None:
    _apply(h, STANDALONE)
    ready = await _ready(h)
    (session,) = _sim_sessions(h)
    assert ready.status["sessionId"] == session.id
    assert (ready.status["phase"], ready.status["memory"]) == ("Ready", "8GB")
    assert ready.status["host"] == f"{session.id}.sessions.sim.neo4j.io"
    assert ready.status["expiryDate"]
    assert ready.condition("Ready")["reason"] == "Available"
    assert ready.condition("ConnectionSecretReady")["status"] == "True"
    assert session.name == f"{NS}-people" and session.tenant_id == DEMO_TENANT_ID
    secret = h.secret("people-session")
    assert secret is not None
    assert secret[KEY_HOST] == ready.status["host"]
    assert secret[KEY_URI] == f"neo4j+s://{ready.status['host']}"
    assert _creates(h) == 1
    # Read again at the drift interval, or when Aura's 7-day limit (604.8 s at this time scale)
    # ends the session, whichever is first.
    expiry = datetime.fromisoformat(ready.status["expiryDate"].replace("Z", "+00:00"))
    left = (expiry - h.clock.now()).total_seconds()
    assert ready.delay is not None and left < h.settings.drift_interval
    assert abs(ready.delay - left) < 5.0

    again = await _pass(h)
    assert again.condition("Synced")["status"] == "True" and _creates(h) == 1


async def test_sizing_asks_once_and_uses_the_recommended_size(h: Harness) -> None:
    sizing = {"nodeCount": 100_000_000, "relationshipCount": 500_000_000,
              "algorithmCategories": ["community-detection"]}  # fmt: skip
    spec = {k: v for k, v in STANDALONE.items() if k != "memory"}
    _apply(h, {**spec, "sizing": sizing})
    ready = await _ready(h)
    assert ready.status["memory"] == "32GB"  # docs/simulator.md: this input gives 27GB -> 32GB
    assert ready.status["sizing"]["recommendedSize"] == "32GB"
    assert ready.status["sizing"]["estimatedMemory"] == "27GB"
    await _pass(h)
    assert len(h.requests("POST", f"{POSTS}/sizing")) == 1
    assert _sim_sessions(h)[0].memory == "32GB"


@pytest.mark.parametrize("mode", ["502", "drop"])
async def test_a_lost_answer_is_found_by_name_and_never_asked_again(h: Harness, mode: str) -> None:
    """Aura created the session but the client got a 502, or the connection was dropped before
    the answer: the next pass lists the sessions, finds it by its name, and sends no second
    get-or-create."""
    h.sim.ambiguous_create(resource="sessions", mode=mode)
    _apply(h, STANDALONE)

    lost = await _pass(h)
    synced = lost.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "ReconcileError")
    assert "CreateOutcomeUnknown" in lost.reasons()
    assert lost.status["creation"]["unansweredAt"] and "sessionId" not in lost.status
    (created,) = _sim_sessions(h)

    found = await _pass(h)
    assert "Recovered" in found.reasons()
    assert found.status["sessionId"] == created.id
    assert _creates(h) == 1 and len(_sim_sessions(h)) == 1


async def test_a_request_that_never_arrived_is_sent_again_after_the_window(h: Harness) -> None:
    h.sim.inject_fault(f"POST {POSTS}", status=502, body="gateway", count=1)
    _apply(h, STANDALONE)
    await _pass(h)
    looking = await _pass(h)
    assert "looking for it" in looking.condition("Synced")["message"]
    assert _creates(h) == 1 and _sim_sessions(h) == []

    h.clock.advance(40.0)  # past unansweredAt + the 30 s window
    again = await _pass(h)
    assert "CreateNotFound" in again.reasons() and "Created" in again.reasons()
    assert _creates(h) == 2 and len(_sim_sessions(h)) == 1


async def test_a_409_is_invalid_spec_listing_the_differences(h: Harness) -> None:

    async with make_client(h.settings, DEMO_CLIENT_ID, SecretStr(DEMO_CLIENT_SECRET)) as aura:
        await aura.get_or_create_session(
            name=f"{NS}-people", memory="16GB", ttl="8h", tenant_id=DEMO_TENANT_ID,
            cloud_provider="gcp", region="europe-west1",
        )  # fmt: skip
    h.sim.requests.clear()
    _apply(h, STANDALONE)

    refused = await _pass(h)
    synced = refused.condition("Synced")
    assert (synced["status"], synced["reason"]) == ("False", "InvalidSpec")
    assert "Memory (is: 16GB, requested: 8GB)" in synced["message"]
    assert "creation" not in refused.status and "sessionId" not in refused.status
    assert refused.delay is None  # nothing changes until the spec does
    assert len(_sim_sessions(h)) == 1 and _creates(h) == 1


async def test_a_spec_the_session_does_not_match_is_invalid_and_sends_nothing(h: Harness) -> None:
    _apply(h, STANDALONE)
    await _ready(h)
    h.kube.edit_object(PLURAL, NS, "people", spec={"memory": "4GB"})
    h.sim.requests.clear()
    changed = await _pass(h)
    synced = changed.condition("Synced")
    assert synced["reason"] == "InvalidSpec"
    assert "memory (is: 8GB, requested: 4GB)" in synced["message"]
    assert "InvalidSpec" in changed.reasons()
    assert changed.delay is not None  # the session is still followed
    again = await _pass(h)
    assert again.condition("Synced")["reason"] == "InvalidSpec"
    assert "InvalidSpec" not in again.reasons()  # said once
    assert h.changes() == []


async def test_an_expired_session_is_not_renewed_under_never(h: Harness) -> None:
    _apply(h, STANDALONE)
    ready = await _ready(h)
    h.sim.expire_session(ready.status["sessionId"])

    expired = await _pass(h)
    assert expired.status["phase"] == "Expired"
    assert expired.condition("Ready")["reason"] == "Expired"
    assert "Expired" in expired.reasons()
    assert expired.delay is None
    again = await _pass(h)
    assert "Expired" not in again.reasons()
    assert _creates(h) == 1 and h.requests("DELETE") == []


async def test_an_expired_session_is_renewed_once_per_expiry_under_on_expiry(h: Harness) -> None:
    _apply(h, {**STANDALONE, "renew": "OnExpiry"})
    first = (await _ready(h)).status["sessionId"]
    h.sim.expire_session(first)

    renewing = await _pass(h)
    assert "Renewing" in renewing.reasons()
    assert renewing.status["previousSessionId"] == first and renewing.status["renewals"] == 1
    assert [r.path for r in h.requests("DELETE")] == [f"{POSTS}/{first}"]
    second = (await _ready(h)).status["sessionId"]
    assert second != first
    assert [s.id for s in _sim_sessions(h)] == [second] and _creates(h) == 2

    h.sim.expire_session(second)
    await _pass(h)
    third = await _ready(h)
    assert third.status["renewals"] == 2 and _creates(h) == 3
    assert [s.id for s in _sim_sessions(h)] == [third.status["sessionId"]]


async def test_deleting_the_object_deletes_the_session(h: Harness) -> None:
    _apply(h, STANDALONE)
    session_id = (await _ready(h)).status["sessionId"]
    attempt = await h.finalize_of(SESSION, "people")
    assert attempt.done and "Deleted" in attempt.reasons()
    assert _sim_sessions(h) == []
    assert [r.path for r in h.requests("DELETE")] == [f"{POSTS}/{session_id}"]


async def test_deleting_during_a_lost_answer_finds_and_deletes_the_session(h: Harness) -> None:
    h.sim.ambiguous_create(resource="sessions")
    _apply(h, STANDALONE)
    await _pass(h)
    attempt = await h.finalize_of(SESSION, "people")
    assert attempt.done and "Deleted" in attempt.reasons()
    assert _sim_sessions(h) == []


async def test_an_attached_session_names_the_instance_secret_never_its_password(
    h: Harness,
) -> None:
    h.apply("graph")
    instance = await h.settle("graph")
    _apply(h, {"memory": "4GB", "ttl": "8h", "instanceRef": {"name": "graph"}})
    ready = await _ready(h)
    (session,) = _sim_sessions(h)
    assert session.instance_id == instance.status["instanceId"] == ready.status["instanceId"]
    secret = h.secret("people-session")
    assert secret is not None and secret[KEY_INSTANCE_SECRET] == "graph-connection"
    password = (h.secret("graph-connection") or {})["NEO4J_PASSWORD"]
    assert password and password not in secret.values()


async def test_a_session_waits_for_its_instance_and_checks_its_spec(h: Harness) -> None:
    _apply(h, {"memory": "4GB", "instanceRef": {"name": "later"}})
    waiting = await _pass(h)
    assert "waiting for AuraInstance later" in waiting.condition("Ready")["message"]
    assert waiting.delay == h.settings.poll_interval

    _apply(h, {"memory": "4GB", "sizing": {"nodeCount": 1, "relationshipCount": 1},
               "cloudProvider": "gcp", "region": "europe-west1"}, name="both")  # fmt: skip
    both = await _pass(h, "both")
    assert both.condition("Synced")["reason"] == "InvalidSpec"
    assert "exactly one of memory and sizing" in both.condition("Synced")["message"]
    assert h.changes() == []


async def test_a_renewal_never_takes_back_the_expired_session(h: Harness) -> None:
    """The delete of the expired session answers 404 although it is still there (as when a
    delete has not taken effect yet): get-or-create answers with it, and the renewal does not
    take it back; it asks again and gets a new session once the old one is gone."""
    _apply(h, {**STANDALONE, "renew": "OnExpiry"})
    first = (await _ready(h)).status["sessionId"]
    h.sim.expire_session(first)
    h.sim.inject_fault(f"DELETE {POSTS}/{first}", status=404, count=1)

    await _pass(h)  # Renewing: the delete "succeeds"
    waiting = await _pass(h)
    assert (
        "waiting for Aura to finish deleting expired session"
        in (waiting.condition("Ready")["message"])
    )
    assert "sessionId" not in waiting.status and "creation" not in waiting.status
    assert [s.id for s in _sim_sessions(h)] == [first]

    del h.sim.state.sessions[first]
    renewed = await _ready(h)
    assert renewed.status["sessionId"] != first and len(_sim_sessions(h)) == 1
