"""The messages.log line grammar: one place that says what a line is and writes it.

``MM/DD/YY-HH:MM:SS:mmm (PID) SEVERITY [Category] Message`` for IRIS, the
same without ``[Category]`` for Caché's cconsole.log and IRIS before 2020
(tests/data/messages_real.log lines 84-97 and 137-138). Unstamped lines
that follow an entry are its continuation lines (the startup banner, indented
wrap lines, the unindented second line of the journaling system message);
the WIJ recovery program's output is a block of its own (lines 111-122).
This module imports nothing heavy so that the plugin, the CLI summary and
the generator's fast path stay cheap to load.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pytest_iris.log.model import IRISMessage

#: Lines longer than this are reported as problems instead of parsed.
MAX_LINE_BYTES: Final = 64 * 1024

#: A whole stamped line (without its line break). A pid has no leading zero
#: (IRIS never writes one, and it would not survive a round trip). Groups:
#: date ``MM/DD/YY``, time ``HH:MM:SS``, milliseconds, pid, severity,
#: category (``None`` for Caché lines), text (``None`` when absent).
HEADER: Final = re.compile(
    r"(\d\d/\d\d/\d\d)-(\d\d:\d\d:\d\d):(\d\d\d) \((0|[1-9]\d*)\) ([0-3])"
    r"(?: \[([^\]\n\r\x00]+)\])?(?: ([^\n\r\x00]*))?\Z"
)

#: A break before a line that starts like a stamp (where a run may begin).
NEXT_STAMP: Final = re.compile(r"\n(?=\d\d/\d\d/\d\d-)")

#: What every stamped line starts with; a line that starts like this but
#: does not match :data:`HEADER` is a malformed header, not a continuation.
STAMP_START: Final = re.compile(r"\d\d/\d\d/\d\d-")

#: A header's fields in order, each with what it allows: :func:`header_fault`
#: names the first one a malformed header gets wrong (HEADER's own parts).
_HEADER_FIELDS: Final = (
    ("timestamp", re.compile(r"\d\d/\d\d/\d\d-\d\d:\d\d:\d\d:\d\d\d"), "MM/DD/YY-HH:MM:SS:mmm"),
    ("pid", re.compile(r" \((?:0|[1-9]\d*)\)"), "(PID), digits without a leading zero"),
    ("severity", re.compile(r" [0-3](?= |\Z)"), "0, 1, 2 or 3"),
)
_HEADER_FORM: Final = "MM/DD/YY-HH:MM:SS:mmm (PID) SEVERITY [Category] Message"


def header_fault(line: str) -> str:
    """Why a line that starts like a stamp is not a header: the first field that is
    wrong, what it holds and what it allows (a reason for ``LogProblem``)."""
    at = 0
    for name, pattern, allowed in _HEADER_FIELDS:
        found = pattern.match(line, at)
        if found is None:
            rest = line[at:].removeprefix(" ")
            held = rest.split(" ", 1)[0]
            return f"malformed header: {name} {held!r}, expected {allowed} (a header is {_HEADER_FORM})"
        at = found.end()
    return (
        "malformed header: after the severity, a [Category] closed on its line and a text "
        f"without CR or NUL (a header is {_HEADER_FORM})"
    )


#: The first line of the WIJ recovery program's block, written without a
#: stamp before the startup (tests/data/messages_real.log line 112).
BLOCK_START: Final = "*** Recovery started at "
#: Its last line: ``Exiting with status 3 (Success)`` (line 122).
BLOCK_END: Final = "Exiting with status "

#: An entry with this text takes one unindented second line, ``Journaling
#: switched to: <file>`` (tests/data/messages_real.log lines 103-104).
JOURNAL_MESSAGE: Final = "JOURNALING SYSTEM MESSAGE"

#: A text that would be read back as a category if written without one.
_CATEGORY_LOOKALIKE: Final = re.compile(r"\[[^\]\n\r\x00]+\](?: |\Z)")

_FORBIDDEN: Final = ("\n", "\r", "\x00")


def continuation_allowed(text: str, line: str, index: int) -> bool:
    """Whether ``line`` may be continuation line ``index`` of an entry whose text is ``text``.

    An entry with empty text opens a block (the startup banner) that takes
    any unstamped line; the journaling system message takes one unindented
    line. Otherwise only blank, indented or ``*``-led lines continue an
    entry; anything else is garbage. A WIJ recovery block never does.
    """
    if line.startswith(BLOCK_START):
        return False
    if not text or not line:
        return True
    if index == 0 and text.endswith(JOURNAL_MESSAGE):
        return True
    return line[0] in " \t*"


def timestamp_problem(value: datetime) -> str | None:
    """Why ``value`` cannot be written as a messages.log timestamp, if it cannot."""
    if value.tzinfo is not None:
        return "timestamp must be naive local time, as messages.log has no zone"
    if not 2000 <= value.year <= 2099:
        return f"year {value.year} cannot be written as two digits (2000-2099)"
    if value.microsecond % 1000:
        return "timestamp must have whole milliseconds"
    return None


def message_problem(category: str | None, text: str, continuation: tuple[str, ...]) -> str | None:
    """Why these fields would not survive ``parse(format(...))``, if they would not."""
    if category is not None:
        if not category:
            return "category must not be empty (use None for Caché lines)"
        if "]" in category or any(c in category for c in _FORBIDDEN):
            return f"category {category!r} must not contain ']' or line breaks"
    elif _CATEGORY_LOOKALIKE.match(text):
        return f"text {text!r} would read back as a category; set category"
    if any(c in text for c in _FORBIDDEN):
        return "text must not contain line breaks or NUL"
    for index, line in enumerate(continuation):
        if any(c in line for c in _FORBIDDEN):
            return f"continuation line {index} must not contain line breaks or NUL"
        if STAMP_START.match(line):
            return f"continuation line {index} starts like a timestamp: {line!r}"
        if line.startswith(BLOCK_START):
            return f"continuation line {index} starts a WIJ recovery block: {line!r}"
        if not continuation_allowed(text, line, index):
            return (
                f"continuation line {index} ({line!r}) must be blank, indented or "
                "start with '*' unless the entry's text is empty"
            )
    return None


# -- writing ---------------------------------------------------------------

#: "000".."999": the millisecond field.
MILLIS3: Final = tuple(f"{i:03d}" for i in range(1000))
_SECONDS: list[str] = []


def seconds_of_day() -> list[str]:
    """``HH:MM:SS:`` for every second of a day, by second (built once, ~10 ms)."""
    if not _SECONDS:  # concatenation, not 86,400 f-strings: 10x faster for each new process
        minutes = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
        seconds = [f"{s:02d}:" for s in range(60)]
        _SECONDS.extend(hm + ss for hm in minutes for ss in seconds)
    return _SECONDS


def day_prefix(day: date) -> str:
    """``MM/DD/YY-``: the part of a stamp that names the day."""
    return f"{day.month:02d}/{day.day:02d}/{day.year % 100:02d}-"


def format_stamp(value: datetime) -> str:
    """``MM/DD/YY-HH:MM:SS:mmm`` for a timestamp."""
    return (
        f"{value.month:02d}/{value.day:02d}/{value.year % 100:02d}-"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}:"
        f"{value.microsecond // 1000:03d}"
    )


def format_tail(severity: int, category: str | None, text: str) -> str:
    """``SEVERITY [Category] text``: what follows ``(PID) `` on a stamped line."""
    tail = str(int(severity))
    if category is not None:
        tail += f" [{category}]"
    if text:
        tail += f" {text}"
    return tail


def format_fields(
    stamp: str,
    pid: int,
    severity: int,
    category: str | None,
    text: str,
    continuation: Sequence[str] = (),
) -> str:
    """A whole entry from its fields, ``stamp`` already written (see :func:`format_stamp`)."""
    line = f"{stamp} ({pid}) {format_tail(severity, category, text)}"
    if continuation:
        return "\n".join((line, *continuation))
    return line


def format_header(message: IRISMessage) -> str:
    """The stamped first line of an entry."""
    return format_fields(
        format_stamp(message.timestamp),
        message.pid,
        message.severity,
        message.category,
        message.text,
    )


def format_message(message: IRISMessage) -> str:
    """The whole entry: header and continuation lines joined by ``\\n``."""
    return format_fields(
        format_stamp(message.timestamp),
        message.pid,
        message.severity,
        message.category,
        message.text,
        message.continuation,
    )
