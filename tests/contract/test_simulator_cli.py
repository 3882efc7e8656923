"""The simulator's command line as users run it: a separate process, its first stdout line,
SIGTERM; both as `aura-operator simulator` (an entry point of the operator's command line) and as
`python -m aura_simulator`."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.contract.conftest import Api, fetch_token, http_client

LISTENING = re.compile(r"^aura-simulator: listening on (http://127\.0\.0\.1:(\d+))\n$")
StartCli = Callable[..., Awaitable[tuple[asyncio.subprocess.Process, str]]]


COMMANDS = {
    "aura-operator simulator": ("-m", "aura_operator", "simulator"),
    "python -m aura_simulator": ("-m", "aura_simulator"),
}


@pytest.fixture(params=sorted(COMMANDS))
async def start_cli(request: pytest.FixtureRequest) -> AsyncIterator[StartCli]:
    procs: list[asyncio.subprocess.Process] = []
    command = COMMANDS[request.param]

    async def start(*args: str) -> tuple[asyncio.subprocess.Process, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            "--port",
            "0",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        procs.append(proc)
        assert proc.stdout is not None
        first = await asyncio.wait_for(proc.stdout.readline(), 30)
        match = LISTENING.match(first.decode())
        assert match, first
        return proc, match.group(1)

    yield start
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _stop(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(proc.wait(), 30)


async def test_cli_serves_the_demo_tenant_until_sigterm(start_cli: StartCli) -> None:
    proc, base_url = await start_cli("--time-scale", "1000")
    async with http_client(base_url) as http:
        api = Api(http, await fetch_token(http))
        tenants = (await api.get("/v1/tenants")).json()["data"]
        assert [t["name"] for t in tenants] == ["demo"]
        created = await api.create()
        assert created["password"]
    assert await _stop(proc) == 0


async def test_cli_state_file_and_config_file(start_cli: StartCli, tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    config.write_text(
        "credentials:\n"
        "  - {client_id: ci, client_secret: ci-secret}\n"
        "tenants:\n"
        "  - id: 5d1c6a8e-0000-4000-8000-000000000001\n"
        "    name: ci\n"
        "    instance_configurations:\n"
        "      - {region: us-east-1, region_name: 'US East', type: professional-db,\n"
        "         memory: 2GB, storage: 4GB, version: '5', cloud_provider: aws}\n",
        encoding="utf-8",
    )
    state = tmp_path / "state.json"
    args = ("--config", str(config), "--state", str(state), "--rate-limit", "1000")
    proc, base_url = await start_cli(*args)
    async with http_client(base_url) as http:
        api = Api(http, await fetch_token(http, "ci", "ci-secret"))
        rejected = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("aura-demo", "aura-demo-secret"),
        )
        assert rejected.status_code == 401
        created = await api.create(
            tenant_id="5d1c6a8e-0000-4000-8000-000000000001",
            region="us-east-1",
            cloud_provider="aws",
            memory="2GB",
        )
    assert await _stop(proc) == 0
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert saved["instances"][created["id"]]["password"] == created["password"]
    proc, base_url = await start_cli(*args)
    async with http_client(base_url) as http:
        api = Api(http, await fetch_token(http, "ci", "ci-secret"))
        listed = (await api.get("/v1/instances")).json()["data"]
        assert [i["id"] for i in listed] == [created["id"]]
    assert await _stop(proc) == 0


@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_cli_refuses_a_bad_config_file(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tenants: 3\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *COMMANDS[command],
        "--port",
        "0",
        "--config",
        str(bad),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert b"listening" not in out
    assert b"--config" in err
