"""Connection Secret templates: the keys and values an application expects, from a closed set.

The default connection Secret has the Aura console's `.env` keys. Applications often want other
names (`SPRING_NEO4J_URI`) or composed values (a JDBC URL), so `spec.connectionSecret.template`
maps each key to a template string in which `{{ .field }}` stands for one field of
`connection_values.FIELDS`. That is the whole language: substitution only, no functions, no
pipelines, no conditionals, nothing that can run code or read anything but those fields, so a
template can never reach another Secret or the operator's environment.

Everything here is pure. `problems()` checks a template before anything is written and names the
key at fault; `render()` fills it in; `merged()` applies `mergePolicy` (`Merge`: the default keys
plus the template's, the template winning on a shared key; `Replace`: only the template's).
A key whose template uses `.password` is left out while the password is unknown, rather than
written with a hole in it. Text outside `{{ ... }}` is copied as it is (a lone `}}` included);
every `{{` opens a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from aura_operator.kinds.instance.connection_values import FIELDS, ConnectionValues

FIELD_PATH = "spec.connectionSecret.template"

MergePolicy = Literal["Merge", "Replace"]

_OPEN, _CLOSE = "{{", "}}"
_PLACEHOLDER = re.compile(r"\s*\.([A-Za-z][A-Za-z0-9_]*)\s*")
#: Kubernetes' rule for Secret and ConfigMap data keys (apimachinery `IsConfigMapKey`).
_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_KEY_MAX = 253

ALLOWED = ", ".join(f".{name}" for name in FIELDS)
KEY_RULE = (
    "a Secret data key consists of letters, digits, '-', '_' or '.', has at most "
    f"{_KEY_MAX} characters, and is not '.' or '..' and does not start with '..'"
)


class SecretTemplate(BaseModel):
    """`spec.connectionSecret.template` (camelCase on the wire)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    data: dict[str, str] = Field(default_factory=dict)
    merge_policy: MergePolicy = "Merge"


class TemplateError(ValueError):
    """A template string that is not plain text with `{{ .field }}` placeholders."""


@dataclass(frozen=True)
class Placeholder:
    name: str


Part = str | Placeholder


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with the template; `field` is the path a condition names."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Rendered:
    """The template's keys with their values; `waiting` lists keys that need the password."""

    data: dict[str, str]
    waiting: tuple[str, ...] = ()


def parse(text: str) -> tuple[Part, ...]:
    """Split a template string into literal text and placeholders (names not checked here)."""
    parts: list[Part] = []
    pos = 0
    while (start := text.find(_OPEN, pos)) != -1:
        if start > pos:
            parts.append(text[pos:start])
        end = text.find(_CLOSE, start + len(_OPEN))
        if end == -1:
            raise TemplateError(f"'{{{{' at character {start + 1} has no closing '}}}}'")
        inner = text[start + len(_OPEN) : end]
        if _OPEN in inner:
            raise TemplateError(f"'{{{{' at character {start + 1} has no closing '}}}}'")
        match = _PLACEHOLDER.fullmatch(inner)
        if match is None:
            raise TemplateError(
                f"'{{{{{inner}}}}}' at character {start + 1} is not a placeholder: only "
                "'{{ .field }}' is allowed (no functions, pipelines or other actions)"
            )
        parts.append(Placeholder(match.group(1)))
        pos = end + len(_CLOSE)
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def key_problem(key: str) -> str | None:
    """Why `key` cannot be a Secret data key, or None if it can."""
    if len(key) > _KEY_MAX or not _KEY.fullmatch(key) or key in (".", "..") or key[:2] == "..":
        return f"invalid key: {KEY_RULE}"
    return None


def _unknown(name: str) -> str:
    message = f"unknown placeholder .{name}; allowed: {ALLOWED}"
    near = [f for f in FIELDS if f.lower() == name.lower()]
    return f"{message} (did you mean .{near[0]}?)" if near else message


def _key_problems(key: str, text: str) -> list[str]:
    found: list[str] = []
    if (bad := key_problem(key)) is not None:
        found.append(bad)
    try:
        parts = parse(text)
    except TemplateError as error:
        return [*found, f"malformed template: {error}"]
    names = [p.name for p in parts if isinstance(p, Placeholder)]
    found.extend(_unknown(n) for n in dict.fromkeys(names) if n not in FIELDS)
    return found


def problems(template: SecretTemplate) -> list[TemplateProblem]:
    """Everything wrong with the template, each naming its key; empty if it can be used."""
    found: list[TemplateProblem] = []
    if template.merge_policy == "Replace" and not template.data:
        found.append(
            TemplateProblem(
                f"{FIELD_PATH}.data",
                "mergePolicy Replace needs at least one key (the Secret would be empty)",
            )
        )
    for key in sorted(template.data):
        path = f"{FIELD_PATH}.data[{key}]"
        found.extend(TemplateProblem(path, m) for m in _key_problems(key, template.data[key]))
    return found


def placeholders(text: str) -> frozenset[str]:
    """The field names a (valid) template string uses."""
    return frozenset(p.name for p in parse(text) if isinstance(p, Placeholder))


def _fill(parts: tuple[Part, ...], fields: Mapping[str, str | None]) -> str | None:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = fields[part.name]
        if value is None:
            return None
        out.append(value)
    return "".join(out)


def render(template: SecretTemplate, values: ConnectionValues) -> Rendered:
    """The template's keys filled in. Raises TemplateError if `problems()` would report any."""
    if found := problems(template):
        raise TemplateError("; ".join(str(p) for p in found))
    fields = values.fields()
    data: dict[str, str] = {}
    waiting: list[str] = []
    for key in sorted(template.data):
        value = _fill(parse(template.data[key]), fields)
        if value is None:
            waiting.append(key)
        else:
            data[key] = value
    return Rendered(data, tuple(waiting))


V = TypeVar("V")


def merged(
    defaults: Mapping[str, V], rendered: Mapping[str, V], policy: MergePolicy
) -> dict[str, V]:
    """The Secret's data under `policy` (works on plain or base64-encoded values alike)."""
    if policy == "Replace":
        return dict(rendered)
    return {**defaults, **rendered}


def password_key(template: SecretTemplate | None, default_key: str) -> str | None:
    """A key that holds the bare password under this template, to read it back from the
    Secret (`default_key` while the default keys are kept and not overridden), or None if no
    key holds only the password."""
    if template is None:
        return default_key
    if template.merge_policy == "Merge" and default_key not in template.data:
        return default_key
    for key in sorted(template.data):
        try:
            parts = parse(template.data[key])
        except TemplateError:
            continue
        if parts == (Placeholder("password"),):
            return key
    return None
