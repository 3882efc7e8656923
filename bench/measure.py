"""The benchmark's measurements, one function per figure, over a running control plane,
simulator and operator (bench/run.py starts them). Times are measured (wall) seconds here;
run.py converts what scales into real-service time."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from kubernetes import client

GROUP, VERSION, PLURAL = "aura-operator.dev", "v1alpha1", "aurainstances"


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation; None without values."""
    ordered = sorted(values)
    if not ordered:
        return None
    pos = q * (len(ordered) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def is_ready(obj: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


@dataclass
class Cluster:
    """What the measurements talk to."""

    api: client.ApiClient
    namespace: str
    sim_url: str

    @property
    def objects(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def items(self) -> list[dict[str, Any]]:
        result = self.objects.list_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL)
        items: list[dict[str, Any]] = result["items"]
        return items

    def get(self, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = self.objects.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, name
        )
        return obj

    def apply(self, name: str, spec: dict[str, Any]) -> None:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "AuraInstance",
            "metadata": {"name": name},
            "spec": spec,
        }
        self.objects.create_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, body)

    def patch(self, name: str, spec: dict[str, Any]) -> None:
        self.objects.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            name,
            {"spec": spec},
            _content_type="application/merge-patch+json",
        )

    def requests(self, since: float = 0.0) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = httpx.get(f"{self.sim_url}/_sim/requests", timeout=60).json()
        return [e for e in log if e["time"] >= since]

    def sim_instances(self) -> dict[str, dict[str, Any]]:
        state = httpx.get(f"{self.sim_url}/_sim/state", timeout=60).json()
        instances: dict[str, dict[str, Any]] = state["instances"]
        return instances

    def console(self, instance_id: str, action: str, **fields: str) -> None:
        httpx.post(
            f"{self.sim_url}/_sim/instances/{instance_id}/console",
            json={"action": action, **fields},
            timeout=30,
        ).raise_for_status()


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def first_after(
    log: list[dict[str, Any]], since: float, method: str, path: str, status: int | None = None
) -> float | None:
    for entry in log:
        if (
            entry["time"] >= since
            and entry["method"] == method
            and entry["path"] == path
            and (status is None or entry["status"] == status)
        ):
            return float(entry["time"])
    return None


def watch_ready(
    cluster: Cluster, names: set[str], since: float, timeout: float
) -> dict[str, float]:
    """When each of `names` was first seen Ready=True after `since` (polling the list)."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(names):
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(seen)}/{len(names)} Ready")
        now = time.time()
        for obj in cluster.items():
            name = obj["metadata"]["name"]
            if name in names and name not in seen and now > since and is_ready(obj):
                seen[name] = now
        time.sleep(0.2)
    return seen


def detection(
    cluster: Cluster, ids: list[str], action: str, spread: float, timeout: float
) -> list[float]:
    """Delete or rename `ids` in the console at random moments over `spread` seconds; returns
    how long the operator took to act on each: the GET that answers 404 (delete) or the PATCH
    that restores the name (rename)."""
    rng = random.Random(14)
    done: list[tuple[str, float]] = []
    for instance_id in ids:
        time.sleep(rng.uniform(0, spread / len(ids)))
        at = time.time()
        if action == "delete":
            cluster.console(instance_id, "delete")
        else:
            cluster.console(instance_id, "rename", name=f"renamed-{instance_id}")
        done.append((instance_id, at))

    def acted() -> list[float] | None:
        log = cluster.requests(done[0][1])
        found = []
        for instance_id, at in done:
            path = f"/v1/instances/{instance_id}"
            if action == "delete":
                when = first_after(log, at, "GET", path, 404)
            else:
                when = first_after(log, at, "PATCH", path)
            if when is None:
                return None
            found.append(when - at)
        return found

    result: list[float] = wait_until(acted, timeout, f"the operator to notice each {action}", 1.0)
    return result


def change_latency(
    cluster: Cluster, names: list[str], ids: dict[str, str], spec: dict[str, Any], gap: float
) -> tuple[list[float], dict[str, float]]:
    """Patch each object's spec, `gap` seconds apart; returns the seconds from each patch to
    the PATCH it causes in Aura, and when each patch was made."""
    made: dict[str, float] = {}
    for name in names:
        made[name] = time.time()
        cluster.patch(name, spec)
        time.sleep(gap)

    def sent() -> list[float] | None:
        log = cluster.requests(min(made.values()))
        found = []
        for name in names:
            when = first_after(log, made[name], "PATCH", f"/v1/instances/{ids[name]}")
            if when is None:
                return None
            found.append(when - made[name])
        return found

    latencies: list[float] = wait_until(sent, 120, "the PATCHes", 0.5)
    return latencies, made
