"""The error shapes the Aura API answers with, as one exception the routes raise.

Aura has two shapes (docs/aura-api.md §5.1): the API's own `{"errors": [{"message", "reason",
"field"?}]}`
and the gateway's `{"error": "..."}`. Keeping them here means every route produces exactly the
documented shape, with the documented `reason` keys, and nothing else.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from aiohttp import web

Shape = Literal["errors", "gateway"]


class ApiError(Exception):
    """An HTTP error response of the simulated API."""

    def __init__(
        self,
        status: int,
        message: str,
        reason: str = "",
        *,
        field: str | None = None,
        shape: Shape = "errors",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.field = field
        self.shape = shape
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.reason, field=self.field, shape=self.shape)


def error_body(
    message: str, reason: str = "", *, field: str | None = None, shape: Shape = "errors"
) -> dict[str, Any]:
    if shape == "gateway":
        return {"error": message}
    item: dict[str, Any] = {"message": message, "reason": reason}
    if field is not None:
        item["field"] = field
    return {"errors": [item]}


def bad_request(message: str, field: str | None = None, reason: str = "invalid-input") -> ApiError:
    # The spec documents no `reason` for plain validation errors; `invalid-input` is ours.
    return ApiError(400, message, reason, field=field)


def instance_not_found(instance_id: str) -> ApiError:
    return ApiError(404, f"DB not found: {instance_id}", "db-not-found")


def tenant_not_found() -> ApiError:
    return ApiError(404, "The tenant you specified could not be found", "tenant-not-found")


def snapshot_not_found(snapshot_id: str) -> ApiError:
    return ApiError(404, f"Snapshot not found: {snapshot_id}", "snapshot-not-found")


def ongoing_operation(status: str) -> ApiError:
    # The typo "is current undergoing" is the API's own (SPEC `Conflict` example, CLI mocks).
    return ApiError(
        409,
        f"The database is current undergoing an operation: {status}",
        "ongoing-database-operation",
    )


def wrong_state(instance_id: str, status: str, action: str) -> ApiError:
    # UNCONFIRMED (docs/aura-api.md §4.3): the live answer to e.g. resuming a running instance.
    return ApiError(
        409,
        f"Instance {instance_id} is {status} and cannot be {action}",
        "invalid-database-state",
    )


async def json_body(request: web.Request, *, required: bool = False) -> dict[str, Any]:
    """The request's JSON object ({} when empty); a 400 naming the problem otherwise."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise bad_request("a JSON request body is required")
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body
