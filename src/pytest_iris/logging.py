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

import sys
import threading
from collections.abc import MutableMapping
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
    """A structlog bound logger on pytest-iris's own JSON pipeline."""
    import structlog

    return structlog.wrap_logger(
        _Sink(),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_trace_id,
            _capture,
            _filter_level,
            structlog.processors.JSONRenderer(default=str),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS["debug"]),
        context_class=dict,
        cache_logger_on_first_use=False,
        logger_name=name,
        **initial_values,
    )


def _add_trace_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if not event.get("trace_id"):
        # outside any trace an event gets an id of its own: setting one here would
        # leak it into everything the caller's context logs afterwards
        event["trace_id"] = current_trace_id() or new_trace_id()
    return event


def _capture(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    with _lock:
        targets = list(_captures)
    for target in targets:
        target.append(dict(event))
    return event


def _filter_level(_: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    import structlog

    if LEVELS.get(method, LEVELS["info"]) < _level:
        raise structlog.DropEvent
    return event


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
