"""The Kubernetes claim store (aura_operator.kube.claim_store) on a real API server: the same
guarantees tests/unit/test_claims.py assumes of the in-memory store (an atomic create, a delete
fenced on uid and resourceVersion), and the claim flows over it with real concurrency (threads)
and real manager objects, whose deletion makes their claims stale."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from aura_operator.kinds.instance.model import PLURAL
from aura_operator.kube.api import KubeError
from aura_operator.kube.claim_store import KubeClaimStore, KubeManagerLookup
from aura_operator.runtime.claims import (
    AlreadyManaged,
    AuraObject,
    ClaimChanged,
    ClaimExists,
    ClaimRecord,
    Held,
    ManagerRef,
    Released,
    claim,
    release,
)
from aura_operator.runtime.model import GROUP, VERSION
from tests.e2e.test_install_rbac import install, operator_namespace  # noqa: F401 - a fixture
from tests.harness.controlplane import new_client

X = AuraObject("instance", "1fa1930f")


def make_manager(api: client.ApiClient, namespace: str, name: str) -> ManagerRef:
    """An AuraInstance that adopts an instance id (no operator runs here: it stays as made)."""
    body: dict[str, Any] = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AuraInstance",
        "metadata": {"name": name},
        "spec": {"instanceId": "1fa1930f"},
    }
    made = client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, body
    )
    return ManagerRef("AuraInstance", namespace, name, made["metadata"]["uid"])


def delete_manager(api: client.ApiClient, ref: ManagerRef) -> None:
    client.CustomObjectsApi(api).delete_namespaced_custom_object(
        GROUP, VERSION, ref.namespace, PLURAL, ref.name
    )


async def test_create_is_atomic_and_delete_is_fenced(
    admin_api: client.ApiClient, namespace: str
) -> None:
    store = KubeClaimStore(namespace, admin_api)
    me = ManagerRef("AuraInstance", "bars", "owner", "uid-owner")
    assert await store.get(X) is None
    stored = await store.create(ClaimRecord(X, me, "2026-12-04T05:00:00Z"))
    assert stored.uid and stored.resource_version
    assert await store.get(X) == stored
    config_map = client.CoreV1Api(admin_api).read_namespaced_config_map(stored.name, namespace)
    assert config_map.metadata.name == "aura-claim-instance-1fa1930f"
    assert config_map.metadata.labels == {
        "app.kubernetes.io/managed-by": "aura-operator",
        "aura-operator.dev/claim": "instance",
    }
    assert config_map.data["managerUid"] == "uid-owner"
    with pytest.raises(ClaimExists):
        await store.create(ClaimRecord(X, me, "2026-12-04T05:00:01Z"))
    with pytest.raises(ClaimChanged):  # same name, another resourceVersion
        await store.delete(
            ClaimRecord(X, me, "t", stored.uid, str(int(stored.resource_version) + 1))
        )
    assert await store.delete(stored)
    assert await store.delete(stored) is False
    again = await store.create(ClaimRecord(X, me, "t"))
    with pytest.raises(ClaimChanged):  # the old claim's uid: a new ConfigMap is not deleted
        await store.delete(stored)
    assert await store.get(X) == again


async def test_concurrent_claimants_make_one_manager_and_a_deleted_one_is_taken_over(
    admin_api: client.ApiClient, namespace: str
) -> None:
    store, lookup = KubeClaimStore(namespace, admin_api), KubeManagerLookup(admin_api)
    managers = [make_manager(admin_api, namespace, f"claimant-{i}") for i in range(4)]
    for round_ in range(5):
        target = AuraObject("instance", f"race{round_}")
        results = await asyncio.gather(*(claim(store, target, m, lookup) for m in managers))
        (held,) = [r for r in results if isinstance(r, Held)]
        refused = [r for r in results if isinstance(r, AlreadyManaged)]
        assert len(refused) == 3 and {r.manager for r in refused} == {held.claim.manager}
        stored = await store.get(target)
        assert stored is not None and stored.manager == held.claim.manager

    # The manager of race0 is deleted without releasing: the next claimant takes over.
    first = await store.get(AuraObject("instance", "race0"))
    assert first is not None
    delete_manager(admin_api, first.manager)
    others = [m for m in managers if m != first.manager]
    results = await asyncio.gather(
        *(claim(store, AuraObject("instance", "race0"), m, lookup) for m in others)
    )
    (held,) = [r for r in results if isinstance(r, Held)]
    assert held.created and held.taken_over_from in (first.manager, None)
    assert all(r.manager == held.claim.manager for r in results if isinstance(r, AlreadyManaged))

    # Released by its holder, the claim is gone, and the next claimant makes a new one.
    target = AuraObject("instance", "race1")
    holder = await store.get(target)
    assert holder is not None
    released = await release(store, target, holder.manager)
    assert isinstance(released, Released) and released.claim == holder
    assert await store.get(target) is None
    newcomer = next(m for m in others if m != holder.manager)
    after = await claim(store, target, newcomer, lookup)
    assert isinstance(after, Held) and after.created and after.taken_over_from is None


async def test_the_charts_identity_claims_by_name_in_its_namespace_and_nothing_more(
    admin_api: client.ApiClient,
    namespace: str,
    operator_namespace: str,  # noqa: F811 - the fixture imported above
    service_account_kubeconfig: Callable[..., Path],
) -> None:
    kubeconfig, _, _ = install(
        admin_api, service_account_kubeconfig, operator_namespace=operator_namespace,
        watched=namespace,
    )  # fmt: skip
    owner, copycat = (make_manager(admin_api, namespace, n) for n in ("owner", "copycat"))
    with new_client(kubeconfig) as chart_api:
        store, lookup = KubeClaimStore(operator_namespace, chart_api), KubeManagerLookup(chart_api)
        held = await claim(store, X, owner, lookup)
        assert isinstance(held, Held) and held.created
        refused = await claim(store, X, copycat, lookup)
        assert isinstance(refused, AlreadyManaged) and refused.manager == owner
        assert isinstance(await release(store, X, owner), Released)
        # Claims are read by name only, and only in the operator's namespace.
        with pytest.raises(ApiException) as listed:
            client.CoreV1Api(chart_api).list_namespaced_config_map(operator_namespace)
        assert listed.value.status == 403
        with pytest.raises(KubeError) as elsewhere:
            await KubeClaimStore(namespace, chart_api).get(X)
        assert elsewhere.value.status == 403
