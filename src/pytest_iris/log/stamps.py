"""Stamp text to datetime, cheaply: a log holds few dates and at most 86,400 seconds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final


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


#: "000".."999" -> timedelta; adding one is ten times cheaper than ``replace``.
_MILLIS: Final = {f"{n:03d}": timedelta(milliseconds=n) for n in range(1000)}
