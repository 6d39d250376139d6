"""Fast construction of :class:`IRISMessage` from regex groups the grammar matched.

The file parser builds hundreds of thousands of messages a second. Groups
that matched :data:`pytest_iris.grammar.HEADER` (and continuation lines that
passed :func:`~pytest_iris.grammar.continuation_allowed`) already satisfy
every model rule, so validation would only repeat the regex's work; this
builds the frozen model directly. Anything else goes through the validator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final, TypeVar

from pytest_iris.models import IRISMessage, Severity

_SEVERITY: Final = {str(int(s)): s for s in Severity}
_FIELDS: Final = frozenset(IRISMessage.model_fields)
#: Every parsed message sets every field, and a frozen model never changes
#: its fields-set, so all parsed messages may share one.
_SHARED_FIELDS: Final = set(_FIELDS)
T = TypeVar("T")
_new = object.__new__
_set = object.__setattr__


class StampCache:
    """Turns ``MM/DD/YY-HH:MM:SS`` into a datetime, remembering recent stamps.

    Lines in a log come in bursts that share the second; parsing the stamp
    once per second instead of once per line is most of the parser's speed.
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}

    def __call__(self, stamp: str, millis: str) -> datetime:
        """Raises ``ValueError`` for a date that does not exist (month 13)."""
        base = self._seen.get(stamp)
        if base is None:
            if len(self._seen) >= 4096:
                self._seen.clear()
            base = datetime(
                2000 + int(stamp[6:8]),
                int(stamp[0:2]),
                int(stamp[3:5]),
                int(stamp[9:11]),
                int(stamp[12:14]),
                int(stamp[15:17]),
            )
            self._seen[stamp] = base
        return base + _MILLIS[millis]

    def row(self, row: Sequence[str]) -> datetime:
        """The timestamp of a ``HEADER_LINES`` or ``SUMMARY_LINES`` row."""
        return self(row[0], row[1])


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
    entry: Callable[[int, IRISMessage], T],
) -> list[T]:
    """``entry(line, message)`` for consecutive one-line entries matched by ``HEADER_LINES``.

    Raises ``ValueError`` if any row names an impossible date; the caller
    then falls back to line-by-line assembly to report it.
    """
    out: list[T] = []
    append = out.append
    severity = _SEVERITY
    seen = stamps._seen
    fields = _SHARED_FIELDS
    millis = _MILLIS
    number = first_line
    for row in rows:
        base = seen.get(row[0])
        if base is None:
            base = stamps(row[0], "000")
        message: IRISMessage = _new(IRISMessage)
        _set(
            message,
            "__dict__",
            {
                "timestamp": base + millis[row[1]],
                "pid": int(row[2]),
                "severity": severity[row[3]],
                "category": row[4] or None,
                "text": row[5],
                "continuation": (),
            },
        )
        _set(message, "__pydantic_fields_set__", fields)
        _set(message, "__pydantic_extra__", None)
        _set(message, "__pydantic_private__", None)
        append(entry(number, message))
        number += 1
    return out
