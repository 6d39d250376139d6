"""pytest-iris's structlog pipeline: built once, configured at call time, JSON with a trace id."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from pytest_iris import logging as iris_logging
from pytest_iris.errors import ConfigError
from pytest_iris.testing import capture_events
from pytest_iris.tracing import TRACE_ID, trace


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    iris_logging.configure(level="info", stream=out)
    yield out
    iris_logging.configure()


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_logger_shares_one_pipeline() -> None:
    one = iris_logging.get_logger("a")
    two = iris_logging.get_logger("b", part="x")
    assert one._processors is two._processors


def test_an_event_is_one_json_line_with_level_timestamp_and_trace_id(stream: io.StringIO) -> None:
    with trace() as trace_id:
        iris_logging.get_logger("pytest_iris.x", part="tools").info("did.it", value=3)
    (event,) = _lines(stream)
    assert list(event) == [
        "logger_name", "part", "value", "event", "level", "timestamp", "trace_id",
    ]  # fmt: skip
    assert event["event"] == "did.it" and event["level"] == "info" and event["value"] == 3
    assert event["trace_id"] == trace_id
    assert str(event["timestamp"]).endswith("Z")


def test_configure_applies_to_loggers_made_before_it(stream: io.StringIO) -> None:
    log = iris_logging.get_logger("early")
    log.info("first")
    iris_logging.configure(level="warning", stream=stream)
    log.info("dropped")
    log.warning("kept")
    iris_logging.configure(level="debug", stream=stream)
    log.debug("now shown")
    assert [e["event"] for e in _lines(stream)] == ["first", "kept", "now shown"]


def test_captures_see_events_below_the_level(stream: io.StringIO) -> None:
    log = iris_logging.get_logger("quiet")
    with capture_events() as events:
        log.debug("detail", n=1)
    assert events.assert_event("detail", n=1)["level"] == "debug"
    assert TRACE_ID.match(str(events[0]["trace_id"]))
    assert stream.getvalue() == ""


def test_default_stream_is_stderr_at_write_time(capsys: pytest.CaptureFixture[str]) -> None:
    iris_logging.configure()
    iris_logging.get_logger("err").warning("to.stderr")
    assert json.loads(capsys.readouterr().err)["event"] == "to.stderr"


def test_unknown_level_names_the_known() -> None:
    with pytest.raises(ConfigError, match="'loud' is not one of debug, info, warning"):
        iris_logging.configure(level="loud")
