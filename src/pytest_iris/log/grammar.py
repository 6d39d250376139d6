"""The messages.log line grammar: one place that says what a line is.

``MM/DD/YY-HH:MM:SS:mmm (PID) SEVERITY [Category] Message`` for IRIS, the
same without ``[Category]`` for Caché's cconsole.log. Unstamped lines that
follow an entry are its continuation lines (the startup banner, a WIJ
recovery block, indented wrap lines). This module imports nothing heavy so
that the plugin and the CLI summary stay cheap to load.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pytest_iris.log.model import IRISMessage

#: Lines longer than this are reported as problems instead of parsed.
MAX_LINE_BYTES: Final = 64 * 1024

#: A whole stamped line (without its line break). A pid has no leading zero
#: (IRIS never writes one, and it would not survive a round trip). Groups:
#: the stamp down to the second (``MM/DD/YY-HH:MM:SS``), milliseconds, pid,
#: severity, category (``None`` for Caché lines), text (``None`` when absent).
HEADER: Final = re.compile(
    r"(\d\d/\d\d/\d\d-\d\d:\d\d:\d\d):(\d\d\d) \((0|[1-9]\d*)\) ([0-3])"
    r"(?: \[([^\]\n\r\x00]+)\])?(?: ([^\n\r\x00]*))?\Z"
)

_TEXT_MAX = MAX_LINE_BYTES - 300
#: A time of day that exists; a stamped line with another (hour 24) falls to
#: the line-by-line path, which reports it as an invalid timestamp.
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
_CATEGORY = r"(?: \[([^\]\n\r\x00]{1,255})\])?"

#: :data:`HEADER` for many lines at once (``findall`` over a block of text,
#: with ``re.M``). Groups: date ``MM/DD/YY``, time ``HH:MM:SS``, millis, pid,
#: severity, category, text; an absent category or text is ``""``. Lengths
#: are bounded so that no matched line exceeds :data:`MAX_LINE_BYTES`.
HEADER_LINES: Final = re.compile(
    r"^(\d\d/\d\d/\d\d)-("
    + _TIME
    + r"):(\d\d\d) \((0|[1-9]\d{0,9})\) ([0-3])"
    + _CATEGORY
    + r"(?: ([^\n\r\x00]{0,"
    + str(_TEXT_MAX)
    + r"}))?$",
    re.M,
)

#: :data:`HEADER_LINES` for counting. Groups: year (captured ahead, so that a
#: row's leading (year, date, time, millis) sorts as time does), date, time,
#: millis, severity, category, and of the text only its first character
#: (whether it is empty decides what may continue the entry).
SUMMARY_LINES: Final = re.compile(
    r"^(?=\d\d/\d\d/(\d\d))(\d\d/\d\d/\d\d)-(" + _TIME + r"):(\d\d\d) "
    r"\((?:0|[1-9]\d{0,9})\) ([0-3])"
    + _CATEGORY
    + r"(?: (?:([^\n\r\x00])[^\n\r\x00]{0,"
    + str(_TEXT_MAX - 1)
    + r"})?)?$",
    re.M,
)

#: A line break followed by a line that does not even start like a stamped
#: line (``finditer``; a literal first character makes the scan fast). Lines
#: that start like a stamp but fail the full grammar are caught by counting
#: what ``findall`` matched.
OTHER_LINES: Final = re.compile(r"\n(?!\d\d/\d\d/\d\d-\d\d:\d\d:\d\d:\d\d\d \(\d+\) [0-3])[^\n]*")

#: A stamped line whose text is empty but which still ends in a separator
#: space: the one case :func:`format_message` cannot reproduce.
TRAILING_SEPARATOR: Final = re.compile(
    r"^\d\d/\d\d/\d\d-\d\d:\d\d:\d\d:\d\d\d \(\d+\) [0-3](?: \[[^\]\n\r\x00]+\])? $",
    re.M,
)

#: What every stamped line starts with; a line that starts like this but
#: does not match :data:`HEADER` is a malformed header, not a continuation.
STAMP_START: Final = re.compile(r"\d\d/\d\d/\d\d-")

#: A text that would be read back as a category if written without one.
_CATEGORY_LOOKALIKE: Final = re.compile(r"\[[^\]\n\r\x00]+\](?: |\Z)")

_FORBIDDEN: Final = ("\n", "\r", "\x00")


def continuation_allowed(text: str, line: str) -> bool:
    """Whether ``line`` may continue an entry whose text is ``text``.

    An entry with empty text opens a block (the startup banner, the WIJ
    recovery block) that takes any unstamped line. Otherwise only blank,
    indented or ``*``-led lines continue it; anything else is garbage.
    """
    if not text or not line:
        return True
    first = line[0]
    return first in " \t*"


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
        if not continuation_allowed(text, line):
            return (
                f"continuation line {index} ({line!r}) must be blank, indented or "
                "start with '*' unless the entry's text is empty"
            )
    return None


def format_stamp(value: datetime) -> str:
    """``MM/DD/YY-HH:MM:SS:mmm`` for a timestamp."""
    return (
        f"{value.month:02d}/{value.day:02d}/{value.year % 100:02d}-"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}:"
        f"{value.microsecond // 1000:03d}"
    )


def format_header(message: IRISMessage) -> str:
    """The stamped first line of an entry."""
    line = f"{format_stamp(message.timestamp)} ({message.pid}) {int(message.severity)}"
    if message.category is not None:
        line += f" [{message.category}]"
    if message.text:
        line += f" {message.text}"
    return line


def format_message(message: IRISMessage) -> str:
    """The whole entry: header and continuation lines joined by ``\\n``."""
    header = format_header(message)
    if not message.continuation:
        return header
    return "\n".join((header, *message.continuation))
