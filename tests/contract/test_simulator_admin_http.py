"""The `/_sim/` admin API over HTTP: every route the README documents, as users' CI calls it."""

from __future__ import annotations

import httpx
import pytest

from aura_simulator import Simulator
from tests.contract.conftest import Api, instance_body, running_instance, wait_gone, wait_status


async def test_health_state_and_config(sim: Simulator, api: Api) -> None:
    http = api.http
    assert (await http.get("/_sim/health")).json() == {"status": "ok"}
    created = await api.create()
    state = (await http.get("/_sim/state")).json()
    assert state["instances"][created["id"]]["password"] == created["password"]
    assert state["config"]["rate_limit"] == 125
    config = (await http.get("/_sim/config")).json()
    assert config["durations"]["creating"] == 90.0
    patched = await http.patch("/_sim/config", json={"rate_limit": 30, "durations": {"pausing": 5}})
    assert patched.status_code == 200
    assert patched.json()["rate_limit"] == 30
    assert patched.json()["durations"]["pausing"] == 5.0
    assert patched.json()["durations"]["creating"] == 90.0
    invalid = await http.patch("/_sim/config", json={"rate_limit": "lots"})
    assert invalid.status_code == 400


async def test_fault_routes(sim: Simulator, api: Api) -> None:
    http = api.http
    added = await http.post(
        "/_sim/faults",
        json={"route": "GET /v1/tenants", "status": 503, "count": 3, "retry_after": 4},
    )
    assert added.status_code == 201
    fault_id = added.json()["id"]
    assert [f["id"] for f in (await http.get("/_sim/faults")).json()] == [fault_id]
    response = await api.get("/v1/tenants")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "4"
    assert (await http.delete(f"/_sim/faults/{fault_id}")).status_code == 200
    assert (await http.delete(f"/_sim/faults/{fault_id}")).status_code == 404
    assert (await api.get("/v1/tenants")).status_code == 200
    await http.post("/_sim/faults", json={"route": "*", "status": 500, "count": None})
    assert (await http.delete("/_sim/faults")).json() == {"cleared": True}
    assert (await api.get("/v1/tenants")).status_code == 200
    bad = await http.post("/_sim/faults", json={"status": 200})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["message"]


async def test_ambiguous_and_failed_create_routes(sim: Simulator, api: Api) -> None:
    http = api.http
    ambiguous = await http.post("/_sim/faults/ambiguous-create", json={"mode": "drop"})
    assert ambiguous.status_code == 201
    with pytest.raises(httpx.RemoteProtocolError):
        await api.post("/v1/instances", json=instance_body(name="dropped"))
    assert [i.name for i in sim.state.instances.values()] == ["dropped"]
    failed = await http.post("/_sim/faults/failed-create", json={"count": 1})
    assert failed.json() == {"failing_creates": 1}
    broken = await api.create(name="broken")
    await wait_status(sim, broken["id"], "loading failed")


async def test_status_console_and_token_routes(sim: Simulator, api: Api) -> None:
    http = api.http
    created = await running_instance(sim, api)
    forced = await http.post(
        f"/_sim/instances/{created['id']}/status", json={"status": "loading failed"}
    )
    assert forced.json()["status"] == "loading failed"
    snapshot_id = sim.instance(created["id"]).snapshots[0].snapshot_id
    snap = await http.post(
        f"/_sim/instances/{created['id']}/snapshots/{snapshot_id}/status",
        json={"status": "Failed"},
    )
    assert snap.status_code == 200
    path = f"/v1/instances/{created['id']}/snapshots/{snapshot_id}"
    assert (await api.get(path)).json()["data"]["status"] == "Failed"
    console = await http.post(f"/_sim/instances/{created['id']}/console", json={"action": "delete"})
    assert console.json()["status"] == "destroying"
    await wait_gone(sim, created["id"])
    unknown = await http.post("/_sim/instances/deadbeef/console", json={"action": "pause"})
    assert unknown.status_code == 404
    expired = await http.post("/_sim/tokens/expire", json={})
    assert expired.json() == {"expired": 1}
    assert (await api.get("/v1/tenants")).status_code == 403


async def test_request_log_and_reset_routes(sim: Simulator, api: Api) -> None:
    http = api.http
    await api.get("/v1/instances")
    log = (await http.get("/_sim/requests")).json()
    assert [(r["method"], r["path"], r["status"], r["client_id"]) for r in log] == [
        ("POST", "/oauth/token", 200, "aura-demo"),
        ("GET", "/v1/instances", 200, "aura-demo"),
    ]
    assert "response_body" not in log[0]
    with_bodies = (await http.get("/_sim/requests", params={"bodies": "1"})).json()
    assert with_bodies[1]["response_body"] == {"data": []}
    assert (await http.delete("/_sim/requests")).status_code == 200
    assert (await http.get("/_sim/requests")).json() == []
    await api.create()
    assert (await http.post("/_sim/reset")).json() == {"reset": True}
    assert (await http.get("/_sim/state")).json()["instances"] == {}
