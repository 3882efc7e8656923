"""Everything an operator e2e test needs: a namespace, the simulator, the operator under RBAC.

`AuraEnv` is what tests talk to. It applies AuraInstances with the admin identity (as a user
would), runs the operator as a separate process under the RBAC the Helm chart grants, and reads
what a user sees: the object's status and conditions, its events, its Secret. The simulator's
admin API (`/_sim/...`) is the Aura side's ground truth: its state and request log.
"""

from __future__ import annotations

import base64
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.chart import operator_rbac
from tests.harness.runners import OperatorProcess, SimulatorProcess

T = TypeVar("T")

GROUP, VERSION, PLURAL = "aura-operator.dev", "v1alpha1", "aurainstances"
TIME_SCALE = 100.0

#: Operator settings that match the simulator's time scale.
FAST_SETTINGS = {
    "AURA_OPERATOR_POLL_INTERVAL": "0.3",
    "AURA_OPERATOR_DRIFT_INTERVAL": "3",
    "AURA_OPERATOR_CREATE_VISIBILITY_WINDOW": "2",
    "AURA_OPERATOR_ERROR_BACKOFF_MAX": "3",
    "AURA_OPERATOR_TENANT_CACHE_SECONDS": "0",
    "AURA_OPERATOR_METRICS_PORT": "0",
}

BASE_SPEC = {
    "type": "professional-db",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "memory": "2GB",
}


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == type_:
            return dict(cond)
    return {}


def is_true(obj: dict[str, Any], type_: str) -> bool:
    return condition(obj, type_).get("status") == "True"


def synced(obj: dict[str, Any], reason: str, status: str = "True") -> bool:
    cond = condition(obj, "Synced")
    return cond.get("status") == status and cond.get("reason") == reason


def settled(obj: dict[str, Any]) -> bool:
    """Ready, Synced and the spec's current generation fully applied."""
    return (
        is_true(obj, "Ready")
        and synced(obj, "ReconcileSuccess")
        and (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]
    )


def observed_since(obj: dict[str, Any], since: float) -> bool:
    """The status describes a read of Aura made at or after `since` (epoch seconds): a status
    written before an event (a restart, a change in the console) does not pass for one after."""
    stamp = (obj.get("status") or {}).get("observedAt")
    if not stamp:
        return False
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() >= since


