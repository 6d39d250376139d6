"""The trace id that follows one incident from message to command to tool.

W3C trace-context form (32 lowercase hex digits, never all zeros), held in a
contextvar so asyncio tasks and threads started from a traced call inherit it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Final

TRACE_ID: Final = re.compile(r"^[0-9a-f]{32}$")
_current: ContextVar[str | None] = ContextVar("pytest_iris_trace_id", default=None)


def new_trace_id() -> str:
    """A fresh random trace id."""
    while True:
        value = secrets.token_hex(16)
        if value != "0" * 32:
            return value


def current_trace_id() -> str | None:
    """The trace id of the running context, if one is set."""
    return _current.get()


@contextlib.contextmanager
def trace(trace_id: str | None = None) -> Iterator[str]:
    """Run a block under ``trace_id`` (a new one if omitted), restoring the old one after."""
    value = trace_id or new_trace_id()
    if not TRACE_ID.match(value) or value == "0" * 32:
        from pytest_iris.errors import ValidationError

        raise ValidationError(f"trace id {value!r} is not 32 lowercase hex digits")
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)
