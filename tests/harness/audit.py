"""The end-of-test audit every chaos test runs: what the fault may never leave behind.

Whatever happened during a test, at its end Aura (the simulator's state and request log) and
Kubernetes (the objects and their Secrets) must agree:

- every live Aura instance belongs to exactly one object (none unowned, none duplicated);
- every object that has an instance has a connection Secret whose password is the instance's;
- no request of a credential reached Aura inside a Retry-After window that Aura gave it;
- every operator process is still running (nothing crashed or exited).
"""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any

from tests.harness.aura_env import AuraEnv
from tests.harness.runners import OperatorProcess

#: Requests already in flight when a 429 was answered may land just after it.
IN_FLIGHT = 0.3


def password_of(env: AuraEnv, obj: dict[str, Any]) -> str | None:
    status = obj.get("status") or {}
    name = status.get("connectionSecretName") or f"{obj['metadata']['name']}-connection"
    secret = env.core.read_namespaced_secret(name, env.namespace)
    raw = (secret.data or {}).get("NEO4J_PASSWORD")
    return base64.b64decode(raw).decode() if raw else None


def audit(
    env: AuraEnv,
    names: list[str],
    *,
    operators: list[OperatorProcess] | None = None,
    retry_after: float | None = None,
) -> None:
    """Assert the invariants above for the objects `names` (objects deleted with
    deletionPolicy Delete are simply not listed: any instance of theirs is unowned)."""
    instances = {i["id"]: i for i in env.sim_instances()}
    owners: Counter[str] = Counter()
    for name in names:
        obj = env.get(name)
        assert obj is not None, f"{name} is gone"
        instance_id = (obj.get("status") or {}).get("instanceId")
        if instance_id is None:
            continue
        owners[instance_id] += 1
        assert instance_id in instances, f"{name} points at {instance_id}, which Aura lacks"
        assert password_of(env, obj) == instances[instance_id]["password"], (
            f"the password in {name}'s Secret is not the live instance's"
        )
    unowned = sorted(set(instances) - set(owners))
    assert unowned == [], f"instances nothing manages (billed, orphaned): {unowned}"
    shared = [i for i, n in owners.items() if n > 1]
    assert shared == [], f"instances claimed by several objects: {shared}"
    if retry_after is not None:
        assert inside_retry_after(env.sim_requests(), retry_after) == []
    for operator in operators if operators is not None else [env.operator]:
        assert operator is not None
        assert operator.process.running, f"the operator exited:\n{operator.log()[-3000:]}"


def inside_retry_after(requests: list[dict[str, Any]], retry_after: float) -> list[str]:
    """Requests sent by a credential while a 429 it got said to wait `retry_after` seconds."""
    by_client: dict[str, list[dict[str, Any]]] = {}
    for r in requests:
        by_client.setdefault(r.get("client_id") or "", []).append(r)
    problems: list[str] = []
    for client_id, log in by_client.items():
        log.sort(key=lambda r: r["time"])
        refused = [r["time"] for r in log if r["status"] == 429]
        for r in log:
            for t in refused:
                if t + IN_FLIGHT < r["time"] < t + retry_after - 0.05:
                    problems.append(
                        f"{client_id}: {r['method']} {r['path']} {r['time'] - t:.2f}s after "
                        f"a 429 that said {retry_after}s"
                    )
                    break
    return problems
