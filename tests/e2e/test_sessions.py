"""AuraGraphAnalyticsSession on a real API server, the operator as its own process under the
chart's RBAC, the simulator over HTTP: got or created once although the answer to the create is
lost (found by its name, exactly one session in Aura), a 409 as InvalidSpec listing the
differences, expiry under `renew: Never` and `renew: OnExpiry`, and deletion."""

from __future__ import annotations

import functools
from typing import Any

import httpx
import pytest
from kubernetes.client.exceptions import ApiException

from tests.harness.aura_env import GROUP, VERSION, AuraEnv, condition, is_true

pytestmark = pytest.mark.e2e

PLURAL = "auragraphanalyticssessions"
POSTS = "/v1/graph-analytics/sessions"
#: Standalone, in a region the demo tenant offers. TTL 8 h is 288 s at the e2e time scale (100):
#: no session expires under a test unless the test expires it.
STANDALONE: dict[str, Any] = {
    "memory": "8GB",
    "ttl": "8h",
    "cloudProvider": "gcp",
    "region": "europe-west1",
}


def _apply(env: AuraEnv, name: str, spec: dict[str, Any]) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AuraGraphAnalyticsSession",
        "metadata": {"name": name},
        "spec": spec,
    }
    env.objects.create_namespaced_custom_object(GROUP, VERSION, env.namespace, PLURAL, body)


def _get(env: AuraEnv, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = env.objects.get_namespaced_custom_object(
            GROUP, VERSION, env.namespace, PLURAL, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def _matches(env: AuraEnv, name: str, predicate: Any) -> dict[str, Any] | None:
    obj = _get(env, name)
    return obj if obj is not None and predicate(obj) else None


def _wait(env: AuraEnv, name: str, predicate: Any, what: str) -> dict[str, Any]:
    return env.wait_until(
        functools.partial(_matches, env, name, predicate), what=f"{what} on {name}", timeout=60
    )


def _ready(obj: dict[str, Any]) -> bool:
    return is_true(obj, "Ready") and (obj.get("status") or {}).get("phase") == "Ready"


def _sessions(env: AuraEnv) -> dict[str, dict[str, Any]]:
    """The sessions that exist in Aura (the simulator's state), by id."""
    sessions: dict[str, dict[str, Any]] = env.sim("GET", "/_sim/state")["sessions"]
    return sessions


def _session_posts(env: AuraEnv) -> int:
    return sum(1 for r in env.sim_requests() if r["method"] == "POST" and r["path"] == POSTS)


def _token(env: AuraEnv) -> str:
    answer = httpx.post(
        f"{env.simulator.base_url}/oauth/token",
        auth=("aura-demo", "aura-demo-secret"),
        data={"grant_type": "client_credentials"},
    )
    token: str = answer.json()["access_token"]
    return token


def test_a_lost_answer_is_resolved_by_the_name_and_one_session_exists(
    aura_env: AuraEnv,
) -> None:
    # Aura creates the session, then the connection is dropped before the answer is sent.
    aura_env.sim("POST", "/_sim/faults/ambiguous-create", {"resource": "sessions", "mode": "drop"})
    aura_env.run_operator()
    _apply(aura_env, "people", STANDALONE)

    ready = _wait(aura_env, "people", _ready, "Ready")
    events = [reason for _, reason, _ in aura_env.events("people")]
    assert "CreateOutcomeUnknown" in events and "Recovered" in events
    (session,) = _sessions(aura_env).values()
    assert ready["status"]["sessionId"] == session["id"]
    assert _session_posts(aura_env) == 1
    secret = aura_env.secret("people-session")
    assert secret is not None
    assert secret["AURA_SESSION_URI"] == f"neo4j+s://{ready['status']['host']}"
    owner = aura_env.secret_object("people-session").metadata.owner_references[0]
    assert (owner.kind, owner.name) == ("AuraGraphAnalyticsSession", "people")


def test_a_409_is_invalid_spec_listing_the_differences(aura_env: AuraEnv) -> None:
    tenant = aura_env.sim("GET", "/_sim/state")["config"]["tenants"][0]["id"]
    body = {"name": "people", "memory": "16GB", "ttl": "8h", "tenant_id": tenant,
            "cloud_provider": "gcp", "region": "europe-west1"}  # fmt: skip
    headers = {"Authorization": f"Bearer {_token(aura_env)}"}
    made = httpx.post(f"{aura_env.simulator.base_url}{POSTS}", json=body, headers=headers)
    assert made.status_code == 202
    aura_env.run_operator()
    _apply(aura_env, "people", {**STANDALONE, "name": "people"})

    def refused(obj: dict[str, Any]) -> bool:
        synced = condition(obj, "Synced") if obj.get("status") else {}
        return synced.get("reason") == "InvalidSpec"

    obj = _wait(aura_env, "people", refused, "Synced=False InvalidSpec")
    assert "Memory (is: 16GB, requested: 8GB)" in condition(obj, "Synced")["message"]
    assert len(_sessions(aura_env)) == 1 and _session_posts(aura_env) == 2
    assert "sessionId" not in obj["status"]


def test_expiry_under_never_and_on_expiry(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    _apply(aura_env, "kept", {**STANDALONE, "name": "kept"})
    _apply(aura_env, "renewed", {**STANDALONE, "name": "renewed", "renew": "OnExpiry"})
    kept = _wait(aura_env, "kept", _ready, "Ready")["status"]["sessionId"]
    first = _wait(aura_env, "renewed", _ready, "Ready")["status"]["sessionId"]

    aura_env.sim("POST", f"/_sim/sessions/{kept}/expire")
    aura_env.sim("POST", f"/_sim/sessions/{first}/expire")

    def renewed(obj: dict[str, Any]) -> bool:
        status = obj.get("status") or {}
        return _ready(obj) and status.get("sessionId") not in (None, first)

    again = _wait(aura_env, "renewed", renewed, "a new Ready session")["status"]
    assert (again["renewals"], again["previousSessionId"]) == (1, first)
    expired = _wait(aura_env, "kept", lambda o: o["status"].get("phase") == "Expired", "Expired")
    assert condition(expired, "Ready")["reason"] == "Expired"
    assert expired["status"]["sessionId"] == kept
    names = sorted((s["name"], s["id"]) for s in _sessions(aura_env).values())
    assert names == [("kept", kept), ("renewed", again["sessionId"])]
    assert _session_posts(aura_env) == 3


def test_deleting_the_object_deletes_the_session(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    _apply(aura_env, "people", STANDALONE)
    session_id = _wait(aura_env, "people", _ready, "Ready")["status"]["sessionId"]
    assert session_id in _sessions(aura_env)

    aura_env.objects.delete_namespaced_custom_object(
        GROUP, VERSION, aura_env.namespace, PLURAL, "people"
    )
    aura_env.wait_until(lambda: _get(aura_env, "people") is None, what="the object gone")
    assert _sessions(aura_env) == {}
    aura_env.wait_until(
        lambda: aura_env.secret("people-session") is None, what="the Secret collected"
    )
