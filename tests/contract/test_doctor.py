"""`aura-operator doctor` against the simulator: what a user checks before deploying."""

from __future__ import annotations

from pydantic import SecretStr

from aura_operator.cli.doctor import check
from aura_operator.runtime.settings import Settings
from aura_simulator import Simulator


def settings_for(sim: Simulator, secret: str) -> Settings:
    return Settings(api_url=sim.base_url, client_id="aura-demo", client_secret=SecretStr(secret))


async def test_doctor_reports_the_credential_and_its_tenants(sim: Simulator) -> None:
    lines: list[str] = []
    assert await check(settings_for(sim, "aura-demo-secret"), out=lines) == 0
    text = "\n".join(lines)
    assert "token and tenants:  ok, 1 tenant(s) visible" in text
    assert "(demo)" in text
    assert "professional-db" in text
    assert "aura-demo-secret" not in text


async def test_doctor_fails_clearly_on_a_wrong_secret(sim: Simulator) -> None:
    lines: list[str] = []
    assert await check(settings_for(sim, "wrong-secret-value"), out=lines) == 1
    text = "\n".join(lines)
    assert "FAILED" in text
    assert "client id or secret is wrong" in text
    assert "wrong-secret-value" not in text


async def test_doctor_without_a_credential_says_what_to_set() -> None:
    lines: list[str] = []
    assert await check(Settings(client_id=None, client_secret=None), out=lines) == 1
    assert any("set AURA_CLIENT_ID and AURA_CLIENT_SECRET" in line for line in lines)
