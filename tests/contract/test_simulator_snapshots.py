"""Snapshots over real HTTP: create, capitalised statuses, list by date, restore in place
(docs/aura-api.md §3.3, §6.15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aura_simulator import Simulator
from tests.contract.conftest import Api, eventually, running_instance, wait_status


async def test_snapshot_goes_pending_in_progress_completed(sim: Simulator, api: Api) -> None:
    sim.update_config(durations={"snapshot_pending": 300.0, "snapshot_in_progress": 300.0})
    created = await running_instance(sim, api)
    base = f"/v1/instances/{created['id']}/snapshots"
    response = await api.post(base)
    assert response.status_code == 202
    snapshot_id = response.json()["data"]["snapshot_id"]
    assert response.json() == {"data": {"snapshot_id": snapshot_id}}
    seen: list[str] = []

    async def completed() -> bool:
        body = (await api.get(f"{base}/{snapshot_id}")).json()["data"]
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        return bool(body["status"] == "Completed")

    await eventually(completed, what="the snapshot to complete")
    assert seen == ["Pending", "InProgress", "Completed"]
    snapshot = (await api.get(f"{base}/{snapshot_id}")).json()["data"]
    assert snapshot["profile"] == "AdHoc"
    assert snapshot["instance_id"] == created["id"]
    assert snapshot["exportable"] is True


async def test_list_defaults_to_today_and_filters_by_date(sim: Simulator, api: Api) -> None:
    created = await running_instance(sim, api)
    base = f"/v1/instances/{created['id']}/snapshots"
    adhoc = (await api.post(base)).json()["data"]["snapshot_id"]
    today = (await api.get(base)).json()["data"]
    profiles = {s["snapshot_id"]: s["profile"] for s in today}
    # A Scheduled snapshot is taken when the instance first runs (DOC-SNAP, TF data source).
    assert sorted(profiles.values()) == ["AdHoc", "Scheduled"]
    assert profiles[adhoc] == "AdHoc"
    now = datetime.now(UTC).date()
    same = (await api.get(base, params={"date": now.isoformat()})).json()["data"]
    assert {s["snapshot_id"] for s in same} == set(profiles)
    yesterday = (now - timedelta(days=1)).isoformat()
    assert (await api.get(base, params={"date": yesterday})).json()["data"] == []
    malformed = await api.get(base, params={"date": "26/11/2026"})
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "date"


async def test_snapshot_not_found_and_instance_not_found(sim: Simulator, api: Api) -> None:
    created = await running_instance(sim, api)
    missing = await api.get(f"/v1/instances/{created['id']}/snapshots/nope")
    assert missing.status_code == 404
    assert missing.json()["errors"][0] == {
        "message": "Snapshot not found: nope",
        "reason": "snapshot-not-found",
    }
    no_instance = await api.get("/v1/instances/deadbeef/snapshots")
    assert no_instance.status_code == 404
    assert no_instance.json()["errors"][0]["reason"] == "db-not-found"


async def test_restore_is_in_place_and_goes_through_restoring(sim: Simulator, api: Api) -> None:
    # Long snapshot and restore steps, so "not completed yet" and "restoring" are observable
    # however slow the machine; then snapshots complete at once (statuses follow the clock).
    sim.update_config(durations={"snapshot_pending": 3_600_000.0, "restoring": 600.0})
    created = await running_instance(sim, api)
    base = f"/v1/instances/{created['id']}/snapshots"
    snapshot_id = (await api.post(base)).json()["data"]["snapshot_id"]
    early = await api.post(f"{base}/{snapshot_id}/restore")
    assert early.status_code == 400  # not Completed yet
    sim.update_config(durations={"snapshot_pending": 0.0, "snapshot_in_progress": 0.0})
    await eventually(
        lambda: (
            sim.state.snapshot_view(sim.instance(created["id"]).snapshots[-1])["status"]
            == "Completed"
        ),
        what="the snapshot to complete",
    )
    restore = await api.post(f"{base}/{snapshot_id}/restore")
    assert restore.status_code == 202
    assert restore.json()["data"]["id"] == created["id"]
    assert restore.json()["data"]["status"] == "restoring"
    assert (await api.post(base)).status_code == 409  # no snapshot while restoring
    await wait_status(sim, created["id"], "running")
    assert len((await api.get("/v1/instances")).json()["data"]) == 1  # no new instance
    unknown = await api.post(f"{base}/nope/restore")
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["reason"] == "snapshot-not-found"


async def test_snapshot_needs_a_running_instance(sim: Simulator, api: Api) -> None:
    created = await running_instance(sim, api)
    await api.post(f"/v1/instances/{created['id']}/pause")
    await wait_status(sim, created["id"], "paused")
    response = await api.post(f"/v1/instances/{created['id']}/snapshots")
    assert response.status_code == 409


async def test_clone_from_a_snapshot_needs_an_exportable_one(sim: Simulator, api: Api) -> None:
    source = await running_instance(sim, api, name="source")
    snapshot = sim.instance(source["id"]).snapshots[0]  # the Scheduled one, completed by now
    await eventually(lambda: sim.state.snapshot_view(snapshot)["status"] == "Completed")
    clone = await api.create(
        name="clone", source_instance_id=source["id"], source_snapshot_id=snapshot.snapshot_id
    )
    assert sim.instance(clone["id"]).source_snapshot_id == snapshot.snapshot_id
    snapshot.exportable = False
    refused = await api.post(
        "/v1/instances",
        json={
            "name": "clone2",
            "version": "5",
            "region": "europe-west1",
            "memory": "8GB",
            "type": "professional-db",
            "tenant_id": source["tenant_id"],
            "cloud_provider": "gcp",
            "source_instance_id": source["id"],
            "source_snapshot_id": snapshot.snapshot_id,
        },
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"] == (
        f"Source snapshot {snapshot.snapshot_id} is not exportable"
    )
