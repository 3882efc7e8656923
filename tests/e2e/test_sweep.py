"""The list sweep (issue 14): one GET /v1/instances per credential watches every instance.

Drift reads are made rare here (AURA_OPERATOR_DRIFT_INTERVAL far beyond the test), so whatever
notices a change made in the Aura console is the sweep. The simulator's request log is the
ground truth for what the operator asked and when.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from tests.harness.aura_env import BASE_SPEC, AuraEnv, settled

pytestmark = pytest.mark.e2e

SWEEP = 2.0  # seconds between two lists (real seconds: the test's own time scale)
#: No drift read within a test: the sweep is the only thing watching settled instances.
SWEEP_ONLY = {
    "AURA_OPERATOR_SWEEP_INTERVAL": f"{SWEEP:g}",
    "AURA_OPERATOR_DRIFT_INTERVAL": "600",
    "AURA_OPERATOR_REQUESTS_PER_MINUTE": "600",
}
LIST = ("GET", "/v1/instances")


def _is(request: dict[str, Any], method: str, path: str) -> bool:
    return bool(request["method"] == method and request["path"] == path)


def _settle(aura_env: AuraEnv, name: str) -> dict[str, Any]:
    return aura_env.wait_for(name, settled, what="settled", timeout=60)


def test_an_instance_deleted_in_the_console_is_noticed_within_the_sweep_interval(
    aura_env: AuraEnv,
) -> None:
    aura_env.run_operator(**SWEEP_ONLY)
    aura_env.apply("orders")
    old = _settle(aura_env, "orders")["status"]["instanceId"]
    # Wait until a sweep has listed it, so that its absence is news.
    first_list = time.time()
    aura_env.wait_until(
        lambda: any(_is(r, *LIST) for r in aura_env.sim_requests_since(first_list)),
        what="a sweep",
        timeout=3 * SWEEP + 5,
    )

    deleted_at = time.time()
    aura_env.sim("POST", f"/_sim/instances/{old}/console", {"action": "delete"})
    obj = aura_env.wait_for(
        "orders",
        lambda o: (o.get("status") or {}).get("instanceId") not in (None, old),
        what="a replacement instance",
        timeout=SWEEP + 10,
    )
    assert obj["status"]["instanceId"] != old
    log = aura_env.sim_requests_since(deleted_at)
    # The sweep's list noticed, the object's pass confirmed with a GET (404) before anything
    # was recreated, and only then came the POST.
    confirm = next(
        i for i, r in enumerate(log) if _is(r, "GET", f"/v1/instances/{old}") and r["status"] == 404
    )
    lists = [i for i, r in enumerate(log) if _is(r, *LIST)]
    posts = [i for i, r in enumerate(log) if _is(r, "POST", "/v1/instances")]
    assert lists and lists[0] < confirm < posts[0], log
    # Within a sweep interval (plus the destroying time and a pass) of the console delete.
    assert log[confirm]["time"] - deleted_at <= SWEEP + 3, log
    # Nothing read the old instance before the list said it was gone: no drift read did it.
    assert not [r for r in log[: lists[0]] if r["path"] == f"/v1/instances/{old}"]
    assert "InstanceGone" in [reason for _, reason, _ in aura_env.events("orders")]


def test_an_instance_renamed_in_the_console_gets_its_name_back(aura_env: AuraEnv) -> None:
    aura_env.run_operator(**SWEEP_ONLY)
    aura_env.apply("orders", spec={**BASE_SPEC, "name": "orders-prod"})
    instance_id = _settle(aura_env, "orders")["status"]["instanceId"]

    renamed_at = time.time()
    rename = {"action": "rename", "name": "x"}
    aura_env.sim("POST", f"/_sim/instances/{instance_id}/console", rename)

    def name() -> str:
        state = aura_env.sim("GET", "/_sim/state")["instances"]
        items = state.values() if isinstance(state, dict) else state
        return str(next(i for i in items if i["id"] == instance_id)["name"])

    aura_env.wait_until(lambda: name() == "orders-prod", what="the name restored", timeout=15)
    log = aura_env.sim_requests_since(renamed_at)
    patch = next(i for i, r in enumerate(log) if _is(r, "PATCH", f"/v1/instances/{instance_id}"))
    lists = [i for i, r in enumerate(log) if _is(r, *LIST)]
    assert lists and lists[0] < patch, log
    assert log[patch]["time"] - renamed_at <= SWEEP + 3, log
    # The PATCH followed a GET of the instance made after the list (the pass's own read).
    assert any(_is(r, "GET", f"/v1/instances/{instance_id}") for r in log[lists[0] : patch]), log
    assert "DriftDetected" in [reason for _, reason, _ in aura_env.events("orders")]


def test_a_restart_spends_one_list_and_drift_paced_reads_and_serves_changes_first(
    aura_env: AuraEnv,
) -> None:
    # 120/min with half for drift: 60 drift requests a minute; a list every 4 s (the sweep may
    # take a quarter of that share) leaves 45, so drift reads are at least 1.33 s apart.
    settings = {
        "AURA_OPERATOR_REQUESTS_PER_MINUTE": "120",
        "AURA_OPERATOR_DRIFT_BUDGET_SHARE": "0.5",
        "AURA_OPERATOR_SWEEP_INTERVAL": f"{SWEEP:g}",
        "AURA_OPERATOR_DRIFT_INTERVAL": "8",
        "AURA_OPERATOR_DRIFT_JITTER": "0",
    }
    spacing = 60 / (60 - 15)
    aura_env.run_operator(**settings)
    names = [f"db{i}" for i in range(4)]
    for name in names:
        aura_env.apply(name)
    ids = {name: _settle(aura_env, name)["status"]["instanceId"] for name in names}
    assert aura_env.operator is not None
    aura_env.operator.stop()  # a rolling update: the Lease is released, the next one leads
    # A change made while the operator was away.
    aura_env.patch("db0", {"spec": {"memory": "4GB"}})
    restarted = time.time()
    aura_env.run_operator(**settings)

    aura_env.wait_until(
        lambda: any(
            _is(r, "PATCH", f"/v1/instances/{ids['db0']}")
            for r in aura_env.sim_requests_since(restarted)
        ),
        what="the PATCH of the change made meanwhile",
        timeout=20,
    )
    # One drift interval (8 s) after the new process's first request, and then some: every
    # object re-read once. A request after that point shows the interval is over.
    aura_env.wait_until(
        lambda: (
            (log := aura_env.sim_requests_since(restarted))
            and log[-1]["time"] >= log[0]["time"] + 9
        ),
        what="a request more than one drift interval after the restart",
        timeout=30,
    )
    log = aura_env.sim_requests_since(restarted)
    started = log[0]["time"]  # the new process's first request (its token)
    patch_at = next(r["time"] for r in log if _is(r, "PATCH", f"/v1/instances/{ids['db0']}"))
    assert patch_at - started < 3, "the change waited behind re-reads"
    lists = [r for r in log if _is(r, *LIST)]
    # One list confirms existence at once (then one per sweep interval)...
    assert lists and lists[0]["time"] - started < 3
    assert len(lists) <= (log[-1]["time"] - lists[0]["time"]) / 4 + 2
    # ... and the settled objects are each re-read once in the first drift interval (8 s),
    # at drift pace, not at the full rate (0.5 s apart).
    paths = {f"/v1/instances/{ids[n]}" for n in names[1:]}
    rereads = [r for r in log if r["method"] == "GET" and r["path"] in paths]
    first = {r["path"]: r["time"] for r in reversed(rereads)}
    assert set(first) == paths, log
    early = [r["path"] for r in rereads if r["time"] < started + 8]
    assert len(early) == len(set(early)), "an object was re-read twice in one drift interval"
    gaps = [b - a for a, b in itertools.pairwise(sorted(first.values()))]
    assert min(gaps) >= spacing - 0.2, gaps
