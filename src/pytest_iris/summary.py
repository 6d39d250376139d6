"""Counting a log without building a model per entry: what ``pytest-iris parse`` prints.

A summary needs severities, categories, the time span and the problems, all
of which the regex groups already hold; skipping the model is what makes
summarising a large file several times faster than materialising it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pytest_iris._build import StampCache
from pytest_iris.reader import LogProblem, _Assembler, _raw_lines

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
            out.append(f"  time span: {self.first.isoformat(timespec='milliseconds')} .. "
                       f"{self.last.isoformat(timespec='milliseconds')} "
                       f"({self.last - self.first})")
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

    __slots__ = ("summary", "_low", "_high")

    def __init__(self, summary: LogSummary) -> None:
        super().__init__()
        self.summary = summary
        self._low: str | None = None
        self._high: str | None = None

    def flush(self) -> None:
        groups = self._groups
        if groups is None:
            return
        self._groups = None
        self._cont.clear()
        stamp, millis = groups[0], groups[1]
        assert stamp is not None and millis is not None
        # YY MM DD HH:MM:SS mmm sorts as time does.
        key = f"{stamp[6:8]}{stamp[0:2]}{stamp[3:5]}{stamp[8:]}{millis}"
        try:
            if self._low is None or key < self._low or self._high is None or key > self._high:
                when = self._stamps(stamp, millis)
                if self._low is None or key < self._low:
                    self._low, self.summary.first = key, when
                if self._high is None or key > self._high:
                    self._high, self.summary.last = key, when
        except ValueError as error:
            self.out.append(
                LogProblem(self._line, f"invalid timestamp: {error}", stamp.encode(), len(stamp))
            )
        else:
            self.summary.entries += 1
            self.summary.by_severity[int(groups[3] or 0)] += 1
            self.summary.by_category[groups[4]] += 1
        if self._problems:
            self.out.extend(sorted(self._problems, key=lambda p: p.line))
            self._problems.clear()


def summarize(path: str | os.PathLike[str]) -> LogSummary:
    """Summarise a messages.log file; raises ``LogReadError`` if it cannot be read."""
    from pytest_iris.reader import read_log  # noqa: F401 - same error contract

    name = os.fspath(path)
    try:
        handle = open(name, "rb")  # noqa: SIM115
    except OSError as error:
        from pytest_iris.errors import LogReadError

        raise LogReadError(f"cannot read log file {name!r}: {error.strerror}") from error
    summary = LogSummary(name)
    counter = _Counter(summary)
    with handle:
        number = 0
        for kind, payload in _raw_lines(handle, name):
            number += 1
            if isinstance(payload, str):
                counter.feed(number, payload, last_unterminated=kind == "last")
            else:
                counter.bad(LogProblem(number, payload.reason, payload.raw, payload.size))
            if counter.out:
                _take(summary, counter.out)
        counter.flush()
        _take(summary, counter.out)
    summary.lines = number
    return summary


def _take(summary: LogSummary, problems: Iterable[object]) -> None:
    for problem in problems:
        assert isinstance(problem, LogProblem)
        summary.problem_count += 1
        if len(summary.problems) < KEPT_PROBLEMS:
            summary.problems.append(problem)
    if isinstance(problems, list):
        problems.clear()
