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
_EMPTY: Final = r"(?![^\n])(?>(?:\n()(?!\d\d/\d\d/\d\d-|" + _BLOCK + r")" + _REST + r"(?![^\n]))*)"
#: An entry with text (not ending in a space, which the line path reports,
#: nor in the journaling message, whose unindented second line it handles)
#: takes blank, indented or ``*``-led lines.
_TEXT: Final = (
    r" " + _REST + r"[^ \n](?<!" + re.escape(JOURNAL_MESSAGE) + r")(?![^\n])"
    r"(?>(?:\n()(?:[ \t]"
    + _REST
    + r"|\*(?!"
    + re.escape(BLOCK_START[1:])
    + r")"
    + _REST
    + r")?(?![^\n]))*)"
)
_UNIT: Final = _PREFIX + r"(?:" + _EMPTY + r"|" + _TEXT + r")"

#: The longest run of ordinary entries from a position (lines joined by
#: ``\n``, no ``\r``, no NUL: the caller rules those out first). Its groups
#: are empty marks, set once a continuation line has matched: when all are
#: ``None`` (:data:`ONE_LINE`), every line of the run is an entry.
RUN: Final = re.compile(_UNIT + r"(?>(?:\n" + _UNIT + r")*)")
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
    _BLOCK + _REST + r"(?![^\n])(?>(?:\n(?!\d\d/\d\d/\d\d-|" + _END + r")" + _REST + r"(?![^\n]))*)"
    r"\n" + _END + _REST + r"(?![^\n])"
)

# -- whole chunks -----------------------------------------------------------
#
# The reader's chunk path: one ``findall`` over a whole chunk yields every
# entry's text (its lines joined) and every WIJ block's, and a length sum
# proves that they tile the chunk with nothing between them; only then are
# they taken as they are. Written for sre's fast opcodes: ``[0-9]`` rather
# than ``\d`` (Unicode digits fall to the line path), a category set sre
# keeps as a bitmap, no alternation on the common path.

_D2: Final = "[0-9][0-9]"
#: A date that exists (``datetime(2000 + YY, MM, DD)`` accepts it): months
#: 01-12, days 01-31, no 30 or 31 in February, no 29 unless YY is a leap
#: year (2000-2099: every fourth), no 31 in April, June, September,
#: November. One negative lookahead, which fails on the first character or
#: two for most dates; a set of each chunk's days cost more.
CHUNK_DATE: Final = (
    r"(?!00|1[3-9]|02/(?:3|29/(?![02468][048]|[13579][26]))|(?:0[469]|11)/31)"
    r"[01][0-9]/(?!00|3[2-9])[0-3][0-9]/[0-9][0-9]"
)
#: Hours 00-23, minutes and seconds 00-59.
_CHUNK_STAMP: Final = CHUNK_DATE + r"-(?!2[4-9])[0-2][0-9]:[0-5][0-9]:[0-5][0-9]:[0-9][0-9][0-9]"
#: A pid without a leading zero, as :data:`~pytest_iris.log.grammar.HEADER`.
_CHUNK_PID: Final = r" \((?!0[0-9])[0-9]{1,20}\) "
_CHUNK_CATEGORY: Final = r" \[[^\]\n\r\x00]{1,4096}\]"
_NO_BLOCK: Final = r"(?!" + _BLOCK + r"|\n" + _BLOCK + r")"
#: Blank, indented or ``*``-led lines after an entry with text; a blank line
#: right before a WIJ block is the block's. The lookahead keeps the common
#: case (a stamped line next) out of the loop.
_CHUNK_CONT: Final = (
    r"(?:(?=\n[^0-9]|\n\Z)(?>(?:\n(?!\n" + _BLOCK + r")(?:[ \t]" + _REST + r"|\*(?!"
    + re.escape(BLOCK_START[1:])
    + r")"
    + _REST
    + r")?(?![^\n]))*))?"
)  # fmt: skip
#: Any line but a stamped one or a block's (the banner after an empty text,
#: the journaling message's second line); ``\d`` as the line path's
#: STAMP_START has it.
_ANY_LINE: Final = r"\n(?!\d\d/\d\d/\d\d-)" + _NO_BLOCK + _REST + r"(?![^\n])"
#: The rest of a line, taken whole (an atomic group: possessive quantifiers
#: mis-match before Python 3.11.5, gh-106052; tests/test_reader_pythons.py).
_CHUNK_REST: Final = r"(?>[^\n]{1," + str(MAX_LINE_BYTES - 8192) + r"})"
#: The text of an entry: not ending in a space (a trailing separator, and a
#: category the line path reads back as text, both go there), not the
#: journaling message.
_CHUNK_TEXT: Final = (
    r" " + _CHUNK_REST + r"(?<! )(?<!" + re.escape(JOURNAL_MESSAGE) + r")"
    r"(?![^\n])" + _CHUNK_CONT
)
_CHUNK_JOURNAL: Final = (
    r" " + _REST + re.escape(JOURNAL_MESSAGE) + r"(?![^\n])(?:" + _ANY_LINE + ")?" + _CHUNK_CONT
)
_CHUNK_EMPTY: Final = r"(?![^\n])(?>(?:" + _ANY_LINE + r")*)"
#: What follows ``SEVERITY`` or ``SEVERITY [Category]``: a category the rest
#: does not fit is text, as the line path's HEADER backtracks.
_CHUNK_TAIL: Final = r"(?:" + _CHUNK_TEXT + "|" + _CHUNK_EMPTY + "|" + _CHUNK_JOURNAL + ")"
_CHUNK_BLOCK: Final = r"\n?" + WIJ_BLOCK.pattern

#: One unit per match, its lines joined by ``\n``: an entry (starting with
#: its stamp) or a whole WIJ block (starting with ``\n`` for its blank line,
#: or ``*``).
CHUNK_UNITS: Final = re.compile(
    r"(" + _CHUNK_STAMP + _CHUNK_PID + "[0-3](?:" + _CHUNK_CATEGORY + _CHUNK_TAIL + "|"
    + _CHUNK_TAIL
    + ")|"
    + _CHUNK_BLOCK
    + r")\n?"
)  # fmt: skip
#: The same, with the entry's key as a second group when it has a category
#: (``SEVERITY [Category]``) and as a third when it has none (``SEVERITY``),
#: both empty for a block: what the summary counts. Two groups keep the
#: category a branch rather than an optional group, as in CHUNK_UNITS.
CHUNK_KEYS: Final = re.compile(
    r"(" + _CHUNK_STAMP + _CHUNK_PID + "(?:([0-3]" + _CHUNK_CATEGORY + ")" + _CHUNK_TAIL
    + "|([0-3])" + _CHUNK_TAIL + ")|"
    + _CHUNK_BLOCK
    + r")\n?"
)  # fmt: skip
#: A stamped line's start in ASCII digits: where a chunk's path may begin.
CHUNK_START: Final = re.compile(_D2 + "/" + _D2 + "/" + _D2 + "-")
