"""What N AuraInstances on one credential cost, and how quickly the operator follows Aura.

    python -m bench.run --n 50 200 --time-scale 10
    python -m bench.run --n 1000 --time-scale 5
    python -m bench.run --n 1000 --credentials 4 --time-scale 5 --ready-only

For each N it starts a fresh local control plane (etcd + kube-apiserver + controller manager,
binaries from KUBEBUILDER_ASSETS or hack/envtest.sh) with 1000 unrelated Secrets and ConfigMaps
in the watched namespace, the Aura simulator with its durations and its rate limit scaled by
the time scale (so every ratio is that of the real service), and the operator with its
intervals and budget scaled alike. Then, in real-service time (measured x time scale) unless
said otherwise:

1. applies N AuraInstances at once: time until all are Ready against the lower bound the budget
   and the creation time allow, requests per instance, 429s, and how long after Aura had each
   instance running its object became Ready;
2. steady state: requests per settled instance-hour over one drift interval, opened 1.2 drift
   intervals after the last Ready;
3. deletes and renames a few instances in the Aura console (the simulator's admin API) at random
   moments: time until the operator acts (the GET that answers 404; the PATCH of the name);
4. changes the memory of ten settled instances: time from the spec change to its PATCH (while
   every other instance is on the drift line), then resize running -> Ready;
5. pauses and resumes five: resume running -> Ready;
6. applies five more, one at a time, with the budget free: apply -> POST (wall seconds: this is
   the operator's own latency and does not scale);
7. peak RSS (VmHWM) and CPU time of the operator so far; then restarts it (SIGTERM) with one
   spec changed meanwhile: requests and minutes until every instance was confirmed (listed by
   the sweep) and re-read, and how soon the change's PATCH went.

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

from bench.measure import (
    Cluster,
    change_latency,
    detection,
    first_after,
    is_ready,
    percentile,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[1]

AURA_RATE = 125.0  # Aura's limit per client id, requests per minute
BUDGET = 110.0  # the operator's default budget per credential
BURST = 10
CREATE_SECONDS = 90.0  # the simulator's durations at time scale 1
UPDATE_SECONDS = 60.0
RESUME_SECONDS = 90.0
PAUSE_SECONDS = 45.0
DRIFT_INTERVAL = 900.0  # the operator's defaults
SWEEP_INTERVAL = 60.0
POLL_INTERVAL = 15.0
NOISE = 1000  # unrelated Secrets and ConfigMaps in the watched namespace
SPEC = {
    "type": "professional-db",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "memory": "2GB",
}


@dataclass
class Result:
    n: int
    credentials: int
    time_scale: float
    seconds_to_ready: float  # real-service seconds
    bound_seconds: float
    ratio: float
    requests: dict[str, int]
    requests_total: int
    rate_limited: int
    create_ready_lag_p95: float | None = None  # Aura running -> Ready, real-service seconds
    steady_requests_per_instance_hour: float | None = None
    drift_interval_seconds: float | None = None
    delete_detect: list[float] = field(default_factory=list)  # real-service seconds
    rename_detect: list[float] = field(default_factory=list)
    change_latency: list[float] = field(default_factory=list)  # real-service seconds
    change_latency_wall: list[float] = field(default_factory=list)  # measured seconds
    resize_ready_lag: list[float] = field(default_factory=list)
    resume_ready_lag: list[float] = field(default_factory=list)
    first_post_wall: list[float] = field(default_factory=list)  # measured seconds
    restart_requests: int | None = None
    restart_listed_seconds: float | None = None  # until one list confirmed every instance
    restart_reread_seconds: float | None = None  # until every instance was re-read
    restart_change_seconds: float | None = None  # a change made meanwhile: restart -> PATCH
    peak_rss_mib: float = 0.0
    cpu_seconds: float = 0.0  # operator CPU time, measured (not scaled)
    ready_timeline: list[tuple[float, int]] = field(default_factory=list)


def lower_bound(n: int) -> float:
    """Seconds (real-service time) below which no operator could have all N Ready on one
    credential: each instance needs at least one POST and one GET."""
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


def _credential(k: int) -> tuple[str, str]:
    return ("aura-demo", "aura-demo-secret") if k == 0 else (f"bench-{k}", f"bench-{k}-secret")


class Bench:
    def __init__(
        self, n: int, scale: float, workdir: Path, *, credentials: int = 1, full: bool = True
    ) -> None:
        self.n, self.scale, self.workdir = n, scale, workdir
        self.credentials, self.full = credentials, full
        self.noise = NOISE
        self.operator_env: dict[str, str] = {}
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
        # A tenant big enough for the run (the default allows 50 instances), and the
        # credentials of a multi-credential run.
        config = httpx.get(f"{base_url}/_sim/config").json()
        for tenant in config["tenants"]:
            tenant["instance_limit"] = self.n + 50
        creds = config["credentials"]
        for k in range(1, self.credentials):
            client_id, secret = _credential(k)
            creds.append({**creds[0], "client_id": client_id, "client_secret": secret})
        httpx.patch(
            f"{base_url}/_sim/config", json={"tenants": config["tenants"], "credentials": creds}
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
                "AURA_OPERATOR_SWEEP_INTERVAL": f"{SWEEP_INTERVAL / s:g}",
                "AURA_OPERATOR_CREATE_VISIBILITY_WINDOW": f"{30 / s:g}",
                "AURA_OPERATOR_ERROR_BACKOFF_MAX": f"{300 / s:g}",
                "AURA_OPERATOR_TENANT_CACHE_SECONDS": f"{600 / s:g}",
                "AURA_OPERATOR_MAX_INLINE_WAIT": f"{5 / s:g}",
                "AURA_OPERATOR_LEASE_DURATION": "10",
                "AURA_OPERATOR_METRICS_PORT": "0",
                **self.operator_env,
            }
        )
        liveness = f"http://127.0.0.1:{free_port()}/healthz"
        argv = [sys.executable, "-m", "aura_operator", "run", "-n", namespace]
        argv += ["--liveness", liveness]
        number = sum(1 for p in self.procs if p.name == "aura-operator")
        log = self.workdir / f"operator-{number}.log"
        proc = ManagedProcess("aura-operator", argv, log, env=env)
        self.procs.append(proc)
        proc.wait_ready(lambda: http_ok(liveness), timeout=60, what="the operator")
        return proc

    def _noise(self, core: client.CoreV1Api, namespace: str) -> None:
        """Unrelated Secrets and ConfigMaps: the operator must not read (or keep) them."""
        data = {"blob": "x" * 1024}
        for i in range(self.noise):
            core.create_namespaced_secret(
                namespace, {"metadata": {"name": f"noise-{i}"}, "stringData": data}
            )
            core.create_namespaced_config_map(
                namespace, {"metadata": {"name": f"noise-{i}"}, "data": data}
            )
        for k in range(1, self.credentials):
            client_id, secret = _credential(k)
            body = {
                "metadata": {"name": f"aura-cred-{k}"},
                "stringData": {"AURA_CLIENT_ID": client_id, "AURA_CLIENT_SECRET": secret},
            }
            core.create_namespaced_secret(namespace, body)

    def run(self) -> Result:
        plane = ControlPlane(find_assets())
        plane.start()
        try:
            api = new_client(plane.kubeconfig)
            install_crds(api, load_crds())
            namespace = "bench"
            core = client.CoreV1Api(api)
            core.create_namespace({"metadata": {"name": namespace}})
            self._noise(core, namespace)
            base_url = self._start_simulator()
            operator = self._start_operator(plane.kubeconfig, base_url, namespace)
            cluster = Cluster(api, namespace, base_url)
            return self._measure(cluster, operator, plane.kubeconfig)
        finally:
            for proc in reversed(self.procs):
                proc.stop()
            plane.stop()

    def _spec(self, i: int) -> dict[str, Any]:
        k = i % self.credentials
        return SPEC if k == 0 else {**SPEC, "credentialsSecretRef": {"name": f"aura-cred-{k}"}}

    def _bound(self) -> float:
        return lower_bound(-(-self.n // self.credentials))

    def _create(
        self, cluster: Cluster, result_timeline: list[tuple[float, int]]
    ) -> dict[str, float]:
        """Apply N at once; when each was first seen Ready (wall time)."""
        started = time.time()
        (self.workdir / "started").write_text(str(started))
        for i in range(self.n):
            cluster.apply(f"db-{i:04d}", self._spec(i))
        ready_at: dict[str, float] = {}
        deadline = time.monotonic() + max(600.0, 20 * self._bound() / self.scale)
        while len(ready_at) < self.n:
            now = time.time()
            for obj in cluster.items():
                if obj["metadata"]["name"] not in ready_at and is_ready(obj):
                    ready_at[obj["metadata"]["name"]] = now
            result_timeline.append(((now - started) * self.scale, len(ready_at)))
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(ready_at)}/{self.n} Ready")
            time.sleep(0.1)
        return ready_at

    def _watch(
        self, cluster: Cluster, names: list[str], test: Any, timeout: float
    ) -> dict[str, float]:
        """When each of `names` first satisfies `test` (wall time)."""
        seen: dict[str, float] = {}

        def poll() -> bool:
            now = time.time()
            for name in names:
                if name not in seen and test(cluster.get(name)):
                    seen[name] = now
            return len(seen) == len(names)

        wait_until(poll, timeout, "the objects", 0.1)
        return seen

    def _measure(self, cluster: Cluster, operator: ManagedProcess, kubeconfig: Path) -> Result:
        s = self.scale
        timeline: list[tuple[float, int]] = []
        started = time.time()
        ready_at = self._create(cluster, timeline)
        to_ready = (max(ready_at.values()) - started) * s
        log = cluster.requests()
        (self.workdir / "requests.json").write_text(json.dumps(log))
        kinds = Counter(_kind(e) for e in log)
        bound = self._bound()
        result = Result(
            n=self.n,
            credentials=self.credentials,
            time_scale=s,
            seconds_to_ready=round(to_ready, 1),
            bound_seconds=round(bound, 1),
            ratio=round(to_ready / bound, 3),
            requests=dict(kinds.most_common()),
            requests_total=len(log),
            rate_limited=sum(1 for e in log if e["status"] == 429),
            ready_timeline=timeline,
        )
        items = {o["metadata"]["name"]: o for o in cluster.items()}
        ids = {name: o["status"]["instanceId"] for name, o in items.items()}
        sim = cluster.sim_instances()
        lags = [
            ready_at[name] - (sim[ids[name]]["created_at"] + CREATE_SECONDS / s)
            for name in ready_at
            if ids[name] in sim
        ]
        result.create_ready_lag_p95 = _real(percentile(lags, 0.95), s)
        if not self.full:
            result.peak_rss_mib, result.cpu_seconds = _proc_stats(operator.pid)
            return result
        self._steady(cluster, result)
        names = sorted(ids)
        spread = SWEEP_INTERVAL / s
        gone = [ids[n] for n in names[0:5]]
        renamed = [ids[n] for n in names[5:10]]
        result.delete_detect = _reals(detection(cluster, gone, "delete", spread, 300 / s), s)
        result.rename_detect = _reals(detection(cluster, renamed, "rename", spread, 300 / s), s)
        self._resize(cluster, result, names[10:20], ids)
        self._resume(cluster, result, names[20:25], ids)
        self._first_posts(cluster, result)
        result.peak_rss_mib, result.cpu_seconds = (round(v, 1) for v in _proc_stats(operator.pid))
        self._restart(cluster, result, operator, kubeconfig, names[25], ids)
        return result

    def _steady(self, cluster: Cluster, result: Result) -> None:
        s = self.scale

        def reported() -> float:
            values = [
                (o.get("status") or {}).get("driftIntervalSeconds") or 0 for o in cluster.items()
            ]
            return float(max(values, default=0))

        interval = max(DRIFT_INTERVAL / s, reported())
        time.sleep(interval * 1.2)
        steady_from = time.time()
        time.sleep(interval)
        steady = cluster.requests(steady_from)
        result.steady_requests_per_instance_hour = round(
            len(steady) / self.n / (interval * s / 3600), 2
        )
        result.drift_interval_seconds = round(reported() * s, 1)

    def _resize(
        self, cluster: Cluster, result: Result, names: list[str], ids: dict[str, str]
    ) -> None:
        s = self.scale
        latencies, made = change_latency(cluster, names, ids, {"memory": "4GB"}, 2 / s)
        result.change_latency_wall = [round(v, 3) for v in latencies]
        result.change_latency = _reals(latencies, s)
        resized = self._watch(
            cluster,
            names,
            lambda o: is_ready(o) and (o.get("status") or {}).get("memory") == "4GB",
            600 / s,
        )
        patched = {n: made[n] + latencies[i] for i, n in enumerate(names)}
        result.resize_ready_lag = _reals(
            [resized[n] - (patched[n] + UPDATE_SECONDS / s) for n in names], s
        )

    def _resume(
        self, cluster: Cluster, result: Result, names: list[str], ids: dict[str, str]
    ) -> None:
        s = self.scale
        for name in names:
            cluster.patch(name, {"paused": True})
        self._watch(
            cluster, names, lambda o: (o.get("status") or {}).get("state") == "paused", 900 / s
        )
        resumed_from = time.time()
        for name in names:
            cluster.patch(name, {"paused": False})
        ready = self._watch(
            cluster,
            names,
            lambda o: is_ready(o) and (o.get("status") or {}).get("state") == "running",
            900 / s,
        )
        log = cluster.requests(resumed_from)
        lags = []
        for name in names:
            sent = first_after(log, resumed_from, "POST", f"/v1/instances/{ids[name]}/resume")
            if sent is not None:
                lags.append(ready[name] - (sent + RESUME_SECONDS / s))
        result.resume_ready_lag = _reals(lags, s)

    def _first_posts(self, cluster: Cluster, result: Result) -> None:
        for i in range(5):
            applied = time.time()
            cluster.apply(f"fresh-{i}", SPEC)
            sent = wait_until(
                lambda applied=applied: first_after(
                    cluster.requests(applied), applied, "POST", "/v1/instances"
                ),
                60,
                "the POST",
                0.05,
            )
            result.first_post_wall.append(round(sent - applied, 3))
            time.sleep(1)

    def _restart(
        self,
        cluster: Cluster,
        result: Result,
        operator: ManagedProcess,
        kubeconfig: Path,
        changed: str,
        ids: dict[str, str],
    ) -> None:
        s = self.scale
        operator.stop(grace=30)
        settled = {
            o["status"]["instanceId"]
            for o in cluster.items()
            if is_ready(o) and (o.get("status") or {}).get("state") == "running"
        }
        cluster.patch(changed, {"memory": "4GB"})
        restarted = time.time()
        self._start_operator(kubeconfig, cluster.sim_url, cluster.namespace)

        def reread() -> float | None:
            log = cluster.requests(restarted)
            seen = {e["path"].rsplit("/", 1)[-1] for e in log if e["method"] == "GET"}
            return log[-1]["time"] if settled <= seen else None

        interval = max(DRIFT_INTERVAL, result.drift_interval_seconds or 0) / s
        done = wait_until(reread, 2 * interval + 120 / s, "every instance re-read", 1.0)
        log = cluster.requests(restarted)
        first = log[0]["time"]
        listed = first_after(log, first, "GET", "/v1/instances")
        patch = first_after(log, first, "PATCH", f"/v1/instances/{ids[changed]}")
        result.restart_requests = sum(1 for e in log if e["time"] <= done)
        result.restart_listed_seconds = _real(None if listed is None else listed - first, s)
        result.restart_reread_seconds = _real(done - first, s)
        result.restart_change_seconds = _real(None if patch is None else patch - first, s)


def _real(value: float | None, scale: float) -> float | None:
    return None if value is None else round(value * scale, 2)


def _reals(values: list[float], scale: float) -> list[float]:
    return [round(v * scale, 2) for v in values]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--time-scale", type=float, default=10.0)
    parser.add_argument("--credentials", type=int, default=1)
    parser.add_argument(
        "--ready-only", action="store_true", help="only the time to Ready (e.g. 4 credentials)"
    )
    parser.add_argument("--noise", type=int, default=NOISE, help="unrelated Secrets/ConfigMaps")
    parser.add_argument(
        "--operator-env", nargs="*", default=[], help="extra KEY=VALUE for the operator"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "results.json"
    results = [Result(**r) for r in json.loads(saved.read_text())] if saved.exists() else []
    for n in args.n:
        tag = f"n{n}" + (f"x{args.credentials}" if args.credentials > 1 else "")
        workdir = args.out / tag
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"bench: N={n} over {args.credentials} credential(s), time scale {args.time_scale:g}")
        bench = Bench(
            n, args.time_scale, workdir, credentials=args.credentials, full=not args.ready_only
        )
        bench.noise = args.noise
        bench.operator_env = dict(kv.split("=", 1) for kv in args.operator_env)
        result = bench.run()
        results = [r for r in results if (r.n, r.credentials) != (result.n, result.credentials)] + [
            result
        ]
        results.sort(key=lambda r: (r.credentials, r.n))
        print(
            f"bench: N={n}: all Ready in {result.seconds_to_ready:.0f}s "
            f"(bound {result.bound_seconds:.0f}s, ratio {result.ratio}), "
            f"{result.requests_total} requests, {result.rate_limited} 429s",
            flush=True,
        )
        saved.write_text(json.dumps([asdict(r) for r in results], indent=2))
    from bench.report import write_report

    print(write_report(results, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
