"""The severity field of a messages.log line, importable without pydantic."""

from __future__ import annotations

from enum import IntEnum


class Severity(IntEnum):
    """The third field of a messages.log line: 0 info ... 3 fatal."""

    INFO = 0
    WARNING = 1
    SEVERE = 2
    FATAL = 3
