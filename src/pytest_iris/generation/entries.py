"""Generated entries before they become text or models, and their exact formatting.

The generator works on :class:`Entry` tuples (time as integer milliseconds)
rather than :class:`~pytest_iris.models.IRISMessage` models: building a
pydantic model per line would cost more than everything else the writer
does. :func:`format_entry` writes the same bytes as
:func:`pytest_iris.log.grammar.format_message` of :func:`to_message` (a test
checks that on every template), so nothing is lost by skipping the model.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from pytest_iris.log.model import IRISMessage, Severity

#: Millisecond clocks count from here; every messages.log year is 2000-2099.
EPOCH = datetime(2000, 1, 1)
_MS = timedelta(milliseconds=1)
#: The first millisecond a two-digit year cannot hold.
END_MS = (datetime(2100, 1, 1) - EPOCH) // _MS


class Entry(NamedTuple):
    """One messages.log entry; ``template`` is the catalog id it came from."""

    ms: int
    pid: int
    severity: int
    category: str | None
    text: str
    continuation: tuple[str, ...]
    template: str


def to_ms(value: datetime) -> int:
    """Milliseconds since :data:`EPOCH` (sub-millisecond parts dropped)."""
    return (value - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def stamp_second(ms: int) -> str:
    """``MM/DD/YY-HH:MM:SS:`` for the second holding ``ms`` (milliseconds not included)."""
    t = from_ms(ms)
    return (
        f"{t.month:02d}/{t.day:02d}/{t.year % 100:02d}-{t.hour:02d}:{t.minute:02d}:{t.second:02d}:"
    )


def format_entry(entry: Entry) -> str:
    """The entry as messages.log text, lines joined by ``\\n`` (no final break)."""
    ms, pid, severity, category, text, continuation, _ = entry
    line = f"{stamp_second(ms)}{ms % 1000:03d} ({pid}) {severity}"
    if category is not None:
        line += f" [{category}]"
    if text:
        line += f" {text}"
    if continuation:
        return "\n".join((line, *continuation))
    return line


def to_message(entry: Entry) -> IRISMessage:
    """The validated model of an entry."""
    return IRISMessage(
        timestamp=from_ms(entry.ms),
        pid=entry.pid,
        severity=Severity(entry.severity),
        category=entry.category,
        text=entry.text,
        continuation=entry.continuation,
    )
