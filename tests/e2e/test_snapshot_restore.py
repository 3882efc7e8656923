"""AuraSnapshot, AuraRestore and the upgrade on a real API server, under the chart's RBAC, with
the operator as a process and the simulator over HTTP. What Aura was asked is read from the
simulator's request log: each POST exactly once, refusals send nothing, a finished restore
never acts again."""

from __future__ import annotations

import time
from typing import Any

from tests.harness.aura_env import GROUP, VERSION, AuraEnv, is_true

SNAPSHOTS, RESTORES = "aurasnapshots", "aurarestores"


def create(env: AuraEnv, plural: str, kind: str, name: str, spec: dict[str, Any]) -> None:
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": {"name": name},
            "spec": spec}  # fmt: skip
    env.objects.create_namespaced_custom_object(GROUP, VERSION, env.namespace, plural, body)


def get(env: AuraEnv, plural: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = env.objects.get_namespaced_custom_object(
        GROUP, VERSION, env.namespace, plural, name
    )
    return obj


def wait_status(
    env: AuraEnv, plural: str, name: str, check: Any, what: str, timeout: float = 40.0
) -> dict[str, Any]:
    def fresh() -> dict[str, Any] | None:
        obj = get(env, plural, name)
        return obj if check(obj.get("status") or {}) else None

    return env.wait_until(fresh, what=f"{what} on {plural}/{name}", timeout=timeout)


def snapshot_ready(env: AuraEnv, name: str) -> dict[str, Any]:
    return wait_status(env, SNAPSHOTS, name, lambda s: s.get("state") == "Completed", "Completed")


def synced_reason(status: dict[str, Any]) -> str | None:
    return next((c["reason"] for c in status.get("conditions", []) if c["type"] == "Synced"), None)


def posts(env: AuraEnv, since: float) -> list[str]:
    """The POSTs that reached Aura since `since`, without the token requests, as 'POST path'."""
    return [
        f"POST {r['path']}"
        for r in env.sim_requests_since(since)
        if r["method"] == "POST" and r["path"].startswith("/v1/")
    ]


def ready_instance(env: AuraEnv, name: str, **spec: Any) -> str:
    env.apply(name, {"type": "professional-db", "cloudProvider": "gcp", "region": "europe-west1",
                     "memory": "2GB", **spec})  # fmt: skip
    obj = env.wait_ready(name)
    instance_id: str = obj["status"]["instanceId"]
    return instance_id


def test_one_snapshot_post_even_when_its_answer_is_lost(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    instance_id = ready_instance(aura_env, "orders")
    lost = {"route": "POST /v1/instances/*/snapshots", "status": 502, "body": "gateway",
            "after": True}  # fmt: skip
    aura_env.sim("POST", "/_sim/faults", lost)
    since = time.time()
    create(aura_env, SNAPSHOTS, "AuraSnapshot", "before", {"instanceRef": {"name": "orders"}})
    status = snapshot_ready(aura_env, "before")["status"]
    assert posts(aura_env, since) == [f"POST /v1/instances/{instance_id}/snapshots"]
    assert status["instanceId"] == instance_id and status["profile"] == "AdHoc"
    aura_env.wait_event("before", "Recovered")


def test_restore_snapshots_first_then_restores_once_and_never_again(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    instance_id = ready_instance(aura_env, "orders")
    create(aura_env, SNAPSHOTS, "AuraSnapshot", "before", {"instanceRef": {"name": "orders"}})
    snapshot_id = snapshot_ready(aura_env, "before")["status"]["snapshotId"]
    since = time.time()
    create(aura_env, RESTORES, "AuraRestore", "undo",
           {"instanceRef": {"name": "orders"}, "snapshotRef": {"name": "before"}})  # fmt: skip
    seen = aura_env.wait_until(
        lambda: (aura_env.get("orders") or {}).get("status", {}).get("conditions") and next(
            (c["reason"] for c in aura_env.get("orders")["status"]["conditions"]
             if c["type"] == "Ready" and c["reason"] in ("Restoring",)), None),
        what="the target showing Ready=False Restoring",
    )  # fmt: skip
    assert seen == "Restoring"
    status = wait_status(aura_env, RESTORES, "undo", lambda s: s.get("phase") == "Completed",
                         "phase Completed")["status"]  # fmt: skip
    aura_env.wait_ready("orders")
    assert posts(aura_env, since) == [
        f"POST /v1/instances/{instance_id}/snapshots",
        f"POST /v1/instances/{instance_id}/snapshots/{snapshot_id}/restore",
    ]
    assert status["safetySnapshotId"] and status["snapshotId"] == snapshot_id
    assert status["startedAt"] and status["completedAt"]
    # Argo CD re-applies it (a label, an annotation): a completed restore never acts again.
    again = time.time()
    aura_env.objects.patch_namespaced_custom_object(
        GROUP, VERSION, aura_env.namespace, RESTORES, "undo",
        {"metadata": {"labels": {"argocd.argoproj.io/instance": "shop"}}},
        _content_type="application/merge-patch+json",
    )  # fmt: skip
    aura_env.wait_until(lambda: time.time() > again + 3, what="three seconds", timeout=5)
    assert posts(aura_env, again) == []
    assert get(aura_env, RESTORES, "undo")["status"]["phase"] == "Completed"


def test_every_refusal_sends_nothing(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    big = ready_instance(aura_env, "big", memory="4GB")
    ready_instance(aura_env, "small")
    paused = {"type": "professional-db", "cloudProvider": "gcp", "region": "europe-west1",
              "memory": "2GB", "paused": True}  # fmt: skip
    aura_env.apply("paused", paused)
    aura_env.wait_for(
        "paused", lambda o: (o.get("status") or {}).get("state") == "paused", what="paused"
    )
    ready_instance(aura_env, "watched")  # then adopted below by an ObserveOnly object
    watched_id = aura_env.get("watched")["status"]["instanceId"]  # type: ignore[index]
    aura_env.apply("observed", {"instanceId": watched_id, "managementPolicy": "ObserveOnly"})
    aura_env.wait_ready("observed")
    aura_env.apply("skipped", {"instanceId": watched_id, "managementPolicy": "Full"},
                   annotations={"aura-operator.dev/reconcile": "skip"})  # fmt: skip
    free = ready_instance(aura_env, "free", type="free-db", memory="1GB")
    create(aura_env, SNAPSHOTS, "AuraSnapshot", "of-big", {"instanceRef": {"name": "big"}})
    big_snapshot = snapshot_ready(aura_env, "of-big")["status"]["snapshotId"]
    scheduled = aura_env.wait_until(
        lambda: next((s["snapshot_id"] for s in aura_env.sim("GET", "/_sim/state")["instances"]
                      [free]["snapshots"] if s["profile"] == "Scheduled"), None),
        what="the free instance's scheduled snapshot",
    )  # fmt: skip

    since = time.time()
    refusals = {
        "observe-only": {"instanceRef": {"name": "observed"}, "snapshotRef": {"name": "of-big"}},
        "skipped": {"instanceRef": {"name": "skipped"}, "snapshotRef": {"name": "of-big"}},
        "paused": {"instanceRef": {"name": "paused"}, "snapshotRef": {"name": "of-big"}},
        "free": {"instanceRef": {"name": "free"}, "snapshotId": scheduled},
        "other-instance": {"instanceRef": {"name": "small"}, "snapshotRef": {"name": "of-big"}},
        "smaller": {"instanceRef": {"name": "small"},
                    "source": {"instanceId": big, "snapshotId": big_snapshot}},
        "not-exportable": {"instanceRef": {"name": "big"},
                           "source": {"instanceId": free, "snapshotId": scheduled}},
    }  # fmt: skip
    for name, spec in refusals.items():
        create(aura_env, RESTORES, "AuraRestore", name, {**spec, "snapshotFirst": True})
    create(aura_env, SNAPSHOTS, "AuraSnapshot", "of-paused", {"instanceRef": {"name": "paused"}})
    create(aura_env, SNAPSHOTS, "AuraSnapshot", "of-free", {"instanceId": free})
    create(aura_env, SNAPSHOTS, "AuraSnapshot", "of-nothing", {"instanceId": "0000dead"})
    # An AuraInstance that never gets an instance (a region the tenant does not offer).
    aura_env.apply("nowhere", {"type": "professional-db", "cloudProvider": "gcp",
                               "region": "nowhere-1", "memory": "2GB"})  # fmt: skip
    create(aura_env, SNAPSHOTS, "AuraSnapshot", "waits", {"instanceRef": {"name": "nowhere"}})
    messages = {}
    for name in refusals:
        status = wait_status(aura_env, RESTORES, name, lambda s: s.get("phase") == "Failed",
                             "phase Failed")["status"]  # fmt: skip
        assert synced_reason(status) == "InvalidSpec", (name, status)
        messages[name] = next(c["message"] for c in status["conditions"] if c["type"] == "Ready")
    for name in ("of-paused", "of-free", "of-nothing"):
        status = wait_status(
            aura_env, SNAPSHOTS, name, lambda s: synced_reason(s) == "InvalidSpec", "InvalidSpec"
        )["status"]
        messages[name] = next(c["message"] for c in status["conditions"] if c["type"] == "Synced")
    # An AuraSnapshot of an AuraInstance with no Aura instance yet waits: Pending, no error.
    waiting = wait_status(aura_env, SNAPSHOTS, "waits", lambda s: s.get("conditions"), "a status")
    assert synced_reason(waiting["status"]) == "ReconcileSuccess"
    assert posts(aura_env, since) == []
    assert "ObserveOnly" in messages["observe-only"] and "skip" in messages["skipped"]
    assert "paused" in messages["paused"] and "free-db" in messages["free"]
    assert "use spec.source" in messages["other-instance"]
    assert "smaller" in messages["smaller"] and "not exportable" in messages["not-exportable"]
    assert "spec.instanceRef.name" in messages["of-paused"] and "free-db" in messages["of-free"]
    assert "spec.instanceId" in messages["of-nothing"]


def test_upgrade_to_business_critical_sends_one_post(aura_env: AuraEnv) -> None:
    aura_env.run_operator()
    instance_id = ready_instance(aura_env, "orders")
    since = time.time()
    aura_env.patch("orders", {"spec": {"type": "business-critical"}})
    aura_env.wait_event("orders", "Upgraded")
    obj = aura_env.wait_for(
        "orders", lambda o: o["status"].get("type") == "business-critical" and is_true(o, "Ready"),
        what="type business-critical and Ready",
    )  # fmt: skip
    assert obj["status"]["instanceId"] == instance_id
    assert posts(aura_env, since) == [f"POST /v1/instances/{instance_id}/upgrade"]
    # Any other type change stays InvalidSpec, with nothing sent.
    again = time.time()
    aura_env.patch("orders", {"spec": {"type": "enterprise-db"}})
    aura_env.wait_for("orders", lambda o: any(c["reason"] == "InvalidSpec"
                      for c in o["status"]["conditions"]), what="InvalidSpec")  # fmt: skip
    assert posts(aura_env, again) == []
