"""How fast do N AuraInstances become Ready on one credential, and what does it cost?

    python -m bench.run --n 50 200 --time-scale 20

For each N it starts a fresh local control plane (etcd + kube-apiserver + controller manager,
binaries from KUBEBUILDER_ASSETS or hack/envtest.sh), the Aura simulator with its durations and
its rate limit scaled by the same factor (so every ratio is that of the real service), and the
operator with its intervals and budget scaled alike. It applies N AuraInstances at once, waits
until all are Ready, keeps running for a steady-state window, and reports, in real-service
time (measured time x time scale):

- time until all N are Ready, against the lower bound that the request budget and the
  provisioning time allow (each instance needs at least one POST and one GET);
- requests sent by kind and 429s received (from the simulator's request log);
- requests per settled instance per hour in steady state (a window of two drift intervals,
  opened one drift interval after the last instance became Ready);
- the operator's peak memory (VmHWM) and CPU time.

Results go to bench/results/ as JSON, a Markdown table and a PNG plot.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client
from tests.harness.controlplane import (
    ControlPlane,
    find_assets,
    install_crds,
    load_crds,
    new_client,
)
from tests.harness.procs import ManagedProcess, free_port, http_ok
from tests.harness.runners import LISTENING, child_env

ROOT = Path(__file__).resolve().parents[1]

AURA_RATE = 125.0  # Aura's limit per client id, requests per minute
BUDGET = 110.0  # the operator's default budget per credential
BURST = 10
CREATE_SECONDS = 90.0  # the simulator's `creating` duration at time scale 1
DRIFT_INTERVAL = 300.0
POLL_INTERVAL = 15.0
GROUP, VERSION, PLURAL = "aura-operator.dev", "v1alpha1", "aurainstances"
SPEC = {
    "type": "professional-db",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "memory": "2GB",
}


@dataclass
class Result:
    n: int
    time_scale: float
    seconds_to_ready: float  # real-service seconds
    bound_seconds: float
    ratio: float
    requests: dict[str, int]
    requests_total: int
    rate_limited: int
    steady_requests_per_instance_hour: float
    drift_interval_seconds: float | None
    peak_rss_mib: float
    cpu_seconds: float  # operator CPU time, measured (not scaled)
    ready_timeline: list[tuple[float, int]] = field(default_factory=list)


def lower_bound(n: int) -> float:
    """Seconds (real-service time) below which no operator could have all N Ready."""
    rate = BUDGET / 60.0
    requests = max(0.0, (2 * n - BURST) / rate)
    last_create = max(0.0, (n - BURST) / rate) + CREATE_SECONDS
    return max(requests, last_create)


def _proc_stats(pid: int) -> tuple[float, float]:
    """(peak resident MiB, CPU seconds) of a live process, from /proc."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            rss = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def _kind(entry: dict[str, Any]) -> str:
    path = entry["path"]
    if path.startswith("/v1/instances/"):
        rest = path.split("/", 4)[4] if path.count("/") > 3 else ""
        path = "/v1/instances/{id}" + (f"/{rest}" if rest else "")
    return f"{entry['method']} {path}"


