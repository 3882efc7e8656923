"""Settings come from AURA_OPERATOR_* (and AURA_CLIENT_*) variables; kopf keys use our prefix."""

from __future__ import annotations

import re
from pathlib import Path

import kopf
import pytest

from aura_operator.cli import build_parser
from aura_operator.runtime.lifecycle import configure
from aura_operator.runtime.settings import Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AURA_CLIENT_ID", "AURA_CLIENT_SECRET", "AURA_OPERATOR_API_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.api_url == "https://api.neo4j.io"
    assert settings.token_url == "https://api.neo4j.io/oauth/token"
    assert settings.requests_per_minute == 110
    assert settings.client_id is None
    assert settings.client_secret is None


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_OPERATOR_API_URL", "http://127.0.0.1:8088/")
    monkeypatch.setenv("AURA_CLIENT_ID", "aura-demo")
    monkeypatch.setenv("AURA_CLIENT_SECRET", "aura-demo-secret")
    monkeypatch.setenv("AURA_OPERATOR_REQUESTS_PER_MINUTE", "25")
    monkeypatch.setenv("AURA_OPERATOR_HTTP_TIMEOUT", "5")
    settings = Settings()
    assert settings.api_url == "http://127.0.0.1:8088"
    assert settings.token_url == "http://127.0.0.1:8088/oauth/token"
    assert settings.client_id == "aura-demo"
    assert settings.client_secret is not None
    assert settings.client_secret.get_secret_value() == "aura-demo-secret"
    assert "aura-demo-secret" not in repr(settings)
    assert settings.requests_per_minute == 25
    assert settings.http_timeout == 5


def test_invalid_budget_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_OPERATOR_REQUESTS_PER_MINUTE", "0")
    with pytest.raises(ValueError, match="requests_per_minute"):
        Settings()


def test_kopf_keys_live_under_the_operator_prefix() -> None:
    settings = kopf.OperatorSettings()
    configure(settings)
    assert settings.persistence.finalizer == "aura-operator.dev/finalizer"
    assert settings.persistence.progress_storage.prefix == "aura-operator.dev"  # type: ignore[attr-defined]
    assert settings.persistence.diffbase_storage.prefix == "aura-operator.dev"  # type: ignore[attr-defined]
    assert settings.peering.standalone
    assert settings.posting.reporting_component == "aura-operator"


@pytest.mark.parametrize(
    ("argv", "namespaces", "all_namespaces"),
    [
        (["run"], [], False),
        (["run", "-A"], [], True),
        (["run", "--namespace", "a", "-n", "b"], ["a", "b"], False),
    ],
)
def test_run_arguments(argv: list[str], namespaces: list[str], all_namespaces: bool) -> None:
    args = build_parser().parse_args(argv)
    assert args.namespaces == namespaces
    assert args.all_namespaces is all_namespaces


def test_run_refuses_both_scopes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "-A", "-n", "x"])
    assert "not allowed with" in capsys.readouterr().err


CONFIGURATION = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _variables(name: str) -> list[str]:
    """The environment variables a setting is read from (its aliases, else the prefixed name)."""
    alias = Settings.model_fields[name].validation_alias
    if alias is None:
        return [f"AURA_OPERATOR_{name.upper()}"]
    return [str(choice) for choice in getattr(alias, "choices", [alias])]


def _documented_default(name: str) -> str:
    default = Settings.model_fields[name].default
    if default is None:
        return "—"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def _table_rows() -> list[tuple[list[str], str]]:
    """(variables, default) of each row of the configuration table."""
    rows = []
    for line in CONFIGURATION.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        variable, default = (cell.strip() for cell in line.strip("|").split("|")[:2])
        rows.append((re.findall(r"`([A-Z_]+)`", variable), default.strip("`")))
    return rows


def test_the_configuration_table_lists_every_setting_exactly_once() -> None:
    rows = _table_rows()
    by_variable = {v: n for n in Settings.model_fields for v in _variables(n)}
    unknown = [v for variables, _ in rows for v in variables if v not in by_variable]
    assert not unknown, f"docs/configuration.md lists variables no setting reads: {unknown}"
    # A row may document several settings (the client id and secret); each setting one row.
    documented = [n for variables, _ in rows for n in {by_variable[v] for v in variables}]
    twice = sorted({n for n in documented if documented.count(n) > 1})
    assert not twice, f"docs/configuration.md lists these settings more than once: {twice}"
    missing = [_variables(n)[0] for n in Settings.model_fields if n not in documented]
    assert not missing, f"docs/configuration.md lacks settings: {missing}"


def test_the_configuration_table_shows_each_default() -> None:
    by_variable = {v: n for n in Settings.model_fields for v in _variables(n)}
    wrong = {
        variable: (default, _documented_default(by_variable[variable]))
        for variables, default in _table_rows()
        for variable in variables
        if default != _documented_default(by_variable[variable])
    }
    assert not wrong, f"documented default != Settings' default: {wrong}"
