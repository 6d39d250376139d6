"""The reader's fast path: runs of ordinary entries recognised in one regex call.

Most of a messages.log is ordinary entries: a stamped line, sometimes
followed by continuation lines (the startup banner after an entry with no
text, indented wrap lines). :data:`RUN` matches the longest run of them
from a position, so that a whole run is checked by one C-level call and
split into entries by another; everything else (the journaling message's
unindented line, the WIJ recovery block, malformed or invalid lines) is
left to the reader's line-by-line path, which knows every rule in
:mod:`pytest_iris.log.grammar`. The patterns here accept only what that
path would accept as the same entries, never more.
"""

from __future__ import annotations

import re
from typing import Final

from pytest_iris.log.grammar import BLOCK_END, BLOCK_START, JOURNAL_MESSAGE, MAX_LINE_BYTES

#: A time of day that exists (hour 24 falls to the line path, which reports it).
_TIME: Final = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
_STAMP: Final = r"\d\d/\d\d/\d\d-" + _TIME + r":\d\d\d"
#: Bounds that keep every line a run holds under MAX_LINE_BYTES (a pid of up
#: to 20 digits, a category of up to 4,096 characters, the rest of a line
#: up to MAX_LINE_BYTES - 8,192): a longer line falls to the line path,
#: which reports an over-long one.
_PID: Final = r"\((?:0|[1-9]\d{0,19})\)"
_CATEGORY: Final = r"\[[^\]\n]{1,4096}\]"
_REST: Final = r"[^\n]{0," + str(MAX_LINE_BYTES - 8192) + "}"
#: ``(PID) SEVERITY`` and an optional ``[Category]``: no pid has a leading zero.
_PREFIX: Final = _STAMP + " " + _PID + r" [0-3](?: " + _CATEGORY + ")?"
_BLOCK: Final = re.escape(BLOCK_START)
#: An entry with no text (the one before the startup banner) takes any
#: unstamped line that does not start a WIJ recovery block.
_EMPTY: Final = r"(?![^\n])(?:\n()(?!\d\d/\d\d/\d\d-|" + _BLOCK + r")" + _REST + r"(?![^\n]))*+"
#: An entry with text (not ending in a space, which the line path reports,
#: nor in the journaling message, whose unindented second line it handles)
#: takes blank, indented or ``*``-led lines.
_TEXT: Final = (
    r" " + _REST + r"[^ \n](?<!" + re.escape(JOURNAL_MESSAGE) + r")(?![^\n])"
    r"(?:\n()(?:[ \t]"
    + _REST
    + r"|\*(?!"
    + re.escape(BLOCK_START[1:])
    + r")"
    + _REST
    + r")?(?![^\n]))*+"
)
_UNIT: Final = _PREFIX + r"(?:" + _EMPTY + r"|" + _TEXT + r")"

#: The longest run of ordinary entries from a position (lines joined by
#: ``\n``, no ``\r``, no NUL: the caller rules those out first). Its groups
#: are empty marks, set once a continuation line has matched: when all are
#: ``None`` (:data:`ONE_LINE`), every line of the run is an entry.
RUN: Final = re.compile(_UNIT + r"(?:\n" + _UNIT + r")*+")
ONE_LINE: Final = (None,) * RUN.groups

#: Where a run's entries start: at a break before a stamp.
ENTRY_BREAK: Final = re.compile(r"\n(?=\d\d/\d\d/\d\d-)")

#: ``(stamp, key)`` of each entry of a run, ``key`` being ``SEVERITY`` or
#: ``SEVERITY [Category]``, by ``findall`` over ``"\n" + run`` (only a
#: stamped line starts with a stamp). A ``[...]`` not followed by a space or
#: the end is text (a Caché line), as :data:`~pytest_iris.log.grammar.HEADER`
#: reads it.
RUN_KEYS: Final = re.compile(
    r"\n(\d\d/\d\d/\d\d-[^ \n]*) \(\d+\) ([0-3](?: \[[^\]\n]+\](?![^ \n]))?)"
)

#: One valid one-line entry per match, ``(stamp, key)`` captured, over
#: ``"\n" + lines``: when there are as many matches as lines, every line is
#: an entry of its own and the summary needs nothing else.
ONE_LINE_KEYS: Final = re.compile(
    r"\n(" + _STAMP + ") " + _PID + r" ([0-3](?: " + _CATEGORY + r"(?![^ \n]))?)"
    r"(?: " + _REST + r"[^ \n])?(?![^\n])"
)

_END: Final = re.escape(BLOCK_END)
#: A whole WIJ recovery block from its ``*** Recovery started at`` line to
#: its ``Exiting with status`` line, no stamped line between (the line path
#: ends a block there): tests/data/messages_real.log lines 112-122.
WIJ_BLOCK: Final = re.compile(
    _BLOCK + _REST + r"(?![^\n])(?:\n(?!\d\d/\d\d/\d\d-|" + _END + r")" + _REST + r"(?![^\n]))*+"
    r"\n" + _END + _REST + r"(?![^\n])"
)
