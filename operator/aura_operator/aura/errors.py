"""Typed errors of the Aura API, from one status-to-class map.

Every error carries what an operator needs to decide and a human needs to debug: the method and
path, the HTTP status, the API's `reason`, messages and field names, the `X-Request-Id` for Aura
support, and `retry_after` when the server (or our own budget) said when to come back.
Nothing secret is ever part of an error: paths carry ids, never tokens, and bodies of token
responses are never kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AuraError(Exception):
    """Base class of every error raised by the Aura client."""

    #: True when the same request may succeed later without any change (5xx, 429, network).
    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        reason: str | None = None,
        messages: tuple[str, ...] = (),
        fields: tuple[str, ...] = (),
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.messages = messages
        self.fields = fields
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        parts = [f"{where}: {self.message}" if where else self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.reason:
            parts.append(f"reason={self.reason}")
        if self.fields:
            parts.append(f"fields={','.join(self.fields)}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after:.1f}s")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class AuraBadRequest(AuraError):
    """400: the request is invalid; `fields` names the offending body fields."""


class AuraUnauthorized(AuraError):
    """401: the client could not be authenticated (bad or missing token)."""


class AuraPaymentRequired(AuraError):
    """402: the action needs billing (e.g. snapshot create)."""


class AuraForbidden(AuraError):
    """403: token expired or revoked, or no permission."""


class AuraNotFound(AuraError):
    """404: instance, tenant or snapshot not found (`reason` says which)."""


class AuraNotPermitted(AuraError):
    """405: creating an instance is not permitted (instance limit reached)."""


class AuraConflict(AuraError):
    """409: another operation is running on the instance (`ongoing-database-operation`)."""

    transient = True


class AuraSessionConflict(AuraError):
    """409 from get-or-create: a session of that name exists in the project with other
    parameters. Not transient (unlike `AuraConflict`): nothing changes until the spec or the
    session does. `message` is the server's; `differences` lists (parameter, is, requested)."""

    def __init__(
        self, message: str, *, differences: tuple[tuple[str, str, str], ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.differences = differences


class AuraUnsupportedMediaType(AuraError):
    """415: missing or wrong Content-Type (a bug in the client if it ever happens)."""


class AuraUnsupportedForTier(AuraError):
    """420: the action is not available for this tier (e.g. overwrite on Free)."""


class AuraRateLimited(AuraError):
    """429 from Aura, or our own budget on hold for longer than the caller will sleep.

    `retry_after` is the floor before the next request of this credential.
    """

    transient = True


class AuraServerError(AuraError):
    """5xx on an idempotent request, after the client's retries ran out."""

    transient = True


class AuraTransportError(AuraError):
    """Timeout or connection error on an idempotent request, after retries ran out."""

    transient = True


class AuraOutcomeUnknown(AuraError):
    """A POST or PATCH got a 5xx, a timeout or a dropped connection.

    The server may or may not have acted on it. The client never resends such a request: the
    caller must find out what happened (e.g. look for the instance by name) before trying again.
    """

    transient = True


class AuraTokenError(AuraError):
    """The token endpoint refused the credential or failed."""


class AuraUnexpectedResponse(AuraError):
    """A status or body the API does not document (e.g. a redirect, or a non-JSON 200)."""


_BY_STATUS: dict[int, type[AuraError]] = {
    400: AuraBadRequest,
    401: AuraUnauthorized,
    402: AuraPaymentRequired,
    403: AuraForbidden,
    404: AuraNotFound,
    405: AuraNotPermitted,
    409: AuraConflict,
    415: AuraUnsupportedMediaType,
    420: AuraUnsupportedForTier,
    429: AuraRateLimited,
}

_BY_REASON: dict[str, type[AuraError]] = {
    "ongoing-database-operation": AuraConflict,
    "db-not-found": AuraNotFound,
    "tenant-not-found": AuraNotFound,
    "snapshot-not-found": AuraNotFound,
    "encryption-key-not-found": AuraNotFound,
}


class AuraPlanned(Exception):
    """Plan mode: a mutating request was described instead of sent (AuraClient.planning).

    Deliberately not an AuraError: no kind's error handling may mistake it for a refusal or an
    unknown outcome; only the controller turns it into the Planned outcome. `current` is what
    Aura answered to the last GET of the same path in this plan (the fields before a change).
    """

    def __init__(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        current: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"plan mode: {method} {path} not sent")
        self.method = method
        self.path = path
        self.body = dict(body or {})
        self.current = dict(current) if current is not None else None


def error_class(status: int, reason: str | None = None) -> type[AuraError]:
    """The class for a response: the documented `reason` wins over the status code."""
    if reason and reason in _BY_REASON:
        return _BY_REASON[reason]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return AuraServerError
    return AuraUnexpectedResponse


def parse_error_body(body: Any) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """(reason, messages, fields) from `{"errors": [...]}` or the gateway's `{"error": "..."}`."""
    reason: str | None = None
    messages: list[str] = []
    fields: list[str] = []
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list):
            for item in errors:
                if not isinstance(item, Mapping):
                    continue
                if isinstance(item.get("message"), str):
                    messages.append(item["message"])
                if reason is None and isinstance(item.get("reason"), str) and item["reason"]:
                    reason = item["reason"]
                if isinstance(item.get("field"), str) and item["field"]:
                    fields.append(item["field"])
        gateway = body.get("error")
        if isinstance(gateway, str):
            messages.append(gateway)
        elif isinstance(body.get("message"), str):
            messages.append(body["message"])
    return reason, tuple(messages), tuple(fields)


def error_from_response(
    *,
    method: str,
    path: str,
    status: int,
    body: Any,
    request_id: str | None,
    retry_after: float | None,
) -> AuraError:
    """Build the typed error for a non-2xx response."""
    reason, messages, fields = parse_error_body(body)
    cls = error_class(status, reason)
    summary = "; ".join(messages) if messages else f"HTTP {status}"
    return cls(
        summary,
        method=method,
        path=path,
        status=status,
        reason=reason,
        messages=messages,
        fields=fields,
        request_id=request_id,
        retry_after=retry_after,
    )
