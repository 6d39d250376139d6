"""Fast construction of :class:`IRISMessage` from regex groups the grammar matched.

The file parser builds hundreds of thousands of messages a second. Groups
that matched :data:`pytest_iris.log.grammar.HEADER` (and continuation lines that
passed :func:`~pytest_iris.log.grammar.continuation_allowed`) already satisfy
every model rule, so validation would only repeat the regex's work; this
builds the frozen model directly. Anything else goes through the validator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final, TypeVar

from pytest_iris.log.model import IRISMessage, Severity

_SEVERITY: Final = {str(int(s)): s for s in Severity}
_FIELDS: Final = frozenset(IRISMessage.model_fields)
#: Every parsed message sets every field, and a frozen model never changes
#: its fields-set, so all parsed messages may share one.
_SHARED_FIELDS: Final = set(_FIELDS)
T = TypeVar("T", bound=tuple[object, ...])
_new = object.__new__
_set = object.__setattr__


class StampCache:
    """Turns ``MM/DD/YY`` + ``HH:MM:SS`` + millis into a datetime, cheaply.

    A log holds few dates and, at most, 86,400 times of day; each is parsed
    once and kept, so a timestamp costs two dictionary look-ups and two
    additions instead of parsing six numbers (most of the parser's speed).
    """

    __slots__ = ("_dates",)

    def __init__(self) -> None:
        self._dates: dict[str, datetime] = {}

    def date(self, date: str) -> datetime:
        """Midnight of ``MM/DD/YY``; ``ValueError`` for a date that does not exist."""
        base = self._dates.get(date)
        if base is None:
            if len(self._dates) >= 4096:
                self._dates.clear()
            base = datetime(2000 + int(date[6:8]), int(date[0:2]), int(date[3:5]))
            self._dates[date] = base
        return base

    def at(self, date: str, time: str, millis: str) -> datetime:
        """The datetime of a stamp split as the grammar captures it."""
        base = self._dates.get(date)
        if base is None:
            base = self.date(date)
        offset = _TIMES.get(time)
        if offset is None:
            offset = time_of_day(time)
        return base + offset + _MILLIS[millis]

    def __call__(self, stamp: str, millis: str) -> datetime:
        """The datetime of ``MM/DD/YY-HH:MM:SS`` and millis; ``ValueError`` if it cannot exist."""
        return self.at(stamp[:8], stamp[9:], millis)


#: "HH:MM:SS" -> timedelta since midnight, filled as times are seen.
_TIMES: Final[dict[str, timedelta]] = {}


def time_of_day(time: str) -> timedelta:
    """``HH:MM:SS`` as a timedelta; ``ValueError`` for a time that does not exist."""
    hours, minutes, seconds = int(time[0:2]), int(time[3:5]), int(time[6:8])
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"time {time} does not exist")
    offset = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    _TIMES[time] = offset
    return offset


#: pid text -> int: an instance's daemons log under the same few pids.
_PIDS: Final[dict[str, int]] = {}


def _pid(text: str) -> int:
    if len(_PIDS) >= 65536:
        _PIDS.clear()
    value = _PIDS[text] = int(text)
    return value


_default_stamps = StampCache()
#: "000".."999" -> timedelta; adding one is ten times cheaper than ``replace``.
_MILLIS: Final = {f"{n:03d}": timedelta(milliseconds=n) for n in range(1000)}


def build_message(
    groups: Sequence[str | None],
    continuation: tuple[str, ...],
    stamps: StampCache = _default_stamps,
) -> IRISMessage:
    """A message from ``HEADER.match(line).groups()``; ``ValueError`` on a bad date."""
    stamp, millis, pid, severity, category, text = groups
    assert stamp is not None and millis is not None and pid is not None
    assert severity is not None
    message: IRISMessage = _new(IRISMessage)
    _set(
        message,
        "__dict__",
        {
            "timestamp": stamps(stamp, millis),
            "pid": int(pid),
            "severity": _SEVERITY[severity],
            "category": category,
            "text": text or "",
            "continuation": continuation,
        },
    )
    _set(message, "__pydantic_fields_set__", set(_FIELDS))
    _set(message, "__pydantic_extra__", None)
    _set(message, "__pydantic_private__", None)
    return message


def build_rows(
    rows: Sequence[Sequence[str]],
    stamps: StampCache,
    first_line: int,
    entry: type[T],
) -> list[T]:
    """``entry((line, message))`` for consecutive one-line entries matched by ``HEADER_LINES``.

    ``entry`` is a tuple subclass (a named tuple): it is built with
    ``tuple.__new__``, skipping the named tuple's Python-level constructor.

    Raises ``ValueError`` if any row names an impossible date; the caller
    then falls back to line-by-line assembly to report it.
    """
    out: list[T] = []
    append = out.append
    severity = _SEVERITY
    dates = stamps._dates
    times = _TIMES
    fields = _SHARED_FIELDS
    millis = _MILLIS
    pids = _PIDS
    make = tuple.__new__
    number = first_line
    for row in rows:
        base = dates.get(row[0])
        if base is None:
            base = stamps.date(row[0])
        offset = times.get(row[1])
        if offset is None:
            offset = time_of_day(row[1])
        message: IRISMessage = _new(IRISMessage)
        _set(
            message,
            "__dict__",
            {
                "timestamp": base + offset + millis[row[2]],
                "pid": pids.get(row[3]) or _pid(row[3]),
                "severity": severity[row[4]],
                "category": row[5] or None,
                "text": row[6],
                "continuation": (),
            },
        )
        _set(message, "__pydantic_fields_set__", fields)
        _set(message, "__pydantic_extra__", None)
        _set(message, "__pydantic_private__", None)
        append(make(entry, (number, message)))
        number += 1
    return out
