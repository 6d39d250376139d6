"""Transport events through pytest-iris's structlog pipeline, without side effects.

The pipeline gives every event a trace id and, when none is set, creates one
*in the caller's context*; a publisher would then stamp that id on every
message it sends afterwards. Each event here is logged in a copy of the
context, so it still carries the caller's trace id but never sets one.
"""

from __future__ import annotations

import contextvars
from typing import Any


class EventLog:
    """``debug``/``info``/``warning``/``error`` events for one transport component."""

    def __init__(self, name: str, **bound: Any) -> None:
        from pytest_iris.logging import get_logger

        self._logger = get_logger(name, **bound)

    def _emit(self, level: str, event: str, fields: dict[str, Any]) -> None:
        contextvars.copy_context().run(getattr(self._logger, level), event, **fields)

    def debug(self, event: str, **fields: Any) -> None:
        self._emit("debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit("info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit("error", event, fields)
