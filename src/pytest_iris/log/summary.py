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
from operator import itemgetter
from typing import Final

from pytest_iris.log.grammar import SUMMARY_KEYS
from pytest_iris.log.reader import LogBlock, LogProblem, _Assembler, _groups, read_log

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


def _time_key(line: str) -> tuple[str, str]:
    """A stamp's sort key: the year first, then ``MM/DD/YY-HH:MM:SS:mmm``."""
    return line[6:8], line[:21]


class _Counter(_Assembler):
    """An assembler that counts entries instead of building them."""

    __slots__ = ("_counted", "_high", "_keys", "_low", "blocks", "entries")

    def __init__(self) -> None:
        super().__init__()
        self._low: tuple[str, str] | None = None
        self._high: tuple[str, str] | None = None
        #: ``SEVERITY`` or ``SEVERITY [Category]`` -> entries.
        self._keys: Counter[str] = Counter()
        self._counted = False
        self.entries = 0
        self.blocks = 0

    def take_run(self, text: str, lines: list[str], number: int) -> bool:
        if not self._dates_exist(lines, text):
            return False
        keys = SUMMARY_KEYS.findall(f"\n{text}")
        self.flush()
        self._keys.update(keys)
        self.entries += len(lines)
        years = set(map(_YEAR, lines))
        if len(years) == 1:  # one year: the lines sort as their stamps do
            year = years.pop()
            self._extremes((year, min(lines)[:21]), (year, max(lines)[:21]))
        else:
            self._extremes(min(map(_time_key, lines)), max(map(_time_key, lines)))
        self._open(number + len(lines) - 1, lines[-1], None)
        self._counted = True
        return True

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
        stamp = _time_key(header)
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

    def fill(self, summary: LogSummary) -> None:
        summary.entries = self.entries
        summary.blocks = self.blocks
        summary.first, summary.last = self._at(self._low), self._at(self._high)
        severities: Counter[int] = Counter()
        categories: Counter[str | None] = Counter()
        for key, n in self._keys.items():
            severities[int(key[0])] += n
            categories[key[3:-1] if len(key) > 1 else None] += n
        summary.by_severity = severities
        summary.by_category = categories


def summarize(path: str | os.PathLike[str]) -> LogSummary:
    """Summarise a messages.log file; raises ``LogReadError`` if it cannot be read."""
    summary = LogSummary(os.fspath(path))
    counter = _Counter()
    for item in read_log(path, assembler=counter):
        if isinstance(item, LogProblem):
            summary.problem_count += 1
            if len(summary.problems) < KEPT_PROBLEMS:
                summary.problems.append(item)
    counter.fill(summary)
    summary.lines = counter.lines
    return summary