class Bench:
    def __init__(self, n: int, scale: float, steady: float, workdir: Path) -> None:
        self.n, self.scale, self.steady, self.workdir = n, scale, steady, workdir
        self.procs: list[ManagedProcess] = []
        for old in workdir.glob("*"):  # logs of an earlier run would be read as this one's
            old.unlink()

    def _start_simulator(self) -> str:
        argv = [sys.executable, "-m", "aura_operator", "simulator", "--host", "127.0.0.1"]
        argv += ["--port", "0", "--time-scale", f"{self.scale:g}"]
        argv += ["--rate-limit", f"{AURA_RATE * self.scale:g}"]
        proc = ManagedProcess(
            "aura-simulator", argv, self.workdir / "simulator.log", env=child_env({})
        )
        self.procs.append(proc)
        base_url: str = proc.wait_ready(
            lambda: (m := LISTENING.search(proc.log_path.read_text())) and m.group(1),
            timeout=30,
            what="the simulator",
        )
        # A tenant big enough for the run (the default allows 50 instances).
        config = httpx.get(f"{base_url}/_sim/config").json()
        for tenant in config["tenants"]:
            tenant["instance_limit"] = self.n + 10
        httpx.patch(
            f"{base_url}/_sim/config", json={"tenants": config["tenants"]}
        ).raise_for_status()
        return base_url

    def _start_operator(self, kubeconfig: Path, api_url: str, namespace: str) -> ManagedProcess:
        s = self.scale
        env = child_env(
            {
                "KUBECONFIG": str(kubeconfig),
                "AURA_OPERATOR_API_URL": api_url,
                "AURA_CLIENT_ID": "aura-demo",
                "AURA_CLIENT_SECRET": "aura-demo-secret",
                "AURA_OPERATOR_NAMESPACE": namespace,
                "AURA_OPERATOR_REQUESTS_PER_MINUTE": f"{BUDGET * s:g}",
                "AURA_OPERATOR_POLL_INTERVAL": f"{POLL_INTERVAL / s:g}",
                "AURA_OPERATOR_DRIFT_INTERVAL": f"{DRIFT_INTERVAL / s:g}",
                "AURA_OPERATOR_CREATE_VISIBILITY_WINDOW": f"{30 / s:g}",
                "AURA_OPERATOR_ERROR_BACKOFF_MAX": f"{300 / s:g}",
                "AURA_OPERATOR_TENANT_CACHE_SECONDS": f"{600 / s:g}",
                "AURA_OPERATOR_MAX_INLINE_WAIT": f"{5 / s:g}",
                "AURA_OPERATOR_METRICS_PORT": "0",
            }
        )
        liveness = f"http://127.0.0.1:{free_port()}/healthz"
        argv = [
            sys.executable,
            "-m",
            "aura_operator",
            "run",
            "-n",
            namespace,
            "--liveness",
            liveness,
        ]
        proc = ManagedProcess("aura-operator", argv, self.workdir / "operator.log", env=env)
        self.procs.append(proc)
        proc.wait_ready(lambda: http_ok(liveness), timeout=60, what="the operator")
        return proc

    def run(self) -> Result:
        plane = ControlPlane(find_assets())
        plane.start()
        try:
            api = new_client(plane.kubeconfig)
            install_crds(api, load_crds())
            namespace = "bench"
            core = client.CoreV1Api(api)
            core.create_namespace({"metadata": {"name": namespace}})
            base_url = self._start_simulator()
            operator = self._start_operator(plane.kubeconfig, base_url, namespace)
            return self._measure(api, namespace, base_url, operator)
        finally:
            for proc in reversed(self.procs):
                proc.stop()
            plane.stop()

    def _ready(self, objects: client.CustomObjectsApi, namespace: str) -> tuple[int, list[Any]]:
        items = objects.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]
        ready = sum(
            1
            for o in items
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in (o.get("status") or {}).get("conditions") or []
            )
        )
        return ready, items

    def _drift_interval(self, objects: client.CustomObjectsApi, namespace: str) -> float:
        """The largest drift interval the operator reports (measured seconds; 0 if none)."""
        _, items = self._ready(objects, namespace)
        values = [(o.get("status") or {}).get("driftIntervalSeconds") or 0 for o in items]
        return float(max(values, default=0))

    def _measure(
        self, api: client.ApiClient, namespace: str, base_url: str, operator: ManagedProcess
    ) -> Result:
        objects = client.CustomObjectsApi(api)
        started = time.monotonic()
        (self.workdir / "started").write_text(str(time.time()))
        for i in range(self.n):
            body = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "AuraInstance",
                "metadata": {"name": f"db-{i:04d}"},
                "spec": SPEC,
            }
            objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
        timeline: list[tuple[float, int]] = []
        deadline = started + max(600.0, 20 * lower_bound(self.n) / self.scale)
        while True:
            ready, _ = self._ready(objects, namespace)
            elapsed = time.monotonic() - started
            timeline.append((elapsed * self.scale, ready))
            if ready == self.n:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {ready}/{self.n} Ready after {elapsed:.0f}s")
            time.sleep(0.25)
        to_ready = (time.monotonic() - started) * self.scale
        log = httpx.get(f"{base_url}/_sim/requests").json()
        (self.workdir / "requests.json").write_text(json.dumps(log))
        # Steady state: the window opens once every instance has had its first drift read, and
        # lasts two drift intervals, as stretched for this N (the operator's own figure).
        interval = max(DRIFT_INTERVAL / self.scale, self._drift_interval(objects, namespace))
        time.sleep(interval * 1.2)
        steady_from = time.time()
        window = self.steady or 2 * interval
        time.sleep(window)
        steady_log = [
            e for e in httpx.get(f"{base_url}/_sim/requests").json() if e["time"] >= steady_from
        ]
        drift = self._drift_interval(objects, namespace)
        rss, cpu = _proc_stats(operator.pid)
        kinds = Counter(_kind(e) for e in log)
        steady_hours = window * self.scale / 3600
        bound = lower_bound(self.n)
        return Result(
            n=self.n,
            time_scale=self.scale,
            seconds_to_ready=round(to_ready, 1),
            bound_seconds=round(bound, 1),
            ratio=round(to_ready / bound, 2),
            requests=dict(kinds.most_common()),
            requests_total=len(log),
            rate_limited=sum(1 for e in log if e["status"] == 429),
            steady_requests_per_instance_hour=round(len(steady_log) / self.n / steady_hours, 1),
            drift_interval_seconds=round(drift * self.scale, 1) if drift else None,
            peak_rss_mib=round(rss, 1),
            cpu_seconds=round(cpu, 1),
            ready_timeline=timeline,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument(
        "--steady",
        type=float,
        default=None,
        help="steady-state window in measured seconds (default: two drift intervals)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.n:
        steady = args.steady or 0.0
        workdir = args.out / f"n{n}"
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"bench: N={n}, time scale {args.time_scale:g} ...", flush=True)
        result = Bench(n, args.time_scale, steady, workdir).run()
        results.append(result)
        print(
            f"bench: N={n}: all Ready in {result.seconds_to_ready:.0f}s "
            f"(bound {result.bound_seconds:.0f}s, ratio {result.ratio}), "
            f"{result.requests_total} requests, {result.rate_limited} 429s",
            flush=True,
        )
        (args.out / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=2))
    from bench.report import write_report

    table = write_report(results, args.out)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
