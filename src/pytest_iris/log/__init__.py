"""The log model in one package: the only place that formats or parses a line.

- :mod:`~pytest_iris.log.model`: :class:`IRISMessage` and :class:`Severity`;
- :mod:`~pytest_iris.log.grammar`: what a valid line is, and formatting;
- :mod:`~pytest_iris.log.codec`: one line (or entry) of text to a message;
- :mod:`~pytest_iris.log.reader`: whole files and streams, never raising;
- :mod:`~pytest_iris.log.summary`: counts over a file without models.

Names load on first use (pydantic only when a model is asked for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iris._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "IRISMessage": "pytest_iris.log.model",
    "Severity": "pytest_iris.log.model",
    "format_message": "pytest_iris.log.grammar",
    "parse_message": "pytest_iris.log.codec",
    "LogEntry": "pytest_iris.log.reader",
    "LogProblem": "pytest_iris.log.reader",
    "read_log": "pytest_iris.log.reader",
    "parse_lines": "pytest_iris.log.reader",
    "parse_text": "pytest_iris.log.reader",
    "iter_messages": "pytest_iris.log.reader",
    "LogSummary": "pytest_iris.log.summary",
    "summarize": "pytest_iris.log.summary",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS, globals())

if TYPE_CHECKING:
    from pytest_iris.log.codec import parse_message
    from pytest_iris.log.grammar import format_message
    from pytest_iris.log.model import IRISMessage, Severity
    from pytest_iris.log.reader import (
        LogEntry,
        LogProblem,
        iter_messages,
        parse_lines,
        parse_text,
        read_log,
    )
    from pytest_iris.log.summary import LogSummary, summarize
