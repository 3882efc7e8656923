"""Label selectors: which objects one operator process handles when releases are sharded.

`aura-operator run --selector 'shard in (a,b)'` makes a process watch only the objects whose
labels match; an object no release selects is left alone. The string is a Kubernetes label
selector, parsed here the way the API server parses `labelSelector` (apimachinery's
`labels.Parse`): comma-separated requirements `key`, `!key`, `key=value` (or `==`),
`key!=value`, `key in (v1,v2)`, `key notin (v1,v2)`, `key>N`, `key<N`, all of which must hold.
An empty string selects everything. `label_selector()` gives the canonical string to send as a
watch's `labelSelector`, so that the API server filters exactly as `matches()` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

Operator = Literal["exists", "!", "=", "!=", "in", "notin", ">", "<"]

FORMS = (
    "a label selector is comma-separated requirements: key, !key, key=value, key!=value, "
    "key in (v1,v2), key notin (v1,v2), key>N, key<N"
)
_SPECIAL = "!=(),<>"
_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_INTEGER = re.compile(r"-?\d+")


class SelectorError(ValueError):
    """The selector string is not a label selector; the message says where and why."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return has
        if self.operator == "!":
            return not has
        if self.operator in ("=", "in"):
            return has and value in self.values
        if self.operator in ("!=", "notin"):
            return not has or value not in self.values
        if value is None or not _INTEGER.fullmatch(value):
            return False
        bound = int(self.values[0])
        return int(value) > bound if self.operator == ">" else int(value) < bound

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return f"!{self.key}"
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({','.join(self.values)})"
        return f"{self.key}{self.operator}{self.values[0]}"


@dataclass(frozen=True)
class Selector:
    """All requirements must hold; none at all selects everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        return all(r.matches(labels or {}) for r in self.requirements)

    @property
    def everything(self) -> bool:
        return not self.requirements


@dataclass(frozen=True)
class _Token:
    kind: str  # "id", "end", or one of ! != = == ( ) , < >
    text: str
    at: int  # 1-based character position


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif text.startswith(("!=", "=="), i):
            tokens.append(_Token(text[i : i + 2], text[i : i + 2], i + 1))
            i += 2
        elif char in _SPECIAL:
            tokens.append(_Token(char, char, i + 1))
            i += 1
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            tokens.append(_Token("id", text[start:i], start + 1))
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def fail(self, token: _Token, expected: str) -> SelectorError:
        found = "the end" if token.kind == "end" else repr(token.text)
        return SelectorError(
            f"label selector {self.text!r}: expected {expected} at character {token.at}, "
            f"found {found}; {FORMS}"
        )

    def invalid(self, what: str, token: _Token, rule: str) -> SelectorError:
        return SelectorError(
            f"label selector {self.text!r}: {what} {token.text!r} at character {token.at} "
            f"is not valid: {rule}"
        )

    def key(self) -> str:
        token = self.take()
        if token.kind != "id":
            raise self.fail(token, "a label key")
        prefix, slash, name = token.text.rpartition("/")
        if (
            not _NAME.fullmatch(name)
            or len(name) > 63
            or (slash and (not _PREFIX.fullmatch(prefix) or len(prefix) > 253))
        ):
            raise self.invalid(
                "key",
                token,
                "an optional DNS subdomain prefix and '/', then a name of at most 63 "
                "letters, digits, '-', '_' or '.', beginning and ending with a letter or digit",
            )
        return token.text

    def value(self, token: _Token) -> str:
        if token.text and (not _NAME.fullmatch(token.text) or len(token.text) > 63):
            raise self.invalid(
                "value",
                token,
                "at most 63 letters, digits, '-', '_' or '.', beginning and ending with a "
                "letter or digit (or empty)",
            )
        return token.text

    def single(self) -> str:
        token = self.peek()
        if token.kind in (",", "end"):
            return ""
        if token.kind != "id":
            raise self.fail(token, "a value")
        return self.value(self.take())

    def values(self) -> tuple[str, ...]:
        opening = self.take()
        if opening.kind != "(":
            raise self.fail(opening, "'('")
        found: list[str] = []
        expect_value = True
        while (token := self.take()).kind != ")":
            if token.kind == "id" and expect_value:
                found.append(self.value(token))
                expect_value = False
            elif token.kind == ",":
                if expect_value:
                    found.append("")  # `(,a)` or `(a,,b)`: an empty value, as Kubernetes reads it
                expect_value = True
            else:
                raise self.fail(token, "a value, ',' or ')'" if expect_value else "',' or ')'")
        if expect_value and found:
            found.append("")  # `(a,)`
        if not found:
            raise self.fail(token, "at least one value (in and notin need a set)")
        return tuple(sorted(set(found)))

    def requirement(self) -> Requirement:
        if self.peek().kind == "!":
            self.take()
            return Requirement(self.key(), "!")
        key = self.key()
        token = self.peek()
        if token.kind in (",", "end"):
            return Requirement(key, "exists")
        if token.kind in ("=", "==", "!="):
            self.take()
            operator: Operator = "!=" if token.kind == "!=" else "="
            return Requirement(key, operator, (self.single(),))
        if token.kind == "id" and token.text in ("in", "notin"):
            self.take()
            return Requirement(key, "in" if token.text == "in" else "notin", self.values())
        if token.kind in (">", "<"):
            self.take()
            bound = self.take()
            if bound.kind != "id" or not _INTEGER.fullmatch(bound.text):
                raise self.fail(bound, "an integer")
            return Requirement(key, ">" if token.kind == ">" else "<", (bound.text,))
        raise self.fail(token, "an operator (=, ==, !=, in, notin, >, <), ',' or the end")

    def selector(self) -> Selector:
        if self.peek().kind == "end":
            return Selector()
        found = [self.requirement()]
        while (token := self.take()).kind != "end":
            if token.kind != ",":
                raise self.fail(token, "',' or the end")
            found.append(self.requirement())
        return Selector(tuple(sorted(found, key=lambda r: r.key)))


def parse(text: str) -> Selector:
    """Parse a label selector; raises SelectorError saying where and what was expected."""
    return _Parser(text).selector()


def matches(selector: Selector, labels: Mapping[str, str] | None) -> bool:
    return selector.matches(labels)


def label_selector(selector: Selector) -> str:
    """The canonical selector string (requirements by key, values sorted), for `labelSelector`."""
    return ",".join(str(r) for r in selector.requirements)


def watch_query(selector: Selector) -> str:
    """The query-string part a list or watch URL needs (empty when it selects everything)."""
    if selector.everything:
        return ""
    return f"labelSelector={quote(label_selector(selector), safe='')}"
