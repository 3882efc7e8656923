"""The token endpoint and the parsing of `Authorization` headers.

`POST /oauth/token` lives outside `/v1` and answers as the docs' table says (DOC-AUTH): 401 for
bad credentials, 404 for a missing body, 403 for an invalid one, 400 for a malformed request.
Tokens are opaque, JWT-looking strings that expire after `token_lifetime` seconds.
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from aura_simulator.runtime import Runtime

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
#: The client id of an authenticated `/v1` request (set by the gateway).
CLIENT_ID: web.RequestKey[str] = web.RequestKey("client_id", str)


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    # Aura accepts `Bearer` and `bearer` (GOSDK sends the token_type as is; docs/aura-api.md §2.1).
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def basic(request: web.Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


async def token(request: web.Request) -> web.Response:
    """`POST /oauth/token`: client credentials, Basic auth, form body (DOC-AUTH)."""
    runtime = request.app[RUNTIME]
    config = runtime.config
    given = basic(request)
    credential = config.credential(given[0]) if given else None
    if given is None or credential is None or credential.client_secret != given[1]:
        return web.json_response(
            {"error": "invalid_client", "error_description": "Invalid client credentials"},
            status=401,
        )
    raw = await request.read()
    if not raw.strip():  # DOC-AUTH: 404 "the request body is missing"
        return web.json_response({"error": "the request body is missing"}, status=404)
    if request.content_type != "application/x-www-form-urlencoded":  # 400 "request invalid"
        return web.json_response(
            {"error": "invalid_request", "error_description": "expected a form-encoded body"},
            status=400,
        )
    form = await request.post()
    if form.get("grant_type") != "client_credentials":  # DOC-AUTH: 403 "body is invalid"
        return web.json_response(
            {"error": "unsupported_grant_type", "error_description": "the request body is invalid"},
            status=403,
        )
    per_hour = config.token_rate_limit_per_hour
    if per_hour is not None:
        wait = runtime.token_limiter.check(credential.client_id, per_hour, 3600.0)
        if wait is not None:
            return web.json_response(
                {"error": "Too many token requests"}, status=429, headers={"Retry-After": str(wait)}
            )
    lifetime = config.token_lifetime
    issued = runtime.tokens.issue(credential.client_id, lifetime)
    return web.json_response(
        {"access_token": issued, "expires_in": int(lifetime), "token_type": "bearer"}
    )
