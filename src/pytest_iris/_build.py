"""Fast construction of :class:`IRISMessage` from regex groups the grammar matched.

The reader builds a model only when an entry's ``message`` is asked for. Groups
that matched :data:`pytest_iris.log.grammar.HEADER` (and continuation lines that
passed :func:`~pytest_iris.log.grammar.continuation_allowed`) already satisfy
every model rule, so validation would only repeat the regex's work; this
builds the frozen model directly. Anything else goes through the validator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pytest_iris.log.model import IRISMessage
from pytest_iris.log.severity import Severity
from pytest_iris.log.stamps import StampCache

_SEVERITY: Final = {str(int(s)): s for s in Severity}
_FIELDS: Final = frozenset(IRISMessage.model_fields)
#: Every parsed message sets every field, and a frozen model never changes
#: its fields-set, so all parsed messages may share one.
_SHARED_FIELDS: Final = set(_FIELDS)
_new = object.__new__
_set = object.__setattr__


#: pid text -> int: an instance's daemons log under the same few pids.
_PIDS: Final[dict[str, int]] = {}


def _pid(text: str) -> int:
    if len(_PIDS) >= 65536:
        _PIDS.clear()
    value = _PIDS[text] = int(text)
    return value


_default_stamps = StampCache()


def build_message(
    groups: Sequence[str | None],
    continuation: tuple[str, ...],
    stamps: StampCache = _default_stamps,
) -> IRISMessage:
    """A message from ``HEADER.match(line).groups()``; ``ValueError`` on a bad date."""
    date, time, millis, pid, severity, category, text = groups
    assert date is not None and time is not None and millis is not None
    assert pid is not None and severity is not None
    message: IRISMessage = _new(IRISMessage)
    _set(
        message,
        "__dict__",
        {
            "timestamp": stamps.at(date, time, millis),
            "pid": _PIDS.get(pid) or _pid(pid),
            "severity": _SEVERITY[severity],
            "category": category,
            "text": text or "",
            "continuation": continuation,
        },
    )
    _set(message, "__pydantic_fields_set__", _SHARED_FIELDS)
    _set(message, "__pydantic_extra__", None)
    _set(message, "__pydantic_private__", None)
    return message
