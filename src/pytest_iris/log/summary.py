"""Counting a log without building a model per entry: what ``pytest-iris parse`` prints.

A summary needs severities, categories, the time span and the problems, all
of which the regex groups already hold; skipping the model is what makes
summarising a large file several times faster than materialising it.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

from pytest_iris.log.grammar import SUMMARY_LINES
from pytest_iris.log.reader import LogProblem, _Assembler, read_log

#: How many problems a summary keeps verbatim; the rest are only counted.
KEPT_PROBLEMS = 1000


@dataclass
class LogSummary:
    """Counts by severity and category, time span and problems of one log."""

    path: str
    entries: int = 0
    lines: int = 0
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


class _Counter(_Assembler):
    """An assembler that counts entries instead of building them."""

    __slots__ = ("_categories", "_high", "_low", "_severities", "entries", "first", "last")

    def __init__(self) -> None:
        super().__init__()
        self._low: tuple[str, ...] | None = None
        self._high: tuple[str, ...] | None = None
        self._severities: Counter[str] = Counter()
        self._categories: Counter[str] = Counter()
        self.entries = 0
        self.first: datetime | None = None
        self.last: datetime | None = None

    LINES = SUMMARY_LINES

    def pending(self, row: tuple[str, ...]) -> tuple[str | None, ...]:
        return (f"{row[1]}-{row[2]}", row[3], "0", row[4], row[5] or None, row[6] or None)

    def take_rows(self, rows: list[tuple[str, ...]], number: int) -> None:
        if not rows:
            return
        for date in set(map(_DATE, rows)):  # a run spans few dates
            self._stamps.date(date)  # ValueError for a date that does not exist
        # Rows start (year, date, time, millis): tuples compare as time does, in C.
        self._extremes(min(rows), max(rows))
        self.entries += len(rows)
        self._severities.update(map(_SEVERITY, rows))
        self._categories.update(map(_CATEGORY, rows))

    def emit(self, line: int, groups: tuple[str | None, ...], cont: tuple[str, ...]) -> None:
        stamp, millis = groups[0], groups[1]
        assert stamp is not None
        assert millis is not None
        self._stamps(stamp, millis)  # ValueError for a time that does not exist
        row = (stamp[6:8], stamp[:8], stamp[9:], millis)
        self._extremes(row, row)
        self.entries += 1
        self._severities[groups[3] or "0"] += 1
        self._categories[groups[4] or ""] += 1

    def _extremes(self, low: tuple[str, ...], high: tuple[str, ...]) -> None:
        low, high = low[:4], high[:4]
        if self._low is None or low < self._low:
            self._low = low
            self.first = self._stamps.at(low[1], low[2], low[3])
        if self._high is None or high > self._high:
            self._high = high
            self.last = self._stamps.at(high[1], high[2], high[3])

    def fill(self, summary: LogSummary) -> None:
        summary.entries = self.entries
        summary.first, summary.last = self.first, self.last
        summary.by_severity = Counter({int(k): v for k, v in self._severities.items()})
        summary.by_category = Counter({(k or None): v for k, v in self._categories.items()})


_DATE = itemgetter(1)
_SEVERITY = itemgetter(4)
_CATEGORY = itemgetter(5)


def summarize(path: str | os.PathLike[str]) -> LogSummary:
    """Summarise a messages.log file; raises ``LogReadError`` if it cannot be read."""
    summary = LogSummary(os.fspath(path))
    counter = _Counter()
    for problem in read_log(path, assembler=counter):
        assert isinstance(problem, LogProblem)
        summary.problem_count += 1
        if len(summary.problems) < KEPT_PROBLEMS:
            summary.problems.append(problem)
    counter.fill(summary)
    summary.lines = counter.lines
    return summary
