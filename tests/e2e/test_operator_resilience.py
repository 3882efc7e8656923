"""Rate limits, faults, bad input and restarts (issue 5, behaviours 8, 9 and 10).

The real operator process, under its service account's Role, against a real API server and the
Aura simulator. What a user sees (status, conditions, events, the Secret) is checked together
with what Aura saw (the simulator's state and request log, whose times are the simulator's
`time.time()` on this machine, comparable with the test's own clock).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from typing import Any

import pytest
from kubernetes import client

from tests.harness.aura_env import (
    BASE_SPEC,
    AuraEnv,
    condition,
    is_true,
    observed_since,
    settled,
    synced,
)

pytestmark = pytest.mark.e2e

DEMO = "aura-demo"
DEMO_SECRET = "aura-demo-secret"
#: Every token the simulator issues starts with this JWT header.
TOKEN_PREFIX = (
    base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    .rstrip(b"=")
    .decode()
)


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def gets_of(requests: list[dict[str, Any]], instance_id: str) -> list[dict[str, Any]]:
    return [
        r for r in requests if (r["method"], r["path"]) == ("GET", f"/v1/instances/{instance_id}")
    ]


def creates(env: AuraEnv) -> list[dict[str, Any]]:
    return [r for r in env.sim_requests() if (r["method"], r["path"]) == ("POST", "/v1/instances")]


def assert_no_secret_leaks(
    env: AuraEnv, names: list[str], logs: list[str], extra: tuple[str, ...] = ()
) -> None:
    """No client secret, token or instance password in a log line, an event or a status."""
    passwords = [i["password"] for i in env.sim_instances() if i.get("password")]
    secrets = [DEMO_SECRET, TOKEN_PREFIX, *passwords, *extra]
    assert logs and all(logs)
    places = {f"operator log {n}": log for n, log in enumerate(logs)}
    for name in names:
        places[f"events of {name}"] = json.dumps(env.events(name))
        places[f"status of {name}"] = json.dumps((env.get(name) or {}).get("status"))
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a secret ({secret[:4]}...) appears in the {where}"


# ------------------------------------------------------------- 8. rate limits and faults


def test_429_requeues_after_retry_after_and_holds_every_object_of_the_credential(
    aura_env: AuraEnv,
) -> None:
    aura_env.run_operator()
    aura_env.apply("first")
    aura_env.apply("second")
    first_id = aura_env.wait_for("first", settled, what="Ready")["status"]["instanceId"]
    second_id = aura_env.wait_for("second", settled, what="Ready")["status"]["instanceId"]

    # 8 s is longer than the client's inline cap (5 s): the object must be requeued.
    aura_env.sim(
        "POST",
        "/_sim/faults",
        {"route": f"GET /v1/instances/{first_id}", "status": 429, "retry_after": 8},
    )
    obj = aura_env.wait_for(
        "first", lambda o: synced(o, "Throttled", "False"), what="Synced=False Throttled"
    )
    (hit,) = [r for r in aura_env.sim_requests() if r["status"] == 429]
    limited_at = hit["time"]
    next_at = obj["status"]["nextAttemptAt"]
    assert next_at in condition(obj, "Synced")["message"]
    # nextAttemptAt has whole seconds; the pass began just before the 429 arrived.
    assert limited_at + 8 - 1.5 <= epoch(next_at) <= limited_at + 8 + 2
    assert is_true(obj, "Ready")  # a throttled read says nothing about the instance

    # Both objects read again after the window (the other one's drift reads come every ~3 s).
    aura_env.wait_for("first", settled, what="Synced again after the hold")
    aura_env.wait_until(
        lambda: gets_of(aura_env.sim_requests_since(limited_at + 8), second_id),
        what="the other object's next read",
    )
    after = [
        r for r in aura_env.sim_requests_since(limited_at) if r["request_id"] != hit["request_id"]
    ]
    inside = [
        (r["method"], r["path"], r["time"] - limited_at)
        for r in after
        if r["time"] < limited_at + 8
    ]
    assert inside == [], "requests of the credential were sent inside the Retry-After window"
    assert gets_of(after, first_id)[0]["time"] >= limited_at + 8
    assert gets_of(after, second_id)[0]["time"] >= limited_at + 8


def test_5xx_on_get_is_retried_and_shows_the_next_attempt_when_it_persists(
    aura_env: AuraEnv,
) -> None:
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_for("orders", settled, what="Ready")
    instance_id = obj["status"]["instanceId"]
    ready_since = condition(obj, "Ready")["lastTransitionTime"]
    synced_since = condition(obj, "Synced")["lastTransitionTime"]

    # Two 503s: retried inside the client with backoff; the user sees no change at all.
    started = time.time()
    aura_env.sim(
        "POST",
        "/_sim/faults",
        {"route": f"GET /v1/instances/{instance_id}", "status": 503, "count": 2},
    )

    def retried() -> list[dict[str, Any]] | None:
        reads = gets_of(aura_env.sim_requests_since(started), instance_id)
        return reads[:3] if len(reads) >= 3 else None

    first, second, third = aura_env.wait_until(retried, what="two 503s and a retry")
    assert [first["status"], second["status"], third["status"]] == [503, 503, 200]
    assert second["time"] - first["time"] >= 0.45  # backoff of the 1st retry: 0.5-1 s
    assert third["time"] - second["time"] >= 0.95  # of the 2nd: 1-2 s
    obj = aura_env.get("orders") or {}
    assert condition(obj, "Ready")["lastTransitionTime"] == ready_since
    assert condition(obj, "Synced")["lastTransitionTime"] == synced_since
    assert settled(obj)

    # A 503 whose Retry-After is beyond the inline cap: Synced=False with the next attempt.
    started = time.time()
    aura_env.sim(
        "POST",
        "/_sim/faults",
        {"route": f"GET /v1/instances/{instance_id}", "status": 503, "retry_after": 6},
    )
    obj = aura_env.wait_for(
        "orders", lambda o: synced(o, "ReconcileError", "False"), what="Synced=False"
    )
    message = condition(obj, "Synced")["message"]
    assert "503" in message and obj["status"]["nextAttemptAt"] in message
    (failed,) = [r for r in aura_env.sim_requests_since(started) if r["status"] == 503]
    assert epoch(obj["status"]["nextAttemptAt"]) >= failed["time"] + 6 - 1.5
    assert is_true(obj, "Ready")
    aura_env.wait_for("orders", settled, what="Synced again")
    reads = gets_of(aura_env.sim_requests_since(started), instance_id)
    assert reads[0]["status"] == 503
    assert reads[1]["time"] >= failed["time"] + 6  # Retry-After is a floor


def test_expired_token_is_refreshed_once_without_a_failure(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    aura_env.apply("orders")
    obj = aura_env.wait_for("orders", settled, what="Ready")
    instance_id = obj["status"]["instanceId"]
    synced_since = condition(obj, "Synced")["lastTransitionTime"]
    warnings = [e for e in aura_env.events("orders") if e[0] == "Warning"]

    expired_at = time.time()
    assert aura_env.sim("POST", "/_sim/tokens/expire", {"client_id": DEMO})["expired"] >= 1
    # The refreshed token is used, and the drift reads after it need no other token.
    aura_env.wait_until(
        lambda: [
            r
            for r in gets_of(aura_env.sim_requests_since(expired_at, None), instance_id)
            if r["status"] == 200
        ][2:],
        what="three good reads after the expiry",
    )
    sent = [
        (r["method"], r["path"], r["status"])
        for r in aura_env.sim_requests_since(expired_at, client_id=None)
    ]
    read = ("GET", f"/v1/instances/{instance_id}")
    rejected = [n for n, s in enumerate(sent) if s[2] != 200]
    assert len(rejected) == 1, sent  # one request met the expired token, nothing else failed
    first = rejected[0]
    assert sent[:first] == [(*read, 200)] * first  # (a read that beat the expiry, if any)
    assert sent[first : first + 3] == [(*read, 403), ("POST", "/oauth/token", 200), (*read, 200)]
    assert [s for s in sent if s[1] == "/oauth/token"] == [("POST", "/oauth/token", 200)]
    obj = aura_env.get("orders") or {}
    assert settled(obj)
    assert condition(obj, "Synced")["lastTransitionTime"] == synced_since
    assert [e for e in aura_env.events("orders") if e[0] == "Warning"] == warnings


# ------------------------------------------------------------------------- 9. bad input


def test_combination_the_tenant_does_not_offer_is_refused_before_any_post(
    aura_env: AuraEnv,
) -> None:
    aura_env.run_operator()
    aura_env.apply("clock")  # its drift reads show that time passes and the operator is alive
    clock_id = aura_env.wait_for("clock", settled, what="Ready")["status"]["instanceId"]
    config = aura_env.sim("GET", "/_sim/state")["config"]
    offered = {
        c["memory"]
        for c in config["tenants"][0]["instance_configurations"]
        if (c["type"], c["cloud_provider"], c["region"]) == ("enterprise-ds", "gcp", "europe-west1")
    }
    assert offered and "2GB" not in offered

    aura_env.apply("bad", {**BASE_SPEC, "type": "enterprise-ds", "memory": "2GB"})
    obj = aura_env.wait_for(
        "bad", lambda o: synced(o, "InvalidSpec", "False"), what="Synced=False InvalidSpec"
    )
    refused_at = time.time()
    message = condition(obj, "Synced")["message"]
    event = aura_env.wait_event("bad", "InvalidSpec")
    for text in (message, event):
        assert "spec.memory" in text and "allowed:" in text, text
        allowed = {v.strip() for v in text.split("allowed:")[1].split(",")}
        assert allowed == offered, text
    assert not is_true(obj, "Ready")
    assert "instanceId" not in obj["status"]
    synced_since = condition(obj, "Synced")["lastTransitionTime"]

    # No retry loop: over two drift reads of the other object (~6 s, twenty poll intervals and
    # twice the error backoff cap), the refused object sends nothing at all.
    aura_env.wait_until(
        lambda: len(gets_of(aura_env.sim_requests_since(refused_at), clock_id)) >= 2,
        what="two drift reads of the other instance",
    )
    since = aura_env.sim_requests_since(refused_at, client_id=None)
    # The clock's drift reads, and the credential's list sweep (sweep.py), which reads every
    # instance at once: nothing about "bad".
    assert {(r["method"], r["path"]) for r in since} <= {
        ("GET", f"/v1/instances/{clock_id}"),
        ("GET", "/v1/instances"),
    }
    assert len(creates(aura_env)) == 1  # the clock's
    obj = aura_env.get("bad") or {}
    assert condition(obj, "Synced")["lastTransitionTime"] == synced_since
    assert [r for _, r, _ in aura_env.events("bad")].count("InvalidSpec") == 1

    # Fixing the spec recovers.
    aura_env.patch("bad", {"spec": {"memory": sorted(offered, key=lambda m: int(m[:-2]))[0]}})
    obj = aura_env.wait_for("bad", settled, what="Ready after the fix", timeout=40)
    (instance,) = [i for i in aura_env.sim_instances() if i["id"] == obj["status"]["instanceId"]]
    assert (instance["type"], instance["memory"]) == ("enterprise-ds", obj["spec"]["memory"])
    assert len(creates(aura_env)) == 2


def test_missing_then_wrong_credentials_secret_is_reported_and_recovers(
    aura_env: AuraEnv,
) -> None:
    wrong = "not-the-secret-7f3a9c"
    aura_env.run_operator()
    started = time.time()
    aura_env.apply("team", {**BASE_SPEC, "credentialsSecretRef": {"name": "team-aura"}})
    obj = aura_env.wait_for(
        "team",
        lambda o: synced(o, "CredentialsInvalid", "False"),
        what="Synced=False CredentialsInvalid",
    )
    message = condition(obj, "Synced")["message"]
    assert "team-aura" in message and "not found" in message, message
    assert obj["status"]["nextAttemptAt"] in message
    assert "team-aura" in aura_env.wait_event("team", "CredentialsInvalid")
    assert (
        aura_env.sim_requests_since(started, client_id=None) == []
    )  # nothing without a credential

    def put_secret(value: str) -> None:
        body = client.V1Secret(
            metadata=client.V1ObjectMeta(name="team-aura"),
            string_data={"AURA_CLIENT_ID": DEMO, "AURA_CLIENT_SECRET": value},
        )
        if aura_env.core.list_namespaced_secret(
            aura_env.namespace, field_selector="metadata.name=team-aura"
        ).items:
            aura_env.core.replace_namespaced_secret("team-aura", aura_env.namespace, body)
        else:
            aura_env.core.create_namespaced_secret(aura_env.namespace, body)

    put_secret(wrong)
    obj = aura_env.wait_for(
        "team",
        lambda o: (
            synced(o, "CredentialsInvalid", "False")
            and "refused" in condition(o, "Synced")["message"]
        ),
        what="the credential refused by Aura",
    )
    assert "secret is wrong" in condition(obj, "Synced")["message"]

    def refused_tokens() -> list[dict[str, Any]] | None:
        tokens = [
            r
            for r in aura_env.sim_requests_since(started, client_id=None)
            if r["path"] == "/oauth/token"
        ]
        return tokens if len(tokens) >= 2 else None

    tokens = aura_env.wait_until(refused_tokens, what="a second token attempt")
    assert [t["status"] for t in tokens[:2]] == [401, 401]
    # The error backoff (capped at 3 s, 20 % jitter) spaces the attempts: no tight loop.
    assert tokens[1]["time"] - tokens[0]["time"] >= 2.3
    assert all(r["path"] == "/oauth/token" for r in aura_env.sim_requests_since(started, None))
    assert creates(aura_env) == []

    put_secret(DEMO_SECRET)
    obj = aura_env.wait_for("team", settled, what="Ready with the fixed Secret", timeout=40)
    assert len(creates(aura_env)) == 1
    assert aura_env.secret("team-connection") is not None
    assert_no_secret_leaks(aura_env, ["team"], [aura_env.operator_log()], extra=(wrong,))


# -------------------------------------------------------------------------- 10. restart


def test_restart_re_examines_every_object_within_the_budget_and_creates_nothing_twice(
    aura_env: AuraEnv,
) -> None:
    names = ["alpha", "bravo", "charlie", "delta"]
    first = aura_env.run_operator()
    for name in names:
        aura_env.apply(name)
    ids = {n: aura_env.wait_for(n, settled, what="Ready")["status"]["instanceId"] for n in names}
    aura_env.kill_operator()

    # While the operator is down: a pause in the console and a spec change in Kubernetes.
    aura_env.sim("POST", f"/_sim/instances/{ids['alpha']}/console", {"action": "pause"})
    aura_env.patch("bravo", {"spec": {"memory": "4GB"}})
    aura_env.wait_until(
        lambda: any(
            i["id"] == ids["alpha"] and i["status"] == "paused" for i in aura_env.sim_instances()
        ),
        what="alpha paused in Aura",
    )
    restarted = time.time()
    second = aura_env.run_operator(
        AURA_OPERATOR_REQUESTS_PER_MINUTE="60", AURA_OPERATOR_REQUEST_BURST="3"
    )

    # Only a status observed after the restart counts: the one written before it still says
    # running (issue 17), and Aura may not have seen the resume yet.
    aura_env.wait_for(
        "alpha",
        lambda o: observed_since(o, restarted) and settled(o) and o["status"]["state"] == "running",
        what="alpha read after the restart and resumed",
    )
    assert ids["alpha"] in aura_env.wait_event("alpha", "DriftDetected")
    aura_env.wait_for(
        "bravo",
        lambda o: observed_since(o, restarted) and settled(o) and o["status"]["memory"] == "4GB",
        what="bravo read after the restart and resized",
    )

    def all_read() -> bool:  # every object is read again after the restart
        sent = aura_env.sim_requests_since(restarted)
        return all(gets_of(sent, instance_id) for instance_id in ids.values())

    aura_env.wait_until(all_read, what="a read of every object after the restart")

    # Aura: the same four instances, none created twice, alpha running and bravo at 4GB.
    live = {i["id"]: i for i in aura_env.sim_instances()}
    assert set(live) == set(ids.values())
    assert len(creates(aura_env)) == len(names)
    assert live[ids["alpha"]]["status"] == "running"
    assert live[ids["bravo"]]["memory"] == "4GB"

    # The budget (1 request/s, bursts of 3) held from the first request on: between any two
    # requests i < j, at most 3 + (t_j - t_i) * 1/s were sent (0.5 s of slack for the time
    # between a token's grant in the operator and the request's arrival; without the budget
    # the restart sends its first reads within a few milliseconds).
    sent = [r["time"] for r in aura_env.sim_requests_since(restarted)]
    assert len(sent) >= 8, "too few requests after the restart to check the budget"
    for i in range(len(sent)):
        for j in range(i + 1, len(sent)):
            assert j - i + 1 <= 3 + (sent[j] - sent[i]) * 1.0 + 0.5, (
                f"{j - i + 1} requests within {sent[j] - sent[i]:.2f}s after the restart"
            )
    assert_no_secret_leaks(aura_env, names, [first.log(), second.log()])
