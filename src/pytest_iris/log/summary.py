"""Counting a log without building an entry per line: what ``pytest-iris parse`` prints.

A summary needs severities, categories, the time span and the problems, all
of which one regex pass over a run of lines already yields; counting the
``(severity, category)`` pairs in C is what keeps summarising close to a
bare regex loop (``bench/parse.py``).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from operator import add, itemgetter
from typing import Final

from pytest_iris.log.chunks import split_keys, whole_keys
from pytest_iris.log.reader import _DAY, LogBlock, LogProblem, _Assembler, _groups, read_log
from pytest_iris.log.runs import CHUNK_KEYS, RUN_KEYS

#: How many problems a summary keeps verbatim; the rest are only counted.
KEPT_PROBLEMS = 1000


@dataclass
class LogSummary:
    """Counts by severity and category, time span, blocks and problems of one log."""

    path: str
    entries: int = 0
    lines: int = 0
    blocks: int = 0
    by_severity: Counter[int] = field(default_factory=Counter)
    by_category: Counter[str | None] = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None
    problems: list[LogProblem] = field(default_factory=list)
    problem_count: int = 0

    def render(self) -> str:
        """The human-readable report printed by ``pytest-iris parse``."""
        names = {0: "info", 1: "warning", 2: "severe", 3: "fatal"}
        out = [f"{self.path}: {self.entries} entries in {self.lines} lines"]
        if self.blocks:
            out.append(f"  unstamped blocks (WIJ recovery): {self.blocks}")
        if self.first is not None and self.last is not None:
            out.append(
                f"  time span: {self.first.isoformat(timespec='milliseconds')} .. "
                f"{self.last.isoformat(timespec='milliseconds')} "
                f"({self.last - self.first})"
            )
        out.append("  by severity:")
        for level in range(4):
            out.append(f"    {level} {names[level]:<8} {self.by_severity.get(level, 0):>9}")
        out.append("  by category:")
        for category, count in sorted(
            self.by_category.items(), key=lambda kv: (-kv[1], kv[0] or "")
        ):
            out.append(f"    {category or '(none: Caché format)':<40} {count:>9}")
        out.append(f"  problems: {self.problem_count}")
        for problem in self.problems:
            out.append(f"    {self.path}:{problem.line}: {problem.reason}")
        if self.problem_count > len(self.problems):
            out.append(f"    ... {self.problem_count - len(self.problems)} more")
        return "\n".join(out)


_YEAR: Final = itemgetter(slice(6, 8))
_STAMP: Final = itemgetter(0)
_KEY: Final = itemgetter(1)
_UNIT: Final = itemgetter(0)
_WITH_CATEGORY: Final = itemgetter(1)
_WITHOUT_CATEGORY: Final = itemgetter(2)


def _ascii_digits(stamp: str) -> str:
    """A stamp with other decimal digits (which the grammar's ``\\d`` accepts) in ASCII,
    so that stamps compare as their times do."""
    return "".join(str(int(c)) if c.isdecimal() else c for c in stamp)


def _time_key(line: str) -> tuple[str, str]:
    """A stamp's sort key: the year first, then ``MM/DD/YY-HH:MM:SS:mmm``."""
    return line[6:8], line[:21]


#: Up to this many days in a chunk (a sequential log), its time span is found by
#: comparing its units; with more (excerpts, as the real corpus), each day has
#: few entries, and :meth:`_Counter._day_span` visits only two days' entries.
_FEW_DAYS: Final = 3


def _times_of(text: str, day: str) -> list[str]:
    """``HH:MM:SS:mmm`` of each line of ``text`` that starts with ``day`` (``MM/DD/YY``)."""
    times = [text[9:21]] if text.startswith(day) else []
    needle = f"\n{day}-"
    find = text.find
    at = find(needle)
    while at >= 0:
        times.append(text[at + 10 : at + 22])
        at = find(needle, at + 22)
    return times


def _chunk_days(text: str, units: list[str]) -> set[str]:
    """The dates of a chunk's entries (``units``: each one's lines joined; a
    WIJ block's starts with ``\\n`` or ``*``)."""
    first = text[:8]
    # One day (a chunk of a sequential log, often), counted in C.
    if units[-1].startswith(first) and text.count(f"\n{first}-") == len(units) - 1:
        return {first}
    return {day for day in set(map(_DAY, units)) if day[0] not in "\n*"}


class _Counter(_Assembler):
    """An assembler that counts entries instead of building them."""

    __slots__ = ("_counted", "_high", "_keys", "_low", "blocks", "entries")

    def __init__(self) -> None:
        super().__init__()
        self._low: tuple[str, str] | None = None
        self._high: tuple[str, str] | None = None
        #: ``SEVERITY`` or ``SEVERITY [Category]`` -> entries.
        self._keys: Counter[str | None] = Counter()
        self._counted = False
        self.entries = 0
        self.blocks = 0

    def take_chunk(self, text: str, number: int) -> int | None:
        # Units and keys of the whole chunk in one split; no entry is made.
        split = split_keys(text)
        if split is None:
            return self._take_found(text, number)
        units, spread, keys, dates = split
        counted = Counter(keys)
        if not whole_keys(counted):
            return self._take_found(text, number)
        self.flush()
        blocks = counted.pop(None, 0)
        self._keys.update(counted)
        # One count over the units' joined texts: ``str.count`` parses its
        # arguments, which costs more than counting a unit's few characters.
        lines = len(units) + "".join(spread).count("\n")
        dates.discard(None)
        days: set[str] = dates  # type: ignore[assignment] # None removed
        if len(days) > _FEW_DAYS:
            self._day_span(text, days)
        elif days:  # a few days, each with many entries: compared in C
            self._unit_span(units, days, blocks)
        return self._took(units, blocks, number, lines)

    def _take_found(self, text: str, number: int) -> int | None:
        """A chunk's units and keys by :data:`CHUNK_KEYS` (what :func:`split_keys` leaves)."""
        found: list[tuple[str, str, str]] = CHUNK_KEYS.findall(text)
        units = list(map(_UNIT, found))
        if sum(map(len, units)) + len(units) - 1 != len(text):
            return None
        self.flush()
        keys = self._keys
        keys.update(map(_WITH_CATEGORY, found))
        # An entry leaves one key group empty, a block both; the keys without
        # a category are one digit each, counted as the characters of one string.
        plain = "".join(map(_WITHOUT_CATEGORY, found))
        keys.update(plain)
        blocks = keys.pop("", 0) - len(plain)
        if len(units) > blocks:
            self._unit_span(units, _chunk_days(text, units), blocks)
        return self._took(units, blocks, number, text.count("\n") + 1)

    def _took(self, units: list[str], blocks: int, number: int, lines: int) -> int:
        """Count a chunk's entries; its last unit stays open."""
        self.blocks += blocks
        self.entries += len(units) - blocks
        unit = units[-1]
        last = number + lines - 1 - unit.count("\n")
        if unit[0] in "\n*":
            self._line = last  # as flush() leaves it after a block
        else:
            self._open_unit(last, unit)
            self._counted = True
        return number + lines

    def _unit_span(self, units: list[str], days: set[str], blocks: int) -> None:
        """Widen the time span by a chunk's entries (``units`` start with their stamps).

        A block's unit starts with ``\\n`` or ``*``, before any digit: the
        lowest and highest entries are found among the units of the earliest
        and latest day, by string comparison in C.
        """
        low_day = min(zip(map(_YEAR, days), days, strict=True))[1]
        high_day = max(zip(map(_YEAR, days), days, strict=True))[1]
        # Blocks sort first, and so may other years' days: keep what sorts from low_day.
        simple = not blocks and low_day == min(days)
        low = min(units) if simple else min(filter(low_day.__le__, units))
        if high_day < max(days):
            bound = high_day[:7] + chr(ord(high_day[7]) + 1)
            high = max(filter(bound.__gt__, units))
        else:
            high = max(units)
        self._extremes(_time_key(low), _time_key(high))

    def _day_span(self, text: str, days: set[str]) -> None:
        """Widen the time span by a chunk's earliest and latest entries, found on
        the earliest and latest of its ``days`` (the years first).

        Only an entry's line starts with a stamp in a chunk :func:`split_keys`
        took (a continuation or block line that did would have refused it):
        ``str.find`` for ``\\nMM/DD/YY-`` visits that day's entries, skipping the
        rest of the text at memchr speed, and no unit is compared.
        """
        low_day = min(zip(map(_YEAR, days), days, strict=True))[1]
        high_day = max(zip(map(_YEAR, days), days, strict=True))[1]
        low = min(_times_of(text, low_day))
        high = low if high_day == low_day else max(_times_of(text, high_day))
        self._extremes((low_day[6:8], f"{low_day}-{low}"), (high_day[6:8], f"{high_day}-{high}"))

    def _count_stamps(self, stamps: list[str], days: set[str]) -> None:
        """Count entries and widen the time span (``stamps``: texts that start with one)."""
        self.entries += len(stamps)
        years = set(map(_YEAR, days))
        if len(years) == 1:  # one year: the entries sort as their stamps do
            year = years.pop()
            self._extremes((year, min(stamps)[:21]), (year, max(stamps)[:21]))
        else:  # sort on year + stamp, joined in C
            keyed = list(map(add, map(_YEAR, stamps), stamps))
            low, high = min(keyed), max(keyed)
            self._extremes((low[:2], low[2:23]), (high[:2], high[2:23]))

    def _run(self, text: str, number: int, one_line: bool) -> int:
        if not text.isascii():  # stamps in other digits compare only once made ASCII
            for line in text.split("\n"):
                self.feed(number, line)
                number += 1
            return number
        # The entries' stamps and keys in one call: no entry is built.
        pairs: list[tuple[str, str]] = RUN_KEYS.findall(f"\n{text}")
        stamps = list(map(_STAMP, pairs))
        days = self._days(stamps, text)
        if days is None:
            return super()._run(text, number, one_line)  # the line path reports the date
        self.flush()
        self._keys.update(map(_KEY, pairs))
        self._count_stamps(stamps, days)
        self._counted = True
        if one_line:
            self._open(number + len(stamps) - 1, text[text.rfind("\n") + 1 :], None)
            return number + len(stamps)
        last = text.rfind("\n" + stamps[-1]) + 1  # only an entry's line starts with a stamp
        self._open_unit(number + text.count("\n", 0, last), text[last:])
        return number + text.count("\n") + 1

    def emit(self, line: int, header: str, cont: tuple[str, ...]) -> None:
        if self._counted:
            self._counted = False
            return
        groups = _groups(header)
        self.entries += 1
        key = groups[4] or "0"
        if groups[5] is not None:
            key += f" [{groups[5]}]"
        self._keys[key] += 1
        stamp = _time_key(header if header.isascii() else _ascii_digits(header[:21]))
        self._extremes(stamp, stamp)

    def emit_block(self, block: LogBlock) -> None:
        self.blocks += 1

    def _extremes(self, low: tuple[str, str], high: tuple[str, str]) -> None:
        if self._low is None or low < self._low:
            self._low = low
        if self._high is None or high > self._high:
            self._high = high

    def _at(self, key: tuple[str, str] | None) -> datetime | None:
        if key is None:
            return None
        stamp = key[1]
        return self._stamps.at(stamp[:8], stamp[9:17], stamp[18:21])

    def summary(self, path: str, problems: list[LogProblem], problem_count: int) -> LogSummary:
        """The counts as a :class:`LogSummary` (added up in plain dicts, made Counters
        once: a Counter's item reads and writes cost several times a dict's, and
        the loop over a few dozen keys is a fixed cost of every file)."""
        severities: dict[int, int] = {}
        categories: dict[str | None, int] = {}
        for key, n in self._keys.items():
            if key is None:  # blocks, popped as counted
                continue
            parts = _KEY_PARTS.get(key)
            if parts is None:
                parts = _KEY_PARTS[key] = (int(key[0]), key[3:-1] if len(key) > 1 else None)
            level, category = parts
            severities[level] = severities.get(level, 0) + n
            categories[category] = categories.get(category, 0) + n
        return LogSummary(
            path,
            entries=self.entries,
            lines=self.lines,
            blocks=self.blocks,
            by_severity=Counter(severities),
            by_category=Counter(categories),
            first=self._at(self._low),
            last=self._at(self._high),
            problems=problems,
            problem_count=problem_count,
        )


#: ``SEVERITY [Category]`` key -> (severity, category), as keys are met.
_KEY_PARTS: dict[str, tuple[int, str | None]] = {}


def summarize(path: str | os.PathLike[str]) -> LogSummary:
    """Summarise a messages.log file; raises ``LogReadError`` if it cannot be read."""
    counter = _Counter()
    problems: list[LogProblem] = []
    count = 0
    for item in read_log(path, assembler=counter):
        if isinstance(item, LogProblem):
            count += 1
            if len(problems) < KEPT_PROBLEMS:
                problems.append(item)
    return counter.summary(os.fspath(path), problems, count)
