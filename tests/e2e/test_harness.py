"""The e2e harness itself, against the real API server: CRDs served, schema defaults and
validation, generation semantics of the status subresource, owner-reference garbage collection,
and RBAC of the service-account identity.

These are the guarantees the operator's e2e tests build on; each would fail if the harness (or the
CRD in crds/) did not provide it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.harness.controlplane import load_crds, new_client
from tests.harness.procs import wait_until

pytestmark = pytest.mark.e2e

GROUP, VERSION, PLURAL, KIND = "aura-operator.dev", "v1alpha1", "aurainstances", "AuraInstance"
CREATE_SPEC = {
    "type": "professional-db",
    "cloudProvider": "gcp",
    "region": "europe-west1",
    "memory": "8GB",
}
GC_TIMEOUT = 60.0


def aura_instance(name: str, /, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {"name": name},
        "spec": {**CREATE_SPEC, **spec},
    }


@pytest.fixture
def objects(admin_api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(admin_api)


def create(objects: client.CustomObjectsApi, namespace: str, body: dict[str, Any]) -> Any:
    return objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def test_crd_from_crds_dir_is_served(admin_api: client.ApiClient) -> None:
    names = {crd["metadata"]["name"] for crd in load_crds()}
    assert f"{PLURAL}.{GROUP}" in names
    crd = client.ApiextensionsV1Api(admin_api).read_custom_resource_definition(f"{PLURAL}.{GROUP}")
    conditions = {c.type: c.status for c in crd.status.conditions}
    assert conditions.get("Established") == "True"
    assert conditions.get("NamesAccepted") == "True"

    served = client.CustomObjectsApi(admin_api).get_api_resources(GROUP, VERSION)
    by_name = {r.name: r for r in served.resources}
    resource = by_name[PLURAL]
    assert resource.kind == KIND
    assert resource.namespaced is True
    assert resource.short_names == ["aura"]
    assert resource.categories == ["neo4j"]
    assert f"{PLURAL}/status" in by_name


def test_printer_columns(
    admin_api: client.ApiClient, objects: client.CustomObjectsApi, namespace: str
) -> None:
    create(objects, namespace, aura_instance("orders"))
    # What `kubectl get aura` shows: the server renders the printer columns as a Table.
    method, url, headers, _, _ = admin_api.param_serialize(
        "GET",
        f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}",
        header_params={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
        auth_settings=["BearerToken"],
    )
    response = admin_api.call_api(method, url, header_params=headers)
    response.read()
    assert response.status == 200
    table = json.loads(response.data)
    assert table["kind"] == "Table"
    # kubectl shows the priority-0 columns; `-o wide` adds the others.
    definitions = table["columnDefinitions"]
    shown = [c["name"] for c in definitions if c.get("priority", 0) == 0]
    assert shown == ["Name", "Ready", "State", "Type", "Memory", "Instance ID", "Age"]
    wide = [c["name"] for c in definitions if c.get("priority", 0) > 0]
    assert wide == ["Protected"]
    assert [row["cells"][0] for row in table["rows"]] == ["orders"]


def test_custom_resource_gets_schema_defaults(
    objects: client.CustomObjectsApi, namespace: str
) -> None:
    create(objects, namespace, aura_instance("orders", connectionSecret={"name": "orders-db"}))
    stored = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "orders")
    spec = stored["spec"]
    assert spec["version"] == "5"
    assert spec["paused"] is False
    assert spec["managementPolicy"] == "Full"
    # No schema default: an unset deletionPolicy means "the operator's configured default".
    assert "deletionPolicy" not in spec
    assert spec["connectionSecret"] == {"name": "orders-db"}


def test_unknown_fields_are_pruned(objects: client.CustomObjectsApi, namespace: str) -> None:
    create(objects, namespace, aura_instance("orders", memoryy="16GB"))
    stored = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "orders")
    assert "memoryy" not in stored["spec"]
    assert stored["spec"]["memory"] == "8GB"


# The API server's own words, as of v1.20; alternatives cover the wording of later versions.
INVALID = {
    "bad-type": ({"type": "enterprise"}, "spec.type", r'Unsupported value: "enterprise"'),
    "bad-cloud-provider": ({"cloudProvider": "ibm"}, "spec.cloudProvider", r"Unsupported value"),
    "bad-cdc-mode": ({"cdcEnrichmentMode": "PARTIAL"}, "spec.cdcEnrichmentMode", r"Unsupported"),
    "bad-memory": ({"memory": "8G"}, "spec.memory", r"should match '\^\[0-9\]\+GB\$'"),
    "bad-storage": ({"storage": "16gb"}, "spec.storage", r"should match '\^\[0-9\]\+GB\$'"),
    "name-too-long": ({"name": "n" * 31}, "spec.name", r"(at most|longer than|more than) 30"),
    "name-empty": ({"name": ""}, "spec.name", r"at least 1 chars? long"),
    "name-leading-space": ({"name": " orders"}, "spec.name", r"should match"),
    "negative-secondaries": (
        {"secondariesCount": -1},
        "spec.secondariesCount",
        r"greater than or equal to 0",
    ),
    "bad-deletion-policy": ({"deletionPolicy": "Orphan"}, "spec.deletionPolicy", r"Unsupported"),
    # source.snapshotId without source.instanceId is no longer a schema error (source may be a
    # snapshotRef instead): a CEL rule (tests/unit/test_crd_cel.py) and the run-time check
    # (validation.check_required) refuse it, which v1.20 does not run.
}


@pytest.mark.parametrize(("spec", "field", "pattern"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_custom_resource_is_rejected(
    objects: client.CustomObjectsApi,
    namespace: str,
    spec: dict[str, Any],
    field: str,
    pattern: str,
) -> None:
    with pytest.raises(ApiException) as raised:
        create(objects, namespace, aura_instance("orders", **spec))
    assert raised.value.status == 422
    message = json.loads(raised.value.body)["message"]
    assert field in message
    assert re.search(pattern, message), message
    listed = objects.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    assert listed["items"] == []


def test_status_patch_keeps_generation_and_spec_patch_bumps_it(
    objects: client.CustomObjectsApi, namespace: str
) -> None:
    created = create(objects, namespace, aura_instance("orders"))
    generation = created["metadata"]["generation"]
    status = {
        "state": "creating",
        "observedGeneration": generation,
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "Creating",
                "message": "the instance is being created",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "observedGeneration": generation,
            }
        ],
    }
    after_status = objects.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "orders", {"status": status}
    )
    assert after_status["metadata"]["generation"] == generation
    assert after_status["status"]["state"] == "creating"
    assert after_status["status"]["conditions"][0]["reason"] == "Creating"

    # Status written through the main resource is ignored: only the subresource sets it.
    ignored = objects.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "orders", {"status": {"state": "running"}}
    )
    assert ignored["status"]["state"] == "creating"
    assert ignored["metadata"]["generation"] == generation

    after_spec = objects.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "orders", {"spec": {"memory": "16GB"}}
    )
    assert after_spec["metadata"]["generation"] == generation + 1
    assert after_spec["spec"]["memory"] == "16GB"
    assert after_spec["status"]["state"] == "creating"


def test_owned_secret_is_garbage_collected_after_owner_deletion(
    admin_api: client.ApiClient, objects: client.CustomObjectsApi, namespace: str
) -> None:
    owner = create(objects, namespace, aura_instance("orders"))
    core = client.CoreV1Api(admin_api)
    reference = client.V1OwnerReference(
        api_version=f"{GROUP}/{VERSION}",
        kind=KIND,
        name="orders",
        uid=owner["metadata"]["uid"],
        controller=True,
        block_owner_deletion=True,
    )
    for name, owners in (("orders-connection", [reference]), ("unowned", None)):
        core.create_namespaced_secret(
            namespace,
            client.V1Secret(
                metadata=client.V1ObjectMeta(name=name, owner_references=owners),
                string_data={"NEO4J_URI": "neo4j+s://example.databases.neo4j.io"},
            ),
        )

    objects.delete_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "orders", propagation_policy="Background"
    )

    def secret_gone() -> bool:
        try:
            core.read_namespaced_secret("orders-connection", namespace)
        except ApiException as exc:
            if exc.status == 404:
                return True
            raise
        return False

    wait_until(secret_gone, timeout=GC_TIMEOUT, what="the owned Secret to be garbage-collected")
    assert core.read_namespaced_secret("unowned", namespace).metadata.name == "unowned"


def read_only_role(namespace: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "aura-reader", "namespace": namespace},
            "rules": [
                {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list", "watch"]},
                {"apiGroups": [GROUP], "resources": [f"{PLURAL}/status"], "verbs": ["patch"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "aura-reader", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "aura-reader",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "aura-operator"}],
        },
    ]


@pytest.fixture
def reader_api(
    service_account_kubeconfig: Callable[..., Path], namespace: str
) -> Iterator[client.ApiClient]:
    kubeconfig = service_account_kubeconfig(read_only_role(namespace))
    with new_client(kubeconfig) as api:
        yield api


def forbidden(call: Callable[[], object]) -> str:
    """The API server's message for a call that must be refused with 403."""
    with pytest.raises(ApiException) as raised:
        call()
    assert raised.value.status == 403, raised.value.body
    return str(json.loads(raised.value.body)["message"])


