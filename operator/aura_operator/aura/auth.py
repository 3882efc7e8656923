"""OAuth2 client-credentials tokens, cached per credential and refreshed before they expire.

Tokens are cached under a hash of the client id *and* the secret, so a rotated secret never
reuses a token of the old one, and the cache itself never holds a readable secret. One lock per
credential makes concurrent callers share one token request instead of each fetching their own
(Aura may rate-limit the token endpoint).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import SecretStr

from aura_operator.aura.clock import Clock, SystemClock
from aura_operator.aura.models import TokenResponse

#: Refresh this long before the token's announced expiry.
REFRESH_SKEW = 60.0


def credential_key(client_id: str, client_secret: str) -> str:
    """A stable, non-reversible key for one (client id, secret) pair."""
    digest = hashlib.sha256()
    for part in (client_id, client_secret):
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(4, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def client_id_key(client_id: str) -> str:
    """The key of a client id alone: Aura's rate limit is per client id, whatever the secret."""
    return hashlib.sha256(client_id.encode()).hexdigest()


@dataclass(frozen=True)
class CachedToken:
    value: SecretStr
    refresh_at: float

    def __repr__(self) -> str:
        return f"CachedToken(value=**********, refresh_at={self.refresh_at:.1f})"


class TokenCache:
    """Tokens of every credential a process uses, keyed by `credential_key`."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._tokens: dict[str, CachedToken] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0

    async def get(self, key: str, fetch: Callable[[], Awaitable[TokenResponse]]) -> SecretStr:
        """A valid token for `key`, fetching one (once, for all concurrent callers) if needed."""
        cached = self._tokens.get(key)
        if cached is not None and self._clock.monotonic() < cached.refresh_at:
            return cached.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached is not None and self._clock.monotonic() < cached.refresh_at:
                return cached.value
            response = await fetch()
            self.fetches += 1
            lifetime = max(0.0, response.expires_in)
            skew = min(REFRESH_SKEW, lifetime / 2)
            token = CachedToken(response.access_token, self._clock.monotonic() + lifetime - skew)
            self._tokens[key] = token
            return token.value

    def invalidate(self, key: str, token: SecretStr) -> None:
        """Forget `token` after the API rejected it; a newer token is left alone."""
        cached = self._tokens.get(key)
        if cached is not None and cached.value.get_secret_value() == token.get_secret_value():
            del self._tokens[key]
