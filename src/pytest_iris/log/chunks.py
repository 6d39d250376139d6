"""A whole chunk cut into entries and WIJ blocks without scanning its text in the regex engine.

sre reads a ``[^\\n]*`` one character at a time (about 4 ns each), so a
regex that matches whole lines costs as much as the baseline loop that
``bench/parse.py`` compares against. Here the regex engine only looks at
line starts: it finds each ``\\n`` with its fast literal scan and checks
the ~25 characters of a stamp, pid and severity there. What needs the
whole line is checked once per chunk with ``str`` methods (a trailing
space, an over-long line) or only where it is rare (the calendar of days
29-31, the lines of multi-line entries and WIJ blocks, checked by
:data:`~pytest_iris.log.runs.CHUNK_UNITS` one unit at a time). Anything
else, or anything unusual, leaves the chunk to the slower paths, which
give the same items.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import compress, repeat
from operator import contains, gt
from typing import Final

from pytest_iris.log.grammar import BLOCK_START, MAX_LINE_BYTES
from pytest_iris.log.runs import CHUNK_UNITS, WIJ_BLOCK

_BLOCK: Final = re.escape(BLOCK_START)
#: A date that exists (``datetime(2000 + YY, MM, DD)`` accepts it): days
#: 01-28 of any month in the first branch, which most lines take; 29 unless
#: it is February of a year that is not leap (2000-2099: every fourth); 30
#: unless February; 31 unless February, April, June, September or November.
DATE: Final = (
    r"(?:0[1-9]|1[0-2])/(?:0[1-9]|1[0-9]|2[0-8]"
    r"|29(?:(?<!02/29)|(?=/(?:[02468][048]|[13579][26])))"
    r"|30(?<!02/30)|31(?<!02/31)(?<!04/31)(?<!06/31)(?<!09/31)(?<!11/31))/[0-9][0-9]"
)
#: A stamped line's start, as strict as the line path (HEADER, then
#: StampCache): hours 00-23, minutes and seconds 00-59, a pid without a
#: leading zero (at most 20 digits), a severity followed by a space or the
#: end of the line.
_HEAD: Final = (
    DATE + r"-(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]:[0-9][0-9][0-9]"
    r" \((?:[1-9][0-9]{0,19}|0)\) [0-3](?![^ \n])"
)
#: The same, its date and its key (``SEVERITY`` or ``SEVERITY [Category]``, the category
#: as HEADER reads it: followed by a space or the end) captured. ``[^\]]``
#: is scanned by sre's fast single-character loop; a category it runs past
#: a line end for is refused by :func:`split_keys` (a key with a break).
_KEYED_HEAD: Final = (
    "(" + DATE + r")-(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]:[0-9][0-9][0-9]"
    r" \((?:[1-9][0-9]{0,19}|0)\) ([0-3] \[[^\]]+\](?![^ \n])|[0-3](?![^ \n]))"
)
#: The first line of a chunk (which starts with a stamp).
FIRST_HEAD: Final = re.compile(_KEYED_HEAD)
#: Where a unit starts: before a valid stamped line, and before a WIJ
#: block's first line or the blank line just before it (which is the
#: block's, as the line path has it); never after a line that ends in a
#: space (a header with a trailing separator, reported by the line path).
#: Any other line stays inside a unit, where :func:`_whole_units` sees it.
UNIT_SPLIT: Final = re.compile(
    r"\n(?<! \n)(?:(?=" + _HEAD + r")|(?=\n" + _BLOCK + r")|(?<!\n\n)(?=" + _BLOCK + r"))"
)
#: The same cuts, each entry's date and key between its unit and the one
#: before (``None`` before a block): what the summary counts.
KEY_SPLIT: Final = re.compile(
    r"\n(?<! \n)(?:(?=" + _KEYED_HEAD + r")|(?=\n" + _BLOCK + r")|(?<!\n\n)(?=" + _BLOCK + r"))"
)
#: In a unit of several lines, a line that only some entries take (not
#: blank, indented or ``*``-led), or a line after one ending in a space.
_UNUSUAL: Final = re.compile(r"\n(?:[^ \t*\n]|(?<= \n))")
_BLOCK_LINE: Final = "\n" + BLOCK_START
#: No line of a chunk is longer than twice this (see :func:`_short_lines`).
_HALF: Final = (MAX_LINE_BYTES - 8192) // 2


def split_chunk(text: str) -> tuple[list[str], list[int]] | None:
    """The units of a chunk that starts with a stamped line, and which of them have
    line breaks; None if the chunk holds anything else.

    A unit is an entry's lines or a WIJ block's joined by ``\\n``; a block's
    starts with ``\\n`` (its blank line) or ``*``, before any digit. The
    units are those :data:`~pytest_iris.log.runs.CHUNK_UNITS` finds and the
    line path makes: every unit starts with a valid stamped line or is a
    whole block, no line is longer than the regex bounds, and a unit of
    several lines that holds an unusual line is checked whole.
    """
    if text.endswith(" ") or FIRST_HEAD.match(text) is None:
        return None
    units: list[str] = UNIT_SPLIT.split(text)
    checked = _checked(text, units)
    return None if checked is None else (units, checked[0])


def split_keys(
    text: str,
) -> tuple[list[str], list[str], list[str | None], set[str | None]] | None:
    """As :func:`split_chunk`, but the units that have line breaks instead of
    which, with each unit's key (``None`` for a block) and the set of the
    entries' dates (perhaps with ``None``)."""
    if text.endswith(" "):
        return None
    first = FIRST_HEAD.match(text)
    if first is None:
        return None
    parts: list[str | None] = KEY_SPLIT.split(text)
    units: list[str] = parts[::3]  # type: ignore[assignment] # the texts between cuts
    checked = _checked(text, units)
    if checked is None:
        return None
    keys = parts[2::3]
    keys.append(first.group(2))
    days = set(parts[1::3])
    days.add(first.group(1))
    return units, checked[1], keys, days


def whole_keys(keys: Iterable[str | None]) -> bool:
    """Whether no key of :func:`split_keys` runs past its line (check the distinct ones)."""
    return not any(map(contains, filter(None, keys), repeat("\n")))


def _checked(text: str, units: list[str]) -> tuple[list[int], list[str]] | None:
    """Which units have line breaks, and those units, if the units are whole
    entries and blocks."""
    if len(text) > 2 * _HALF and not _short_lines(text):
        return None
    breaks: list[int] = list(map(contains, units, repeat("\n")))
    spread = list(compress(units, breaks))
    blocks = list(compress(spread, map(gt, repeat("0"), spread)))
    # A block of one line (no end) is not in ``spread``: the counts differ.
    if len(blocks) != text.count(_BLOCK_LINE):
        return None
    for unit in blocks:
        if WIJ_BLOCK.fullmatch(unit, 1 if unit[0] == "\n" else 0) is None:
            return None
    match = CHUNK_UNITS.match
    for unit in compress(spread, map(_UNUSUAL.search, spread)):
        if unit[0] not in "\n*":
            found = match(unit)
            if found is None or found.end(1) != len(unit):
                return None
    return breaks, spread


def _short_lines(text: str) -> bool:
    """Whether no line is longer than ``2 * _HALF``: each window of ``_HALF``
    characters holds a line break (a longer line would hold a whole window)."""
    find = text.find
    return all(find("\n", at, at + _HALF) >= 0 for at in range(0, len(text) - _HALF + 1, _HALF))
