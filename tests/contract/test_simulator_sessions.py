"""The simulator's Graph Analytics sessions over HTTP (every response is also checked against
the OpenAPI document by the `sim` fixture): get-or-create 202 -> 200 -> 409, the lifecycle
Creating -> Ready -> Expired, attached and standalone placement, list filters, delete, sizing,
the admin hooks and faults on the new routes."""

from __future__ import annotations

from typing import Any

from aura_simulator import DEMO_TENANT_ID, Simulator
from tests.contract.conftest import Api, eventually, running_instance

SESSIONS = "/v1/graph-analytics/sessions"


def standalone(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "people",
        "memory": "8GB",
        "tenant_id": DEMO_TENANT_ID,
        "cloud_provider": "gcp",
        "region": "europe-west1",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def status_of(api: Api, session_id: str) -> str:
    response = await api.get(f"{SESSIONS}/{session_id}")
    assert response.status_code == 200, response.text
    status: str = response.json()["data"]["status"]
    return status


async def ready(sim: Simulator, api: Api, **overrides: Any) -> dict[str, Any]:
    response = await api.post(SESSIONS, json=standalone(**overrides))
    assert response.status_code == 202, response.text
    session: dict[str, Any] = response.json()["data"]
    await eventually(
        lambda: sim.session_status(session["id"]) == "Ready", what="the session to be Ready"
    )
    return session


async def test_get_or_create_is_202_then_200_then_409(sim: Simulator, api: Api) -> None:
    first = await api.post(SESSIONS, json=standalone(ttl="30m"))
    assert first.status_code == 202
    created = first.json()["data"]
    assert created["status"] == "Creating" and created["id"].startswith("s-")
    assert (created["instance_id"], created["user_id"]) == ("", "aura-demo")
    assert "ttl" not in created and "expiry_date" not in created  # as the SPEC's 202 example

    again = await api.post(SESSIONS, json=standalone(ttl="30m0s"))  # the same duration
    assert again.status_code == 200
    assert again.json()["data"]["id"] == created["id"]

    other = await api.post(SESSIONS, json=standalone(memory="4GB", ttl="1h"))
    assert other.status_code == 409
    (error,) = other.json()["errors"]
    assert error["reason"] == ""
    assert error["message"] == (
        f"session `people` already exists for project `{DEMO_TENANT_ID}` with different "
        "parameters: Memory (is: 8GB, requested: 4GB), TTL (is: 30m0s, requested: 1h0m0s)"
    )
    assert len(sim.state.sessions) == 1


async def test_lifecycle_creating_ready_then_expired_after_the_ttl(
    sim: Simulator, api: Api
) -> None:
    # 60 s of creating and a 10 min TTL are 60 ms and 600 ms at the tests' time scale (the
    # exact instants are in test_simulator_session_clock.py).
    response = await api.post(SESSIONS, json=standalone(ttl="10m"))
    session_id = response.json()["data"]["id"]
    assert response.json()["data"]["status"] == "Creating"
    await eventually(lambda: sim.session_status(session_id) == "Ready", what="Ready")
    body = (await api.get(f"{SESSIONS}/{session_id}")).json()["data"]
    assert body["ttl"] == "10m0s" and body["host"].startswith(session_id)
    assert body["expiry_date"] > body["created_at"]
    await eventually(lambda: sim.session_status(session_id) == "Expired", what="Expired")
    assert await status_of(api, session_id) == "Expired"
    # An expired session is still found by its name (200, status Expired) until deleted.
    again = await api.post(SESSIONS, json=standalone(ttl="10m"))
    assert (again.status_code, again.json()["data"]["status"]) == (200, "Expired")


async def test_the_default_ttl_is_one_hour(sim: Simulator, api: Api) -> None:
    session = await ready(sim, api)
    assert (await api.get(f"{SESSIONS}/{session['id']}")).json()["data"]["ttl"] == "1h0m0s"
    conflict = await api.post(SESSIONS, json=standalone(ttl="1h0m1s"))
    assert conflict.status_code == 409


async def test_an_attached_session_takes_its_instance_placement(sim: Simulator, api: Api) -> None:
    instance = await running_instance(sim, api, type="enterprise-ds", memory="8GB")
    response = await api.post(
        SESSIONS, json={"name": "fraud", "memory": "16GB", "instance_id": instance["id"]}
    )
    assert response.status_code == 202, response.text
    session = response.json()["data"]
    assert session["id"].startswith(f"{instance['id']}-")
    assert (session["instance_id"], session["tenant_id"]) == (instance["id"], DEMO_TENANT_ID)
    assert (session["cloud_provider"], session["region"]) == ("gcp", "europe-west1")
    assert session["database_uuid"]
    listed = (await api.get(SESSIONS, params={"instanceId": instance["id"]})).json()["data"]
    assert [s["id"] for s in listed] == [session["id"]]
    await ready(sim, api, name="standalone")
    assert len((await api.get(SESSIONS, params={"tenantId": DEMO_TENANT_ID})).json()["data"]) == 2
    assert (await api.get(SESSIONS, params={"instanceId": "00000000"})).status_code == 404
    moved = await api.post(
        SESSIONS,
        json={"name": "fraud", "memory": "16GB", "instance_id": instance["id"], "region": "x"},
    )
    assert moved.status_code == 400 and moved.json()["errors"][0]["field"] == "region"


async def test_invalid_bodies_are_400_naming_the_field(sim: Simulator, api: Api) -> None:
    cases = {
        "name": standalone(name=""),
        "memory": standalone(memory="3GB"),
        "ttl": standalone(ttl="soon"),
        "region": standalone(region="mars-north1"),
        "cloud_provider": standalone(cloud_provider="ibm"),
        "instance_id": {"name": "x", "memory": "8GB", "instance_id": "00000000"},
    }
    for field, body in cases.items():
        response = await api.post(SESSIONS, json=body)
        assert response.status_code == 400, (field, response.text)
        assert response.json()["errors"][0]["field"] == field
    missing = {k: v for k, v in standalone().items() if k != "region"}
    assert (await api.post(SESSIONS, json=missing)).status_code == 400
    unsupported = await api.post(SESSIONS, content=b"{}", headers={"Content-Type": "text/plain"})
    assert unsupported.status_code == 415
    assert sim.state.sessions == {}


async def test_delete_is_202_then_404(sim: Simulator, api: Api) -> None:
    session = await ready(sim, api)
    path = f"{SESSIONS}/{session['id']}"
    deleted = await api.delete(path)
    assert (deleted.status_code, deleted.json()["data"]) == (202, {"id": session["id"]})
    gone = await api.get(path)
    assert gone.status_code == 404
    assert gone.json()["errors"] == [
        {"message": f"session with id `{session['id']}` not found", "reason": ""}
    ]
    assert (await api.delete(path)).status_code == 404
    assert (await api.get(SESSIONS)).json()["data"] == []
    recreated = await api.post(SESSIONS, json=standalone())
    assert recreated.status_code == 202 and recreated.json()["data"]["id"] != session["id"]


async def test_sizing_is_deterministic_and_documented(sim: Simulator, api: Api) -> None:
    example = {  # the SPEC's example request
        "node_count": 1000000,
        "node_property_count": 512,
        "node_label_count": 3,
        "relationship_count": 5000000,
        "relationship_property_count": 5,
        "algorithm_categories": ["similarity", "community-detection"],
    }
    answers = [(await api.post(f"{SESSIONS}/sizing", json=example)).json() for _ in range(2)]
    # (1e6 * (40 + 8*512 + 8*3) + 5e6 * (24 + 8*5)) * (1 + 1.0 + 0.75) bytes = 11.5 GiB
    assert (
        answers[0]
        == answers[1]
        == {"data": {"estimated_memory": "12GB", "recommended_size": "16GB"}}
    )
    small = await api.post(f"{SESSIONS}/sizing", json={"node_count": 10, "relationship_count": 5})
    assert small.json()["data"] == {"estimated_memory": "1GB", "recommended_size": "2GB"}
    for body, field in (
        ({"relationship_count": 5}, "node_count"),
        ({"node_count": -1, "relationship_count": 5}, "node_count"),
        (
            {"node_count": 1, "relationship_count": 1, "algorithm_categories": ["x"]},
            "algorithm_categories",
        ),
        ({"node_count": 10**12, "relationship_count": 1}, "node_count"),
    ):
        refused = await api.post(f"{SESSIONS}/sizing", json=body)
        assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == field


async def test_admin_expires_fails_and_keeps_sessions_alive(sim: Simulator, api: Api) -> None:
    session = await ready(sim, api, ttl="24h")
    response = await api.http.post(f"/_sim/sessions/{session['id']}/expire")
    assert response.status_code == 200 and response.json()["status"] == "Expired"
    assert await status_of(api, session["id"]) == "Expired"
    assert (await api.http.post("/_sim/sessions/nope/expire")).status_code == 404

    failing = await api.http.post("/_sim/faults/failed-session-create", json={"count": 1})
    assert failing.status_code == 201
    failed = await api.post(SESSIONS, json=standalone(name="broken"))
    failed_id = failed.json()["data"]["id"]
    await eventually(lambda: sim.session_status(failed_id) == "Failed", what="Failed")
    fine = await ready(sim, api, name="fine")  # the count was 1
    assert sim.session_status(fine["id"]) == "Ready"

    kept = await ready(sim, api, name="kept", ttl="5m")  # 300 ms at the tests' time scale
    await eventually(lambda: sim.session_status(kept["id"]) == "Expired", what="idle expiry")
    sim.force_session_status(kept["id"], "Ready")
    assert await status_of(api, kept["id"]) == "Ready"
    wrong = await api.http.post(f"/_sim/sessions/{kept['id']}/status", json={"status": "Gone"})
    assert wrong.status_code == 400
    pinned = await api.http.post(f"/_sim/sessions/{kept['id']}/status", json={"status": "Failed"})
    assert pinned.json()["status"] == "Failed" and await status_of(api, kept["id"]) == "Failed"


async def test_activity_over_http_revives_the_ttl(sim: Simulator, api: Api) -> None:
    session = await ready(sim, api, ttl="10m")  # 600 ms at the tests' time scale
    touched = await api.http.post(f"/_sim/sessions/{session['id']}/activity")
    assert touched.status_code == 200 and touched.json()["status"] == "Ready"
    record = sim.session(session["id"])
    assert record.active_at is not None and record.active_at >= record.ready_at


async def test_faults_on_the_session_routes(sim: Simulator, api: Api) -> None:
    sim.inject_fault(f"POST {SESSIONS}", status=503)
    refused = await api.post(SESSIONS, json=standalone())
    assert refused.status_code == 503 and sim.state.sessions == {}  # answered instead of the API
    ambiguous = await api.http.post("/_sim/faults/ambiguous-create", json={"resource": "sessions"})
    assert ambiguous.status_code == 201 and ambiguous.json()["route"] == f"POST {SESSIONS}"
    lost = await api.post(SESSIONS, json=standalone())
    assert lost.status_code == 502
    (session,) = sim.state.sessions.values()  # the create happened
    found = await api.post(SESSIONS, json=standalone())
    assert (found.status_code, found.json()["data"]["id"]) == (200, session.id)
    sim.inject_fault(f"GET {SESSIONS}/*", status=500, count=1)
    assert (await api.get(f"{SESSIONS}/{session.id}")).status_code == 500
    assert (await api.get(f"{SESSIONS}/{session.id}")).status_code == 200


def test_sessions_survive_a_state_file(tmp_path: Any) -> None:
    from aura_simulator.runtime import Runtime

    runtime = Runtime(state_file=tmp_path / "state.json")
    runtime.state.get_or_create_session(standalone(), None, "aura-demo")
    runtime.save()
    loaded = Runtime(state_file=tmp_path / "state.json")
    assert [s.name for s in loaded.state.sessions.values()] == ["people"]
    loaded.reset()
    assert loaded.state.sessions == {}
