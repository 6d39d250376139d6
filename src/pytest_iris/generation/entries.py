"""Generated entries before they become text or models, and their exact formatting.

The generator works on :class:`Entry` tuples (time as integer milliseconds)
rather than :class:`~pytest_iris.models.IRISMessage` models: building a
pydantic model per line would cost more than everything else the writer
does. :func:`format_entry` writes through
:func:`pytest_iris.log.grammar.format_fields`, the same code that formats a
model, so nothing is lost by skipping the model.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from pytest_iris.log.grammar import MILLIS3, day_prefix, format_fields

if TYPE_CHECKING:  # pydantic only when a model is built (the sandbox's commands never do)
    from pytest_iris.log.model import IRISMessage

#: Millisecond clocks count from here; every messages.log year is 2000-2099.
EPOCH = datetime(2000, 1, 1)
_MS = timedelta(milliseconds=1)
#: The first millisecond a two-digit year cannot hold.
END_MS = (datetime(2100, 1, 1) - EPOCH) // _MS


#: ``Entry.severity`` of output another program wrote without a stamp (the WIJ
#: recovery block): its lines are ``text`` and ``continuation``, written as they are.
BLOCK: int = -1


class Entry(NamedTuple):
    """One messages.log entry; ``template`` is the catalog id it came from.

    ``severity == BLOCK`` marks an unstamped block instead (not a message).
    """

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
    """``MM/DD/YY-HH:MM:SS:`` for the second holding ``ms`` (milliseconds not included).

    Formatted here, not looked up in :func:`~pytest_iris.log.grammar.seconds_of_day`: that
    table (86,400 strings, ~10 ms to build) pays off only for the stream's bulk path, which
    uses it directly; a sandbox command process writes a handful of entries.
    """
    t = from_ms(ms)
    return f"{day_prefix(t)}{t.hour:02d}:{t.minute:02d}:{t.second:02d}:"


def format_entry(entry: Entry) -> str:
    """The entry as messages.log text, lines joined by ``\\n`` (no final break)."""
    ms, pid, severity, category, text, continuation, _ = entry
    if severity == BLOCK:
        return "\n".join((text, *continuation))
    stamp = stamp_second(ms) + MILLIS3[ms % 1000]
    return format_fields(stamp, pid, severity, category, text, continuation)


def to_message(entry: Entry) -> IRISMessage:
    """The validated model of an entry."""
    from pytest_iris.log.model import IRISMessage, Severity

    return IRISMessage(
        timestamp=from_ms(entry.ms),
        pid=entry.pid,
        severity=Severity(entry.severity),
        category=entry.category,
        text=entry.text,
        continuation=entry.continuation,
    )
