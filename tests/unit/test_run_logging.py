"""`aura-operator run --log-level/--log-format`: what the Helm chart's logLevel/logFormat set."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from aura_operator.cli import build_parser
from aura_operator.cli.run import configure_logging


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _emit(level: int, message: str) -> str:
    """What kopf's root handler writes for `message` at `level` ("" when filtered out)."""
    root = logging.getLogger()
    (handler,) = [h for h in root.handlers if type(h).__name__ == "_KopfStreamHandler"]
    logger = logging.getLogger("aura_operator.test")
    if not logger.isEnabledFor(level):
        return ""
    record = logger.makeRecord(logger.name, level, __file__, 1, message, (), None)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        handler.handle(record)
    finally:
        handler.setStream(previous)
    return stream.getvalue()


def test_defaults_are_info_and_full() -> None:
    args = build_parser().parse_args(["run"])
    assert (args.log_level, args.log_format) == ("info", "full")


@pytest.mark.parametrize("option", ["--log-level=trace", "--log-format=yaml"])
def test_unknown_values_are_refused(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", option])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.usefixtures("root_logging")
def test_json_format_writes_one_json_object_per_line() -> None:
    configure_logging("info", "json")
    line = _emit(logging.INFO, "hello")
    record = json.loads(line)
    assert record["message"] == "hello"
    assert record["severity"] == "info"


@pytest.mark.usefixtures("root_logging")
def test_plain_format_is_the_message_alone() -> None:
    configure_logging("info", "plain")
    assert _emit(logging.INFO, "hello") == "hello\n"


@pytest.mark.usefixtures("root_logging")
@pytest.mark.parametrize(
    ("level", "shown", "hidden"),
    [
        ("debug", logging.DEBUG, None),
        ("info", logging.INFO, logging.DEBUG),
        ("warning", logging.WARNING, logging.INFO),
    ],
)
def test_levels(level: str, shown: int, hidden: int | None) -> None:
    configure_logging(level, "plain")
    assert _emit(shown, "shown") == "shown\n"
    if hidden is not None:
        assert _emit(hidden, "hidden") == ""
