"""The list sweep's rule: which objects one `GET /v1/instances` wakes, and which it leaves alone."""

from __future__ import annotations

from aura_operator.runtime.sweep import MISSING, RENAMED, Tracked, decide


def tracked(
    instance_id: str, name: str | None = "prod-orders", state: str = "running", since: float = 0
) -> Tracked:
    return Tracked(instance_id=instance_id, name=name, state=state, since=since)


def test_a_listed_instance_with_its_name_is_left_alone() -> None:
    objects = {"u1": tracked("i1")}
    assert decide(objects, {"i1": "prod-orders"}, requested_at=10) == []
    assert objects["u1"].listed


def test_a_vanished_instance_wakes_its_object_once() -> None:
    objects = {"u1": tracked("i1"), "u2": tracked("i2", name="b")}
    assert decide(objects, {"i2": "b"}, requested_at=10) == [("u1", MISSING)]
    # Its pass GETs the instance; until the list shows something else it is not woken again
    # (a pass that found the instance after all costs one GET, not one per sweep).
    assert decide(objects, {"i2": "b"}, requested_at=20) == []
    assert decide(objects, {"i1": "prod-orders", "i2": "b"}, requested_at=30) == []
    assert decide(objects, {"i2": "b"}, requested_at=40) == [("u1", MISSING)]


def test_a_renamed_instance_wakes_its_object_once_per_name() -> None:
    objects = {"u1": tracked("i1")}
    assert decide(objects, {"i1": "renamed-by-hand"}, requested_at=10) == [("u1", RENAMED)]
    assert decide(objects, {"i1": "renamed-by-hand"}, requested_at=20) == []
    assert decide(objects, {"i1": "again"}, requested_at=30) == [("u1", RENAMED)]


def test_names_are_not_checked_where_the_operator_keeps_none() -> None:
    objects = {"u1": tracked("i1", name=None)}
    assert decide(objects, {"i1": "anything"}, requested_at=10) == []


def test_a_new_instance_is_not_missing_before_the_list_has_shown_it() -> None:
    # Aura lists a new instance a little after its create: a creating instance that was never
    # listed is not judged; once listed, leaving the list counts, whatever its state.
    objects = {"u1": tracked("i1", state="creating")}
    assert decide(objects, {}, requested_at=10) == []
    assert decide(objects, {"i1": "prod-orders"}, requested_at=20) == []
    assert decide(objects, {}, requested_at=30) == [("u1", MISSING)]
    # A settled instance (e.g. after a restart) that is not listed is missing at once.
    assert decide({"u2": tracked("i2")}, {}, requested_at=10) == [("u2", MISSING)]


def test_objects_recorded_after_the_list_was_asked_for_wait_for_the_next() -> None:
    objects = {"u1": tracked("i1", since=15)}
    assert decide(objects, {}, requested_at=10) == []
    assert decide(objects, {}, requested_at=20) == [("u1", MISSING)]