def test_service_account_is_refused_what_its_role_does_not_grant(
    reader_api: client.ApiClient, objects: client.CustomObjectsApi, namespace: str
) -> None:
    user = f"system:serviceaccount:{namespace}:aura-operator"
    as_reader = client.CustomObjectsApi(reader_api)
    core = client.CoreV1Api(reader_api)

    message = forbidden(lambda: core.list_namespaced_secret(namespace))
    assert f'User "{user}" cannot list resource "secrets"' in message
    message = forbidden(
        lambda: as_reader.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, aura_instance("orders")
        )
    )
    assert f'User "{user}" cannot create resource "{PLURAL}"' in message
    # A Role grants nothing outside its namespace.
    message = forbidden(
        lambda: as_reader.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    )
    assert 'in the namespace "default"' in message


def test_service_account_is_allowed_what_its_role_grants(
    reader_api: client.ApiClient, objects: client.CustomObjectsApi, namespace: str
) -> None:
    create(objects, namespace, aura_instance("orders"))
    as_reader = client.CustomObjectsApi(reader_api)
    listed = as_reader.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["orders"]
    patched = as_reader.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "orders", {"status": {"state": "running"}}
    )
    assert patched["status"]["state"] == "running"
    # ...but not the spec: the Role grants patch on the status subresource only.
    forbidden(
        lambda: as_reader.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "orders", {"spec": {"memory": "16GB"}}
        )
    )


def server_keeps_cel_rules(api: client.ApiClient) -> bool:
    """Whether the server kept the CRD's rules (1.25+) or dropped them as unknown (v1.20)."""
    crd = client.ApiextensionsV1Api(api).read_custom_resource_definition(f"{PLURAL}.{GROUP}")
    spec_schema = crd.spec.versions[0].schema.open_apiv3_schema.properties["spec"]
    return bool(spec_schema.x_kubernetes_validations)


def test_cel_rules_are_enforced_only_where_the_server_keeps_them(
    admin_api: client.ApiClient, objects: client.CustomObjectsApi, namespace: str
) -> None:
    """The gap the README states: a v1.20 server accepts a change of an immutable field."""
    create(objects, namespace, aura_instance("orders"))
    change = {"spec": {"region": "europe-west2"}}
    if server_keeps_cel_rules(admin_api):
        with pytest.raises(ApiException) as raised:
            objects.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, "orders", change
            )
        assert raised.value.status == 422
        assert "region is immutable" in json.loads(raised.value.body)["message"]
    else:
        patched = objects.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "orders", change
        )
        assert patched["spec"]["region"] == "europe-west2"
