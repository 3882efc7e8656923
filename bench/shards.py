"""What sharding costs: N AuraInstances handled by one process, then by two releases with
`--selector shard=a` / `shard=b` and one credential each (docs/scale-out.md).

    python -m bench.shards --n 40 --time-scale 10

For each layout (1 shard, 2 shards) a fresh control plane, simulator and operator(s), set up
and scaled as bench/run.py does (real-service time = measured x time scale). Half the objects
are labelled shard=a, half shard=b; the single process selects them all. Measured: time until
all are Ready; Aura requests per instance until then; steady-state requests per instance-hour
over one drift interval; requests per credential; peak RSS and CPU of each process. Results go
to bench/results/shards.json and a Markdown table (printed).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kubernetes import client
from tests.harness.controlplane import (
    ControlPlane,
    find_assets,
    install_crds,
    load_crds,
    new_client,
)
from tests.harness.procs import ManagedProcess

from bench.measure import GROUP, PLURAL, VERSION, Cluster, is_ready, wait_until
from bench.run import DRIFT_INTERVAL, ROOT, SPEC, Bench, _credential, _proc_stats

NAMESPACE = "bench"


@dataclass
class Layout:
    shards: int
    n: int
    time_scale: float
    seconds_to_ready: float  # real-service seconds
    requests_to_ready_per_instance: float
    steady_requests_per_instance_hour: float
    requests_by_credential: dict[str, int]
    peak_rss_mib: list[float]
    cpu_seconds: list[float]


def _apply(cluster: Cluster, n: int) -> None:
    for i in range(n):
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "AuraInstance",
            "metadata": {"name": f"db-{i:03d}", "labels": {"shard": "ab"[i % 2]}},
            "spec": SPEC,
        }
        cluster.objects.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL, body)


def _aura(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in requests if r["path"].startswith("/v1/")]


def measure(shards: int, n: int, scale: float, workdir: Path) -> Layout:
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(n, scale, workdir, credentials=2, full=False)
    bench.noise = 0
    plane = ControlPlane(find_assets())
    plane.start()
    try:
        api = new_client(plane.kubeconfig)
        install_crds(api, load_crds())
        client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
        base_url = bench._start_simulator()
        operators: list[ManagedProcess] = []
        for k in range(shards):
            client_id, secret = _credential(k)
            bench.operator_env = {
                "AURA_CLIENT_ID": client_id,
                "AURA_CLIENT_SECRET": secret,
                "AURA_OPERATOR_LEASE_NAME": f"shard-{'ab'[k]}",
                **({"AURA_OPERATOR_SELECTOR": f"shard={'ab'[k]}"} if shards > 1 else {}),
            }
            operators.append(bench._start_operator(plane.kubeconfig, base_url, NAMESPACE))
        cluster = Cluster(api, NAMESPACE, base_url)
        started = time.time()
        _apply(cluster, n)
        wait_until(
            lambda: sum(1 for o in cluster.items() if is_ready(o)) == n,
            timeout=600,
            what="every instance Ready",
        )
        ready = time.time()
        to_ready = _aura(cluster.requests(started))
        window = DRIFT_INTERVAL / scale
        time.sleep(window)  # a measurement window, not a wait for a condition
        steady = [r for r in _aura(cluster.requests(ready)) if r["time"] < ready + window]
        stats = [_proc_stats(p.process.pid) for p in operators]
        return Layout(
            shards=shards,
            n=n,
            time_scale=scale,
            seconds_to_ready=(ready - started) * scale,
            requests_to_ready_per_instance=len(to_ready) / n,
            steady_requests_per_instance_hour=len(steady) / n / (window * scale / 3600),
            requests_by_credential=dict(Counter(str(r["client_id"]) for r in to_ready + steady)),
            peak_rss_mib=[round(rss, 1) for rss, _ in stats],
            cpu_seconds=[round(cpu, 1) for _, cpu in stats],
        )
    finally:
        for proc in reversed(bench.procs):
            proc.stop()
        plane.stop()


def table(layouts: list[Layout]) -> str:
    rows = [
        "| shards | instances | all Ready (min) | requests per instance until Ready | "
        "steady requests per instance-hour | requests per credential | peak RSS per process "
        "(MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in layouts:
        per_credential = ", ".join(f"{k}: {v}" for k, v in sorted(r.requests_by_credential.items()))
        rows.append(
            f"| {r.shards} | {r.n} | {r.seconds_to_ready / 60:.1f} | "
            f"{r.requests_to_ready_per_instance:.2f} | {r.steady_requests_per_instance_hour:.2f} | "
            f"{per_credential} | {', '.join(f'{m:.0f}' for m in r.peak_rss_mib)} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--time-scale", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    layouts = [
        measure(shards, args.n, args.time_scale, args.out / f"shards-{shards}") for shards in (1, 2)
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "shards.json").write_text(json.dumps([asdict(r) for r in layouts], indent=2))
    print(table(layouts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
