"""The per-object mode (controller.mode), the flags and settings of plan mode and sharding
(--dry-run, --selector), and the watches a selector narrows (lifecycle.configure)."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from aura_operator.cli import build_parser
from aura_operator.cli.run import apply_flags
from aura_operator.kinds.credential.registration import CREDENTIAL
from aura_operator.kinds.instance.registration import INSTANCE
from aura_operator.runtime.controller import mode
from aura_operator.runtime.lifecycle import configure
from aura_operator.runtime.selector import SelectorError
from aura_operator.runtime.settings import Settings

ANNOTATION = "aura-operator.dev/reconcile"


def body(value: str | None = None) -> dict[str, Any]:
    return {"metadata": {"annotations": {ANNOTATION: value} if value is not None else {}}}


@pytest.mark.parametrize(
    ("value", "dry_run", "expected"),
    [
        (None, False, "act"),
        ("plan", False, "plan"),
        (" Plan ", False, "plan"),
        ("skip", False, "skip"),
        (None, True, "plan"),
        ("plan", True, "plan"),
        ("skip", True, "skip"),  # skip reads nothing at all: it wins over --dry-run
        ("apply", False, "act"),  # an unknown value changes nothing
    ],
)
def test_the_mode_of_an_object(value: str | None, dry_run: bool, expected: str) -> None:
    assert mode(INSTANCE, body(value), Settings(dry_run=dry_run)) == expected


@pytest.mark.parametrize("value", [None, "plan", "skip"])
def test_a_kind_that_ignores_skip_always_acts_and_dry_run_holds_it_in_the_client(
    value: str | None,
) -> None:
    assert mode(CREDENTIAL, body(value), Settings(dry_run=True)) == "act"


def flags(*argv: str) -> dict[str, str]:
    environ: dict[str, str] = {}
    apply_flags(build_parser().parse_args(["run", *argv]), environ)
    return environ


def test_run_flags_become_the_settings() -> None:
    assert flags() == {}
    assert flags("--dry-run") == {"AURA_OPERATOR_DRY_RUN": "true"}
    assert flags("--selector", "shard in (b, a),tier!=x") == {
        "AURA_OPERATOR_SELECTOR": "shard in (a,b),tier!=x"
    }


def test_a_bad_selector_fails_before_the_operator_starts() -> None:
    with pytest.raises(SelectorError, match="expected"):
        flags("--selector", "shard in a")
    with pytest.raises(ValueError, match="label selector"):
        Settings(selector="=a")


def test_the_selector_setting_is_canonical(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_OPERATOR_SELECTOR", "shard = a")
    monkeypatch.setenv("AURA_OPERATOR_DRY_RUN", "true")
    settings = Settings()
    assert (settings.selector, settings.dry_run) == ("shard=a", True)
    assert Settings(selector="").selector is None


def watch_selectors(settings: kopf.OperatorSettings, group: str, plural: str) -> list[str]:
    return settings.watching.label_selectors.collect(kopf.Resource(group, "v1alpha1", plural))


def test_a_selector_narrows_the_watches_of_the_kinds_and_nothing_else() -> None:
    settings = kopf.OperatorSettings()
    configure(settings, "shard=a", {"aurainstances", "aurasnapshots"})
    group = "aura-operator.dev"
    assert watch_selectors(settings, group, "aurainstances") == ["shard=a"]
    assert watch_selectors(settings, group, "aurasnapshots") == ["shard=a"]
    assert watch_selectors(settings, group, "aurareferencegrants") == []  # read, not handled
    secrets = settings.watching.label_selectors.collect(kopf.Resource("", "v1", "secrets"))
    assert secrets == ["app.kubernetes.io/managed-by=aura-operator"]


def test_without_a_selector_every_object_is_watched() -> None:
    settings = kopf.OperatorSettings()
    configure(settings, "", {"aurainstances"})
    assert watch_selectors(settings, "aura-operator.dev", "aurainstances") == []
