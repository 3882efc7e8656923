"""Settings come from AURA_OPERATOR_* (and AURA_CLIENT_*) variables; kopf keys use our prefix."""

from __future__ import annotations

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


def test_every_setting_is_documented_in_the_configuration_reference() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    missing = []
    for name, field in Settings.model_fields.items():
        names = [f"AURA_OPERATOR_{name.upper()}"]
        alias = field.validation_alias
        if alias is not None:
            names = [str(choice) for choice in getattr(alias, "choices", [alias])]
        if not any(f"`{n}`" in readme for n in names):
            missing.append(names[0])
    assert not missing, f"docs/configuration.md lacks settings: {missing}"
