"""A scripted `httpx.MockTransport` for the client's request-shape and retry-policy tests.

The simulator covers real behaviour over real HTTP; this covers faults the simulator would make
awkward to time exactly (a 503 on the third try, a 429 on one credential only), and records
every request with the fake clock's time so tests can assert on order and spacing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.clock import FakeClock

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Seen:
    method: str
    path: str
    at: float
    headers: httpx.Headers
    body: bytes
    client_id: str | None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class MockAura:
    """Answers the token endpoint itself; everything else goes through `routes` in order."""

    clock: FakeClock
    token_lifetime: int = 3600
    routes: dict[tuple[str, str], list[Handler | httpx.Response]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    tokens_issued: int = 0
    arrived: dict[str, int] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def on(self, method: str, path: str, *responses: Handler | httpx.Response) -> None:
        self.routes.setdefault((method, path), []).extend(responses)

    def api_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path != "/oauth/token"]

    def _handle(self, request: httpx.Request) -> httpx.Response:
        client_id = None
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            client_id = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        elif auth.startswith("Bearer "):
            client_id = auth[7:].split(".", 1)[0]
        self.seen.append(
            Seen(
                request.method,
                _path(request),
                self.clock.monotonic(),
                request.headers,
                request.content,
                client_id,
            )
        )
        if _path(request) == "/oauth/token":
            form = parse_qs(request.content.decode())
            if form.get("grant_type") != ["client_credentials"] or client_id is None:
                return httpx.Response(400, json={"error": "bad token request"})
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"{client_id}.token{self.tokens_issued}",
                    "expires_in": self.token_lifetime,
                    "token_type": "bearer",
                },
            )
        key = (request.method, _path(request))
        queue = self.routes.get(key)
        if not queue:
            return httpx.Response(599, json={"errors": [{"message": f"unscripted {key}"}]})
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer


def _path(request: httpx.Request) -> str:
    """The path as sent (still percent-encoded), without the query."""
    return request.url.raw_path.decode().split("?", 1)[0]


def data(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"data": payload}, headers=headers)


def error(status: int, message: str, reason: str = "", **headers: str) -> httpx.Response:
    body = {"errors": [{"message": message, "reason": reason}]}
    return httpx.Response(status, json=body, headers=headers)


INSTANCE = {
    "id": "db1d1234",
    "name": "orders",
    "status": "running",
    "connection_url": "neo4j+s://db1d1234.databases.neo4j.io",
    "tenant_id": "6981ace7-efe8-4f5c-b7c5-267b5162ce91",
    "cloud_provider": "gcp",
    "memory": "8GB",
    "storage": "16GB",
    "region": "europe-west1",
    "type": "enterprise-db",
    "created_at": "2026-11-26T10:00:00Z",
}
CREATED = {
    "id": "db1d1234",
    "connection_url": "neo4j+s://db1d1234.databases.neo4j.io",
    "username": "neo4j",
    "password": "pa55-only-once",
    "tenant_id": "6981ace7-efe8-4f5c-b7c5-267b5162ce91",
    "cloud_provider": "gcp",
    "region": "europe-west1",
    "type": "enterprise-db",
    "name": "orders",
    "created_at": "2026-11-26T10:00:00Z",
}
