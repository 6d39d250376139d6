"""structlog JSON events, each carrying the trace id of the incident it belongs to.

pytest-iris logs through its own structlog pipeline (built by
:func:`get_logger`), so it neither needs nor disturbs a global
``structlog.configure`` of the user's. Nothing is configured at import:
:func:`configure` only changes where events go and the minimum level, and
the defaults (JSON lines on the *current* ``sys.stderr``, level ``info``)
apply until it is called. Every event gets ``trace_id`` (32 hex digits,
from :mod:`pytest_iris.tracing`), ``logger``, ``level`` and an ISO
``timestamp``. :mod:`pytest_iris.testing` captures events at any level.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

from pytest_iris.tracing import current_trace_id, new_trace_id

#: level name -> number, as the standard library numbers them
LEVELS: dict[str, int] = {
    "debug": 10,
    "info": 20,
    "warning": 30,
    "error": 40,
    "critical": 50,
}

_lock = threading.Lock()
_level = LEVELS["info"]
_stream: TextIO | None = None  # None: whatever sys.stderr is at write time
#: active captures (see pytest_iris.testing); every event is appended to each
_captures: list[list[dict[str, Any]]] = []


def configure(*, level: str = "info", stream: TextIO | None = None) -> None:
    """Set the minimum level written and the stream (``None``: current stderr)."""
    global _level, _stream
    name = level.lower()
    if name not in LEVELS:
        from pytest_iris.errors import ConfigError

        raise ConfigError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    with _lock:
        _level = LEVELS[name]
        _stream = stream


def get_logger(name: str = "pytest_iris", **initial_values: Any) -> Any:
    """A structlog bound logger on pytest-iris's own JSON pipeline.

    The pipeline is built once per process and shared by every logger, and
    the logger is bound at once (no lazy proxy to resolve on every call):
    :func:`configure` changes module state the processors read at call time,
    so nothing needs rebuilding.
    """
    import structlog

    processors, wrapper = _pipeline()
    return structlog.wrap_logger(
        _SINK,
        processors=processors,
        wrapper_class=wrapper,
        context_class=dict,
        cache_logger_on_first_use=True,
        logger_name=name,
        **initial_values,
    ).bind()


@functools.cache
def _pipeline() -> tuple[list[Any], Any]:
    import structlog

    global _Drop
    _Drop = structlog.DropEvent
    return [_enrich, _render], structlog.make_filtering_bound_logger(LEVELS["debug"])


#: structlog.DropEvent, bound when the pipeline is first built
_Drop: type[BaseException] = Exception
_LEVEL_NAMES = {"warn": "warning", "exception": "error", "fatal": "critical"}


def _enrich(_: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Level, timestamp, trace id; a copy to each capture; then the level filter.

    One processor instead of five: an event below the level with no capture
    active is dropped before any work.
    """
    level = _LEVEL_NAMES.get(method, method)
    number = LEVELS.get(level, LEVELS["info"])
    captures = _captures
    if number < _level and not captures:
        raise _Drop
    event["level"] = level
    event["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    if not event.get("trace_id"):
        # outside any trace an event gets an id of its own: setting one here would
        # leak it into everything the caller's context logs afterwards
        event["trace_id"] = current_trace_id() or new_trace_id()
    if captures:
        with _lock:
            targets = list(_captures)
        for target in targets:
            target.append(dict(event))
    if number < _level:
        raise _Drop
    return event


def _encoder() -> Callable[[Any], str]:
    """One JSON encoder for every event, built once.

    ``json.dumps(..., default=str)`` builds an encoder per call, and even a
    kept ``JSONEncoder`` builds its C encoder on every ``encode``; the C
    encoder itself is made once here (same output; the pure-Python encoder
    where the C one is missing). Events are flat dicts of fields: no check
    for circular references (one would end in a RecursionError).
    """
    from json import encoder

    make: Any = getattr(encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return json.JSONEncoder(default=str).encode
    chunks = make(None, str, encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)
    return lambda event: "".join(chunks(event, 0))


_encode = _encoder()


def _render(_: Any, __: str, event: MutableMapping[str, Any]) -> str:
    return _encode(event)


class _Sink:
    """Writes each rendered event as one line to the configured stream."""

    def msg(self, line: str) -> None:
        stream = _stream if _stream is not None else sys.stderr
        try:
            stream.write(line + "\n")
            stream.flush()
        except (ValueError, OSError):  # a closed stream (e.g. a finished test's capture)
            pass

    debug = info = warning = error = critical = log = msg


_SINK = _Sink()
