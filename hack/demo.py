#!/usr/bin/env python3
"""`make demo`: the operator at work on this machine, with nothing to install or pay for.

Starts a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager: the
binaries from hack/envtest.sh, built once and cached) and the Aura simulator; installs the CRD,
and the Helm chart's RBAC and credential Secret; runs the operator as the chart's service
account; applies deploy/samples/minimal.yaml; and shows the AuraInstance's progress until it is
Ready, then the Secret's keys (password masked). Everything is stopped at the end, or with
--keep left running until Ctrl-C, with the commands to look around.

    .venv/bin/python -m hack.demo [--keep] [--time-scale N] [--timeout S]   (from the repo root)

It reuses the e2e tests' harness (the `tests.harness` package), so it runs from a clone of the
repository, not from an installed package: the control-plane binaries come from the
repository's scripts.
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient
from tests.chart import RBAC_KINDS, render, tools_dir
from tests.harness.controlplane import (
    ControlPlane,
    find_assets,
    install_crds,
    load_crds,
    new_client,
)
from tests.harness.identity import Applied, ServiceAccountIdentity
from tests.harness.runners import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    start_operator,
    start_simulator,
)

ROOT = Path(__file__).resolve().parents[1]

OPERATOR_NS = "aura-operator"
DEMO_NS = "demo"
SAMPLE = ROOT / "deploy" / "samples" / "minimal.yaml"
GROUP, VERSION, PLURAL = "aura-operator.dev", "v1alpha1", "aurainstances"
SECRET_VALUES_SHOWN = {"NEO4J_USERNAME", "NEO4J_DATABASE", "AURA_INSTANCEID", "AURA_INSTANCENAME",
                       "NEO4J_URI"}  # fmt: skip

STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == type_:
            return dict(cond)
    return {}


def progress_line(obj: dict[str, Any]) -> str:
    status = obj.get("status") or {}
    ready, synced = condition(obj, "Ready"), condition(obj, "Synced")
    parts = [f"state={status.get('state') or '-'}"]
    if ready:
        parts.append(f"Ready={ready['status']} ({ready['reason']})")
    if synced:
        parts.append(f"Synced={synced['status']} ({synced['reason']})")
    message = ready.get("message") or synced.get("message") or "waiting for the operator"
    return f"{obj['metadata']['name']}: {'  '.join(parts)}  {message}"


def kubectl(kubeconfig: Path, *args: str) -> str:
    result = subprocess.run(
        [str(tools_dir() / "kubectl"), f"--kubeconfig={kubeconfig}", *args],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    return (result.stdout + result.stderr).rstrip()


def show_secret(core: client.CoreV1Api, name: str) -> None:
    secret = core.read_namespaced_secret(name, DEMO_NS)
    print(f"\nSecret {DEMO_NS}/{name} (what applications mount):")
    for key in sorted(secret.data or {}):
        value = base64.b64decode(secret.data[key]).decode()
        shown = value if key in SECRET_VALUES_SHOWN else f"{'*' * 8} ({len(value)} characters)"
        print(f"  {key:<18} {shown}")


def install_chart_identity(
    api: client.ApiClient, plane: ControlPlane, workdir: Path
) -> tuple[Path, dict[str, str]]:
    """The chart's credential Secret and RBAC (watching DEMO_NS), and the kubeconfig of its
    service account; returns it with the container's literal environment."""
    core = client.CoreV1Api(api)
    for ns in (OPERATOR_NS, DEMO_NS):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    docs = render(
        {
            "watchNamespaces": [DEMO_NS],
            "aura": {
                "credentials": {"clientId": DEMO_CLIENT_ID, "clientSecret": DEMO_CLIENT_SECRET}
            },
        },
        namespace=OPERATOR_NS,
    )
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    DynamicClient(api).resources.get(api_version="v1", kind="Secret").create(
        body=secret, namespace=OPERATOR_NS
    )
    (sa,) = [d for d in docs if d["kind"] == "ServiceAccount"]
    identity = ServiceAccountIdentity.create(
        api,
        plane.cluster_entry,
        namespace=OPERATOR_NS,
        name=sa["metadata"]["name"],
        manifests=[d for d in docs if d["kind"] in RBAC_KINDS],
        kubeconfig_path=workdir / "operator.kubeconfig",
        applied=Applied(),
    )
    (dep,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = dep["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    return identity.kubeconfig, env


def wait_ready(objects: client.CustomObjectsApi, name: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        obj = objects.get_namespaced_custom_object(GROUP, VERSION, DEMO_NS, PLURAL, name)
        line = progress_line(obj)
        if line != last:
            say(line)
            last = line
        if condition(obj, "Ready").get("status") == "True":
            return dict(obj)
        time.sleep(0.25)
    raise TimeoutError(f"{name} was not Ready after {timeout:.0f}s")


def run(args: argparse.Namespace) -> int:
    print("aura-operator demo: a local Kubernetes API server, the Aura simulator, the operator\n")
    tools_dir()  # fail early, before anything is started, if helm/kubectl cannot be had
    assets = find_assets()
    plane = ControlPlane(assets, workdir=Path(tempfile.mkdtemp(prefix="aura-demo-")))
    simulator = operator = None
    try:
        say(f"starting etcd, kube-apiserver, kube-controller-manager from {assets}")
        plane.start()
        with new_client(plane.kubeconfig) as api:
            install_crds(api, load_crds())
            plane.start_controller_manager()
            say(f"control plane ready at {plane.server}; CRD aurainstances.{GROUP} installed")

            simulator = start_simulator(
                plane.workdir / "aura-simulator.log", time_scale=args.time_scale
            )
            say(
                f"Aura simulator at {simulator.base_url} (time scale {args.time_scale:g}: "
                f"creating an instance takes {90 / args.time_scale:.0f}s instead of 90s)"
            )

            kubeconfig, env = install_chart_identity(api, plane, plane.workdir)
            say(
                f"Helm chart's RBAC and credential Secret applied; the operator runs as "
                f"system:serviceaccount:{OPERATOR_NS}:aura-operator"
            )
            env.update(
                {
                    "AURA_OPERATOR_API_URL": simulator.base_url,
                    "AURA_OPERATOR_NAMESPACE": OPERATOR_NS,
                    "AURA_OPERATOR_POLL_INTERVAL": "1",
                    "AURA_OPERATOR_METRICS_PORT": "0",
                }
            )
            operator = start_operator(
                plane.workdir / "aura-operator.log",
                namespace=DEMO_NS,
                kubeconfig=kubeconfig,
                api_url=simulator.base_url,
                client_id="",
                client_secret="",
                env=env,
                args=("--log-format=full",),
            )
            say(f"operator running, watching namespace {DEMO_NS}")

            sample = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
            name = sample["metadata"]["name"]
            say(f"kubectl apply -n {DEMO_NS} -f {SAMPLE.relative_to(ROOT)}")
            print(kubectl(plane.kubeconfig, "apply", "-n", DEMO_NS, "-f", str(SAMPLE)))
            objects = client.CustomObjectsApi(api)
            wait_ready(objects, name, args.timeout)

            print(f"\n$ kubectl get aurainstances -n {DEMO_NS}")
            print(kubectl(plane.kubeconfig, "get", "aurainstances", "-n", DEMO_NS))
            events = [
                "get", "events", "-n", DEMO_NS, f"--field-selector=involvedObject.name={name}",
                "--sort-by=.firstTimestamp",
                "-o", "custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message",
            ]  # fmt: skip
            print(f"\n$ kubectl {' '.join(events[:5])}")
            print(kubectl(plane.kubeconfig, *events))
            obj = objects.get_namespaced_custom_object(GROUP, VERSION, DEMO_NS, PLURAL, name)
            show_secret(client.CoreV1Api(api), obj["status"]["connectionSecretName"])

            if args.keep:
                keep(plane, simulator.base_url, operator.log_path, name)
        print()
        say("done: stopping the operator, the simulator and the control plane")
        return 0
    except (ApiException, TimeoutError) as exc:
        say(f"failed: {exc}")
        if operator is not None:
            print("\noperator log (last lines):\n" + operator.process.tail(30))
        return 1
    finally:
        for proc in (operator, simulator):
            if proc is not None:
                proc.stop()
        plane.stop()


def keep(plane: ControlPlane, simulator_url: str, operator_log: Path, name: str) -> None:
    tools = tools_dir()
    print(
        f"""
Everything keeps running until you press Ctrl-C. In another terminal:

  export KUBECONFIG={plane.kubeconfig} PATH={tools}:$PATH
  kubectl get aura -n {DEMO_NS} -w
  kubectl patch aura {name} -n {DEMO_NS} --type merge -p '{{"spec":{{"memory":"16GB"}}}}'
  kubectl patch aura {name} -n {DEMO_NS} --type merge -p '{{"spec":{{"paused":true}}}}'
  kubectl delete aura {name} -n {DEMO_NS}
  kubectl apply -n {DEMO_NS} -f {ROOT / "deploy/samples/minimal.yaml"}

  curl -s {simulator_url}/_sim/state          # the Aura side: instances, passwords
  tail -f {operator_log}
"""
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave it running until Ctrl-C")
    parser.add_argument("--time-scale", type=float, default=10.0, help="simulator speed-up")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for Ready")
    args = parser.parse_args()
    os.environ.pop("AURA_E2E_KEEP", None)  # the demo's directory goes with it
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
