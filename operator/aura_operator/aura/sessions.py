"""Models of the Graph Analytics (GDS) session bodies (docs/aura-api.md §3.5).

Apart from models.py because sessions have their own conventions: capitalised statuses, a
get-or-create whose 200 and 202 mean different things, a TTL that Aura writes as a Go duration
string (`1h0m0s`, `8m`) where the OpenAPI schema says integer, and a 409 that is not "busy, try
again" but "this name is taken with other parameters". Lenient like every model of the client:
unknown fields are kept, and `""` for `instance_id`/`database_uuid` (a standalone session) reads
as None.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import field_validator

from aura_operator.aura.models import AuraModel

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
#: `... with different parameters: Memory (is: 8GB, requested: 4GB), TTL (is: ..., ...)`
_DIFFERENCE = re.compile(r"([A-Za-z][\w ]*?) \(is: ([^,()]*), requested: ([^()]*)\)")


class SessionStatus:
    """Session statuses (SPEC `GdsSessionDetails.status`): capitalised, like snapshots."""

    CREATING = "Creating"
    READY = "Ready"
    EXPIRED = "Expired"
    FAILED = "Failed"


def parse_duration(value: Any) -> timedelta | None:
    """A TTL as Aura sends it: a Go duration string, or a number of seconds (the schema's
    integer); None for null, empty or unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return timedelta(seconds=sum(float(n) * _UNIT[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """A TTL for a request, in the API's format: `1h0m0s`, `30m0s`, `45s`."""
    total = round(value.total_seconds())
    if total <= 0:
        raise ValueError("a session ttl must be longer than 0s")
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"


def parse_differences(message: str) -> tuple[tuple[str, str, str], ...]:
    """(parameter, is, requested) for each difference a 409's message lists."""
    _, found, listed = message.partition("different parameters:")
    if not found:
        return ()
    return tuple((p.strip(), i.strip(), r.strip()) for p, i, r in _DIFFERENCE.findall(listed))


class GdsSession(AuraModel):
    """A session as get-or-create, GET and the list return it."""

    id: str
    name: str | None = None
    memory: str | None = None
    #: None in the SPEC's 202 example; then `Creating`, `Ready`, `Expired` or `Failed`.
    status: str | None = None
    host: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    instance_id: str | None = None
    database_uuid: str | None = None
    cloud_provider: str | None = None
    region: str | None = None
    created_at: datetime | None = None
    #: When Aura deletes it at the latest (7 days after creation in every example).
    expiry_date: datetime | None = None
    #: The inactivity timeout.
    ttl: timedelta | None = None

    @field_validator("instance_id", "database_uuid", "expiry_date", "created_at", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("ttl", mode="before")
    @classmethod
    def _ttl(cls, value: Any) -> Any:
        return parse_duration(value)

    @property
    def attached(self) -> bool:
        """Attached to an instance (can project from it and write back), or standalone."""
        return self.instance_id is not None


class SessionResult(AuraModel):
    """Get-or-create's answer: the session, and whether this call created it (202) or found it
    with the same parameters (200)."""

    session: GdsSession
    created: bool


class SessionSizing(AuraModel):
    """`POST /graph-analytics/sessions/sizing`: the size to ask for, and the estimate."""

    recommended_size: str
    estimated_memory: str | None = None
