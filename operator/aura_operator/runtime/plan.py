"""Plans: what the operator would send to Aura, described instead of sent.

In plan mode (`aura-operator.dev/reconcile: plan`, or `--dry-run` for every object) a pass reads
but never writes; the one mutating request it would have made becomes a `PlannedRequest`:
method, path, the body's fields (flattened to dotted names) and, for the fields whose value
would change, before and after. `describe()` is its stable one-line form for a condition message
and an event: `would PATCH /v1/instances/abc123: memory 2GB → 4GB`, `would POST /v1/instances:
cloud_provider=gcp, memory=8GB, ...`.

A password-like field (password, secret, token, API or private key) never enters a plan: its
name is kept in `hidden` so the plan says something is sent, its value is dropped, and
`differences()` ignores its value. Recorded with `to_record()`, a plan can be compared with the
request about to be sent once the annotation is removed: `differences()` lists every way the two
differ, so "the operator applies exactly the plan" is a check, not a hope.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ARROW = "→"
#: A condition message has room for much more; an event message is cut by the API at 1024.
EVENT_LIMIT = 1024
_SECRET = re.compile(
    r"pass(word|wd|phrase)?$|secret|token|private_?key|api_?key|^key$|credentials?$", re.I
)
_ABSENT = object()


def is_secret(name: str) -> bool:
    """Is `name` (a dotted field name) one whose value a plan must never hold?"""
    return any(_SECRET.search(part) for part in name.split("."))


def _flatten(body: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in body.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def show(value: Any) -> str:
    """A value as a plan shows it: strings bare, everything else as compact JSON."""
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class FieldChange:
    field: str
    after: Any
    before: Any = None
    new: bool = False  # the field has no value before (a create, or a field not yet set)

    def __str__(self) -> str:
        if self.new:
            return f"{self.field}={show(self.after)}"
        return f"{self.field} {show(self.before)} {ARROW} {show(self.after)}"


@dataclass(frozen=True)
class PlannedRequest:
    method: str
    path: str
    body: Mapping[str, Any] = field(default_factory=dict)  # flattened, secrets removed
    changes: tuple[FieldChange, ...] = ()
    hidden: tuple[str, ...] = ()  # password-like fields that would be sent; values never kept


def _split(body: Mapping[str, Any] | None) -> tuple[dict[str, Any], tuple[str, ...]]:
    flat = _flatten(body or {})
    kept = {k: flat[k] for k in sorted(flat) if not is_secret(k)}
    return kept, tuple(sorted(k for k in flat if is_secret(k)))


def plan_request(
    method: str,
    path: str,
    body: Mapping[str, Any] | None = None,
    current: Mapping[str, Any] | None = None,
) -> PlannedRequest:
    """The request described. `current` is what Aura has now (same field names as the body);
    without it every field is new (a create). Fields whose value would not change are sent
    but not listed as changes."""
    kept, hidden = _split(body)
    now = _flatten(current or {})
    changes = []
    for name, after in kept.items():
        before = now.get(name, _ABSENT)
        if before is _ABSENT or before is None:
            changes.append(FieldChange(name, after, new=True))
        elif before != after:
            changes.append(FieldChange(name, after, before))
    return PlannedRequest(method.upper(), path, kept, tuple(changes), hidden)


def describe(plan: PlannedRequest) -> str:
    """`would PATCH /v1/instances/abc123: memory 2GB → 4GB` (fields sorted, secrets hidden)."""
    head = f"would {plan.method} {plan.path}"
    items = [str(c) for c in plan.changes] + [f"{name}=(hidden)" for name in plan.hidden]
    return f"{head}: {', '.join(items)}" if items else head


def summary(plans: Sequence[PlannedRequest], limit: int = EVENT_LIMIT) -> str:
    """All plans in one message of at most `limit` characters, for a condition or an event."""
    if not plans:
        return "no request would be sent: Aura matches the spec"
    lines = [describe(p) for p in plans]
    text = "; ".join(lines)
    if len(text) <= limit:
        return text
    for shown in range(len(lines) - 1, 0, -1):
        rest = len(lines) - shown
        cut = "; ".join(lines[:shown]) + f" … and {rest} more request{'s' if rest > 1 else ''}"
        if len(cut) <= limit:
            return cut
    return text[: limit - 1] + "…"


def to_record(plan: PlannedRequest) -> dict[str, Any]:
    """A JSON-ready form to keep in status (no secret values: there are none to keep)."""
    return {
        "method": plan.method,
        "path": plan.path,
        "body": dict(plan.body),
        "hidden": list(plan.hidden),
        "fingerprint": fingerprint(plan),
    }


def from_record(record: Mapping[str, Any]) -> PlannedRequest:
    return PlannedRequest(
        str(record["method"]),
        str(record["path"]),
        dict(record.get("body") or {}),
        (),
        tuple(record.get("hidden") or ()),
    )


def fingerprint(plan: PlannedRequest) -> str:
    """A short stable id of what would be sent (method, path, body, hidden field names)."""
    canonical = json.dumps(
        [plan.method, plan.path, dict(plan.body), list(plan.hidden)],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def differences(
    recorded: PlannedRequest, method: str, path: str, body: Mapping[str, Any] | None = None
) -> list[str]:
    """How the request about to be sent differs from the plan; empty if it is exactly the plan
    (password-like values excepted: they are never recorded)."""
    found: list[str] = []
    if method.upper() != recorded.method:
        found.append(f"method: planned {recorded.method}, about to send {method.upper()}")
    if path != recorded.path:
        found.append(f"path: planned {recorded.path}, about to send {path}")
    kept, hidden = _split(body)
    for name in sorted(set(kept) | set(recorded.body)):
        planned, sending = recorded.body.get(name, _ABSENT), kept.get(name, _ABSENT)
        if planned is _ABSENT:
            found.append(f"{name}: about to send {show(sending)}, not in the plan")
        elif sending is _ABSENT:
            found.append(f"{name}: planned {show(planned)}, not about to be sent")
        elif planned != sending:
            found.append(f"{name}: planned {show(planned)}, about to send {show(sending)}")
    for name in sorted(set(hidden) ^ set(recorded.hidden)):
        where = "in the plan" if name in recorded.hidden else "about to be sent"
        found.append(f"{name}: (hidden) only {where}")
    return found


def matches(
    recorded: PlannedRequest, method: str, path: str, body: Mapping[str, Any] | None = None
) -> bool:
    return not differences(recorded, method, path, body)
