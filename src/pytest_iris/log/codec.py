"""``format`` and ``parse``: one message to its text and back, exactly.

``parse(format(m)) == m`` for every valid message, and ``format(parse(t)) ==
t`` for every real entry. ``parse`` is strict (one entry or an error naming
what is wrong); use :mod:`pytest_iris.log.reader` for whole logs, which never
raises on content.
"""

from __future__ import annotations

from pytest_iris.errors import ParseError
from pytest_iris.log.grammar import format_message
from pytest_iris.log.model import IRISMessage
from pytest_iris.log.reader import LogEntry, LogProblem, parse_lines

__all__ = ["format_message", "parse_message"]


def parse_message(text: str) -> IRISMessage:
    """The one entry in ``text`` (a stamped line plus any continuation lines).

    Raises :class:`~pytest_iris.errors.ParseError` when ``text`` is not
    exactly one entry, quoting the first offending line.
    """
    entries: list[LogEntry] = []
    # Every "\n" separates two lines: a final empty line is a blank continuation.
    for item in parse_lines(text.split("\n")):
        if isinstance(item, LogEntry):
            entries.append(item)
        elif isinstance(item, LogProblem):
            raise ParseError(f"{item}: {item.raw[:120]!r}")
        else:
            raise ParseError(
                f"line {item.line}: an unstamped {item.kind} block is not a message: "
                f"{item.lines[0 if item.lines[0] else -1][:120]!r}"
            )
    if len(entries) != 1:
        raise ParseError(
            f"expected exactly one messages.log entry, found {len(entries)} in {text[:120]!r}"
        )
    return entries[0].message
