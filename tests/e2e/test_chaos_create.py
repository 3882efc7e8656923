"""Chaos around the one call that costs money: creating an instance (issue 10).

Each test injects a fault (a create whose answer is lost, a lagging list, two operator
processes, a killed leader, a SIGKILL between the POST and the Secret write, an API server
restart) into the real operator process running under the chart's RBAC against a real API
server and the Aura simulator, then audits the end state (tests/harness/audit.py): no instance
without an owner, none created twice, every Secret holding its live instance's password, every
operator process alive.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from kubernetes import client

from tests.harness.audit import audit
from tests.harness.aura_env import BASE_SPEC, AuraEnv, settled
from tests.harness.controlplane import ControlPlane

pytestmark = pytest.mark.e2e

DELETE = {**BASE_SPEC, "deletionPolicy": "Delete"}


def creates(env: AuraEnv) -> list[dict[str, Any]]:
    return [r for r in env.sim_requests() if (r["method"], r["path"]) == ("POST", "/v1/instances")]


def wait_created_in_aura(env: AuraEnv, count: int = 1) -> None:
    """Until Aura holds `count` instances (a held create has acted, its answer has not come)."""
    env.wait_until(
        lambda: len(env.sim("GET", "/_sim/state")["instances"]) >= count or None,
        what=f"{count} instance(s) in Aura",
    )


# ------------------------------------------------ deletion during a create with no answer yet


@pytest.mark.parametrize(
    ("mode", "lag"),
    [("timeout", 0), ("502", 0), ("timeout", 6), ("502", 6)],
    ids=["timeout", "502", "timeout-lagging-list", "502-lagging-list"],
)
def test_deleting_during_an_unanswered_create_leaves_no_instance(
    aura_env: AuraEnv, mode: str, lag: int
) -> None:
    # The operator gives up on a request after 2 s; Aura answers the create after 4 s (too
    # late), or answers 502 after 1 s. With a lagging list the instance shows up in
    # GET /v1/instances only `lag` seconds after it was created.
    aura_env.run_operator(
        AURA_OPERATOR_HTTP_TIMEOUT="2", AURA_OPERATOR_CREATE_VISIBILITY_WINDOW="10"
    )
    if lag:
        aura_env.sim("POST", "/_sim/list-lag", {"seconds": lag, "get_seconds": lag})
    hold = 4 if mode == "timeout" else 1
    aura_env.sim("POST", "/_sim/faults/ambiguous-create", {"mode": mode, "hold": hold})

    aura_env.apply("orders", DELETE)
    wait_created_in_aura(aura_env)  # the POST has acted in Aura; the operator has no answer
    aura_env.delete("orders")

    aura_env.wait_gone("orders", timeout=60)
    assert len(creates(aura_env)) == 1, "the create was sent more than once"
    assert aura_env.sim_instances() == [], "the object is gone but its instance is billed"
    audit(aura_env, [])


# ------------------------------------------------------------ two operator processes at once


def leader_identity(env: AuraEnv) -> str | None:
    lease = client.CoordinationV1Api(env.admin_api).read_namespaced_lease(
        "aura-operator", env.namespace
    )
    return lease.spec.holder_identity


def test_two_processes_without_leader_election_still_create_each_instance_once(
    aura_env: AuraEnv,
) -> None:
    # Both processes believe they lead (election off): the create intent, written conditionally
    # on the object's resourceVersion, is the only fence between them.
    first = aura_env.run_operator(AURA_OPERATOR_LEADER_ELECTION="false")
    second = aura_env.run_operator(AURA_OPERATOR_LEADER_ELECTION="false")
    names = [f"db{i}" for i in range(5)]
    for name in names:
        aura_env.apply(name)
    for name in names:
        aura_env.wait_for(name, settled, what="settled", timeout=60)

    assert len(creates(aura_env)) == 5
    assert len(aura_env.sim_instances()) == 5
    audit(aura_env, names, operators=[first, second])


def test_two_replicas_elect_one_leader_and_the_standby_takes_over(aura_env: AuraEnv) -> None:
    first = aura_env.run_operator()
    aura_env.wait_until(lambda: leader_identity(aura_env), what="a leader")
    second = aura_env.run_operator()
    names = [f"db{i}" for i in range(5)]
    for name in names:
        aura_env.apply(name)
    for name in names:
        aura_env.wait_for(name, settled, what="settled", timeout=60)
    assert len(creates(aura_env)) == 5
    audit(aura_env, names, operators=[first, second])

    # Only the leader acted: the standby's log shows no reconciling.
    leader = leader_identity(aura_env)
    assert leader is not None and leader in first.log()
    assert "stands by" in second.log() or leader not in second.log()

    # The leader's node dies: SIGKILL, no chance to release the Lease.
    aura_env.operator = first
    killed_at = time.monotonic()
    aura_env.kill_operator()
    aura_env.operator = second
    aura_env.wait_until(
        lambda: (leader_identity(aura_env) or leader) != leader or None,
        what="the standby to take the Lease over",
        timeout=30,
    )
    takeover = time.monotonic() - killed_at
    print(f"\nstandby took the Lease over {takeover:.1f}s after the leader was killed")
    assert takeover <= 15.0

    # The new leader acts: a new object is created once, the others are left alone.
    aura_env.apply("db5")
    aura_env.wait_for("db5", settled, what="settled", timeout=60)
    assert len(creates(aura_env)) == 6
    audit(aura_env, [*names, "db5"], operators=[second])


# ------------------------------------------------- killed between the POST and the Secret write


def test_operator_killed_between_create_and_secret_write_recovers_without_duplicates(
    aura_env: AuraEnv,
) -> None:
    aura_env.run_operator()
    # The create acts in Aura, and its answer (the only one with the password) is held long
    # enough for the operator to be killed before it can write the Secret.
    aura_env.sim("POST", "/_sim/faults/ambiguous-create", {"mode": "timeout", "hold": 20})
    aura_env.apply("orders")
    wait_created_in_aura(aura_env)
    aura_env.kill_operator()
    aura_env.sim("DELETE", "/_sim/faults")

    aura_env.run_operator()
    obj = aura_env.wait_for("orders", settled, what="settled", timeout=90)
    # The first instance's password was never received: it was deleted and replaced, once.
    discarded = obj["status"]["creation"].get("discardedIds") or []
    assert len(discarded) == 1
    assert discarded[0] not in {i["id"] for i in aura_env.sim_instances()}
    assert len(creates(aura_env)) == 2
    audit(aura_env, ["orders"])


# ---------------------------------------------------------------- the API server goes away


def control_plane(request: pytest.FixtureRequest) -> ControlPlane:
    plane = request.getfixturevalue("cluster")
    if not isinstance(plane, ControlPlane):
        pytest.skip("restarting the API server needs the envtest control plane of make test")
    return plane


def test_api_server_restart_during_a_create(
    aura_env: AuraEnv, request: pytest.FixtureRequest
) -> None:
    plane = control_plane(request)
    aura_env.run_operator()
    aura_env.sim("POST", "/_sim/faults/ambiguous-create", {"mode": "timeout", "hold": 1})
    aura_env.apply("orders")
    wait_created_in_aura(aura_env)
    plane.restart_apiserver(down=12)  # the answer (and the password) arrives while it is down

    aura_env.wait_for("orders", settled, what="settled", timeout=60)
    assert len(creates(aura_env)) == 1
    audit(aura_env, ["orders"])
    assert not re.search(r"Traceback|crashed|daemon.*failed", aura_env.operator_log())


def test_api_server_restart_during_a_resize(
    aura_env: AuraEnv, request: pytest.FixtureRequest
) -> None:
    plane = control_plane(request)
    aura_env.run_operator()
    aura_env.apply("orders")
    aura_env.wait_for("orders", settled, what="settled", timeout=60)
    aura_env.patch("orders", {"spec": {"memory": "4GB"}})
    plane.restart_apiserver(down=12)

    obj = aura_env.wait_for(
        "orders",
        lambda o: settled(o) and o["status"].get("memory") == "4GB",
        what="resized and settled",
        timeout=60,
    )
    assert obj["status"]["state"] == "running"
    assert len(creates(aura_env)) == 1
    audit(aura_env, ["orders"])
