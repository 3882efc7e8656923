"""Independent Aura clients work against the simulator unchanged.

Each test replays, with plain httpx, exactly what a real-world client sends (docs/aura-api.md
§5.4): the
official Go CLI (`neo4j/aura-cli`), the Terraform provider and the community Go SDK. Nothing
here is project-specific: documented paths, `Authorization: Bearer`/`bearer`, `{}` bodies.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from aura_simulator import DEMO_TENANT_ID, Simulator
from tests.contract.conftest import _tls, eventually


async def _token(http: httpx.AsyncClient, url: str = "/oauth/token") -> dict[str, Any]:
    basic = base64.b64encode(b"aura-demo:aura-demo-secret").decode()
    response = await http.post(
        url,
        content="grant_type=client_credentials",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_terraform_provider_flow(sim: Simulator) -> None:
    """TF: strict 202s, GET polling where any non-200 means "not yet", PATCH name+memory
    together and then a second PATCH that may be `{}`, `{}` for pause/resume, delete until 404."""
    async with httpx.AsyncClient(base_url=f"{sim.base_url}/v1", verify=_tls()) as http:
        token = (await _token(http, f"{sim.base_url}/oauth/token"))["access_token"]
        http.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "User-Agent": "AuraTerraform/v1.0.0",
            }
        )
        create = await http.post(
            "instances",
            json={
                "name": "tf-instance",
                "version": "5",
                "region": "europe-west1",
                "memory": "2GB",
                "storage": "4GB",
                "type": "professional-db",
                "tenant_id": DEMO_TENANT_ID,
                "cloud_provider": "gcp",
            },
        )
        assert create.status_code == 202
        instance_id = create.json()["data"]["id"]

        async def status_is(expected: str) -> bool:
            response = await http.get(f"instances/{instance_id}")
            return response.status_code == 200 and response.json()["data"]["status"] == expected

        await eventually(lambda: status_is("running"), what="running")
        patch = await http.patch(f"instances/{instance_id}", json={"name": "tf", "memory": "4GB"})
        assert patch.status_code == 202
        await eventually(lambda: status_is("running"), what="running after resize")
        empty = await http.patch(f"instances/{instance_id}", json={})
        assert empty.status_code == 202
        assert (await http.post(f"instances/{instance_id}/pause", json={})).status_code == 202
        await eventually(lambda: status_is("paused"), what="paused")
        assert (await http.post(f"instances/{instance_id}/resume", json={})).status_code == 202
        await eventually(lambda: status_is("running"), what="running after resume")
        assert (await http.delete(f"instances/{instance_id}")).status_code == 202

        async def gone() -> bool:
            return (await http.get(f"instances/{instance_id}")).status_code == 404

        await eventually(gone, what="404 after delete")


async def test_official_cli_flow(sim: Simulator) -> None:
    """The Go CLI: Content-Type on every request, `--await` polling until the status leaves
    `creating`, a bodyless snapshot POST, overwrite with the instance as its own source."""
    async with httpx.AsyncClient(base_url=sim.base_url, verify=_tls()) as http:
        token = (await _token(http))["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "User-Agent": "Neo4jCLI/v1.0.0",
        }
        tenants = (await http.get("/v1/tenants", headers=headers)).json()["data"]
        create = await http.post(
            "/v1/instances",
            headers=headers,
            json={
                "name": "cli",
                "tenant_id": tenants[0]["id"],
                "cloud_provider": "gcp",
                "type": "free-db",
                "region": "europe-west1",
                "memory": "1GB",
                "version": "5",
            },
        )
        assert create.status_code == 202
        instance_id = create.json()["data"]["id"]

        async def settled() -> bool:
            response = await http.get(f"/v1/instances/{instance_id}", headers=headers)
            return response.status_code == 200 and response.json()["data"]["status"] != "creating"

        await eventually(settled, what="the CLI's await condition")
        snapshot = await http.post(f"/v1/instances/{instance_id}/snapshots", headers=headers)
        assert snapshot.status_code == 202
        snapshot_id = snapshot.json()["data"]["snapshot_id"]
        listed = await http.get(f"/v1/instances/{instance_id}/snapshots", headers=headers)
        assert snapshot_id in [s["snapshot_id"] for s in listed.json()["data"]]
        # Free tier: overwrite is refused with 420, which the CLI prints.
        overwrite = await http.post(
            f"/v1/instances/{instance_id}/overwrite",
            headers=headers,
            json={"source_instance_id": instance_id, "source_snapshot_id": snapshot_id},
        )
        assert overwrite.status_code == 420
        assert overwrite.json()["errors"][0]["message"]


async def test_go_sdk_sends_the_token_type_as_the_scheme(sim: Simulator) -> None:
    """GOSDK builds `Authorization: <token_type> <token>`, i.e. lowercase `bearer`."""
    async with httpx.AsyncClient(base_url=sim.base_url, verify=_tls()) as http:
        token = await _token(http)
        headers = {"Authorization": f"{token['token_type']} {token['access_token']}"}
        response = await http.get("/v1/instances", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"data": []}