@dataclass
class AuraEnv:
    namespace: str
    admin_api: client.ApiClient
    simulator: SimulatorProcess
    kubeconfig: Path
    start_operator: Callable[..., OperatorProcess]
    operator_env: dict[str, str] = field(default_factory=dict)
    operator: OperatorProcess | None = None

    @property
    def objects(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.admin_api)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.admin_api)

    # ------------------------------------------------------------- operator

    def run_operator(self, **env: str) -> OperatorProcess:
        self.operator = self.start_operator(
            self.kubeconfig,
            self.simulator.base_url,
            env={**FAST_SETTINGS, **self.operator_env, **env},
        )
        return self.operator

    def kill_operator(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as in a node failure."""
        assert self.operator is not None
        os.kill(self.operator.process.pid, signal.SIGKILL)
        self.operator.stop()

    def operator_log(self) -> str:
        return self.operator.log() if self.operator else ""

    # --------------------------------------------------------- AuraInstances

    def apply(self, name: str, spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "AuraInstance",
            "metadata": {"name": name, **meta},
            "spec": dict(BASE_SPEC if spec is None else spec),
        }
        result: dict[str, Any] = self.objects.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, body
        )
        return result

    def get(self, name: str) -> dict[str, Any] | None:
        """The object as the API server has it now. Right after an API server restart (the
        chaos tests make one) a read may meet a dropped keep-alive connection or a server
        still warming up: such reads are tried again for a few seconds, as kubectl would."""
        deadline = time.monotonic() + 15.0
        while True:
            try:
                obj: dict[str, Any] = self.objects.get_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, PLURAL, name
                )
            except ApiException as exc:
                if exc.status == 404:
                    return None
                if exc.status not in (403, 429, 500, 503) or time.monotonic() > deadline:
                    raise
            except urllib3.exceptions.HTTPError:
                if time.monotonic() > deadline:
                    raise
            else:
                return obj
            time.sleep(0.5)

    def patch(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.objects.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            name,
            patch,
            _content_type="application/merge-patch+json",
        )
        return result

    def delete(self, name: str) -> None:
        self.objects.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name)

    def wait_for(
        self,
        name: str,
        predicate: Callable[[dict[str, Any]], Any],
        *,
        what: str,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Poll the object until `predicate` holds; fail with its status and the operator log."""
        deadline = time.monotonic() + timeout
        obj: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            obj = self.get(name)
            if obj is not None and predicate(obj):
                return obj
            time.sleep(0.2)
        status = (obj or {}).get("status")
        pytest.fail(
            f"timed out after {timeout}s waiting for {what} on {name}\nstatus: {status}\n"
            f"operator log tail:\n{self.operator_log()[-4000:]}"
        )

    def wait_ready(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        return self.wait_for(
            name, lambda o: is_true(o, "Ready"), what="Ready=True", timeout=timeout
        )

    def wait_gone(self, name: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get(name) is None:
                return
            time.sleep(0.2)
        meta = (self.get(name) or {}).get("metadata") or {}
        pytest.fail(
            f"{name} still exists after {timeout}s (finalizers {meta.get('finalizers')}, "
            f"annotations {meta.get('annotations')})\n{self.operator_log()[-4000:]}"
        )

    def events(self, name: str) -> list[tuple[str, str, str]]:
        """(type, reason, message) of the events on the object, oldest first."""
        items = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        ).items
        items.sort(key=lambda e: (e.first_timestamp or e.event_time or 0, e.metadata.name))
        return [(e.type, e.reason, e.message) for e in items]

    def wait_event(self, name: str, reason: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, event_reason, message in self.events(name):
                if event_reason == reason:
                    return message
            time.sleep(0.2)
        pytest.fail(
            f"no {reason} event on {name} after {timeout}s; events: {self.events(name)}\n"
            f"{self.operator_log()[-4000:]}"
        )

    # --------------------------------------------------------------- Secrets

    def secret(self, name: str, namespace: str | None = None) -> dict[str, str] | None:
        try:
            secret = self.core.read_namespaced_secret(name, namespace or self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}

    def secret_object(self, name: str) -> client.V1Secret:
        return self.core.read_namespaced_secret(name, self.namespace)

    # ------------------------------------------------------------- simulator

    def sim(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(method, f"{self.simulator.base_url}{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def sim_instances(self) -> list[dict[str, Any]]:
        """Instances that exist in Aura now (not deleted)."""
        state = self.sim("GET", "/_sim/state")
        instances = state["instances"]
        items = instances.values() if isinstance(instances, dict) else instances
        return [i for i in items if i.get("status") != "destroying"]

    def sim_create_by_hand(self, name: str, spec: dict[str, str] | None = None) -> str:
        """Create an instance with the demo credential, as a person with curl would."""
        token = httpx.post(
            f"{self.simulator.base_url}/oauth/token",
            auth=("aura-demo", "aura-demo-secret"),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        tenant = self.sim("GET", "/_sim/state")["config"]["tenants"][0]["id"]
        body = {
            "name": name,
            "version": "5",
            "region": "europe-west1",
            "memory": "2GB",
            "type": "professional-db",
            "tenant_id": tenant,
            "cloud_provider": "gcp",
            **(spec or {}),
        }
        response = httpx.post(
            f"{self.simulator.base_url}/v1/instances",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        instance_id: str = response.json()["data"]["id"]
        return instance_id

    def sim_requests(self) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = self.sim("GET", "/_sim/requests")
        return requests

    def sim_requests_since(
        self, since: float, client_id: str | None = "aura-demo"
    ) -> list[dict[str, Any]]:
        """Requests that reached the simulator at or after `since` (time.time()), oldest first,
        of `client_id` (None: of anyone)."""
        return [
            r
            for r in self.sim_requests()
            if r["time"] >= since and (client_id is None or r["client_id"] == client_id)
        ]

    def wait_until(
        self, predicate: Callable[[], T | None], *, what: str, timeout: float = 30.0
    ) -> T:
        """Poll `predicate` (e.g. over the simulator's state) until it returns a truthy value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        pytest.fail(
            f"timed out after {timeout}s waiting for {what}\n"
            f"operator log tail:\n{self.operator_log()[-4000:]}"
        )


def make_env(
    namespace: str,
    admin_api: client.ApiClient,
    start_aura_simulator: Callable[..., SimulatorProcess],
    service_account_kubeconfig: Callable[..., Path],
    run_operator: Callable[..., OperatorProcess],
) -> Iterator[AuraEnv]:
    simulator = start_aura_simulator(time_scale=TIME_SCALE)
    # Exactly the RBAC the Helm chart grants an operator watching this namespace: a permission
    # the chart lacks fails the test that needs it.
    kubeconfig = service_account_kubeconfig(operator_rbac(namespace))
    yield AuraEnv(namespace, admin_api, simulator, kubeconfig, run_operator)
