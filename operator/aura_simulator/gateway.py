"""What sits in front of the Aura API: tokens, the per-client rate limit, and the request log.

Tokens are opaque strings mapped to a client id and an expiry; the rate limit is a sliding
window per client id in real time (the limit is about the client's request rate, so it is not
divided by the time scale; lower it with `rate_limit` instead). The request log is what tests and
users read to see exactly what a client sent.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


def request_id() -> str:
    """`8a35fa95b983aeff3e70394832706f45/12383853214941892751`, the SPEC's example shape."""
    return f"{secrets.token_hex(16)}/{secrets.randbelow(10**20):020d}"


@dataclass
class RequestRecord:
    """One request as the simulator answered it. `status` is None for a dropped connection."""

    method: str
    path: str
    query: str
    status: int | None
    client_id: str | None
    time: float
    request_id: str
    fault: str | None = None
    #: The JSON body that was sent back (None if not JSON); kept for schema checks.
    response_body: Any = field(default=None, repr=False)

    def to_json(self, *, with_body: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not with_body:
            data.pop("response_body")
        return data


@dataclass
class IssuedToken:
    client_id: str
    expires_at: float


class TokenStore:
    """Access tokens issued by `/oauth/token`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tokens: dict[str, IssuedToken] = {}

    def issue(self, client_id: str, lifetime: float) -> str:
        header = _b64({"alg": "RS256", "typ": "JWT"})
        claims = _b64({"sub": client_id, "jti": secrets.token_hex(8)})
        token = f"{header}.{claims}.{secrets.token_urlsafe(32)}"
        self._tokens[token] = IssuedToken(client_id, self._clock() + lifetime)
        return token

    def lookup(self, token: str) -> IssuedToken | None:
        return self._tokens.get(token)

    def is_expired(self, issued: IssuedToken) -> bool:
        return self._clock() >= issued.expires_at

    def expire(self, client_id: str | None = None) -> int:
        """Expire every token (of one client id); returns how many."""
        count = 0
        now = self._clock()
        for issued in self._tokens.values():
            if client_id is None or issued.client_id == client_id:
                issued.expires_at = min(issued.expires_at, now)
                count += 1
        return count

    def __len__(self) -> int:
        return len(self._tokens)


def _b64(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class RateLimiter:
    """A sliding-window limit per key: at most `limit` accepted requests per `window` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str, limit: int, window: float) -> int | None:
        """Count one request; None if allowed, else the whole seconds until one would be."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return max(1, math.ceil(hits[0] + window - now))
        hits.append(now)
        return None

    def reset(self) -> None:
        self._hits.clear()
