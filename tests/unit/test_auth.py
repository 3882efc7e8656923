"""Token caching: keyed by id and secret, refreshed 60 s early, fetched once for all callers."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from aura_operator.aura.auth import TokenCache, client_id_key, credential_key
from aura_operator.aura.models import TokenResponse
from tests.clock import FakeClock


def test_credential_key_covers_id_and_secret_and_hides_both() -> None:
    key = credential_key("id", "secret")
    assert key != credential_key("id", "secret2")
    assert key != credential_key("id2", "secret")
    assert credential_key("ab", "c") != credential_key("a", "bc")
    assert "secret" not in key
    assert client_id_key("id") != key


async def test_token_is_reused_until_sixty_seconds_before_expiry() -> None:
    clock = FakeClock()
    cache = TokenCache(clock)
    issued = 0

    async def fetch() -> TokenResponse:
        nonlocal issued
        issued += 1
        return TokenResponse(access_token=SecretStr(f"t{issued}"), expires_in=3600)

    assert (await cache.get("k", fetch)).get_secret_value() == "t1"
    clock.advance(3539)
    assert (await cache.get("k", fetch)).get_secret_value() == "t1"
    clock.advance(1)
    assert (await cache.get("k", fetch)).get_secret_value() == "t2"


async def test_concurrent_callers_share_one_fetch() -> None:
    cache = TokenCache(FakeClock())
    release = asyncio.Event()
    calls = 0

    async def fetch() -> TokenResponse:
        nonlocal calls
        calls += 1
        await release.wait()
        return TokenResponse(access_token=SecretStr("shared"), expires_in=3600)

    tasks = [asyncio.create_task(cache.get("k", fetch)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    tokens = await asyncio.gather(*tasks)
    assert calls == 1
    assert {t.get_secret_value() for t in tokens} == {"shared"}


async def test_invalidate_drops_only_the_rejected_token() -> None:
    cache = TokenCache(FakeClock())
    n = 0

    async def fetch() -> TokenResponse:
        nonlocal n
        n += 1
        return TokenResponse(access_token=SecretStr(f"t{n}"), expires_in=3600)

    old = await cache.get("k", fetch)
    cache.invalidate("k", old)
    new = await cache.get("k", fetch)
    assert new.get_secret_value() == "t2"
    cache.invalidate("k", old)  # a late failure with the old token must not drop the new one
    assert (await cache.get("k", fetch)).get_secret_value() == "t2"
