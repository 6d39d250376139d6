"""IRIS's other log files: ``alerts.log`` and the structured (``^LOGDMN``) JSON log.

* ``alerts.log``: what the Log Monitor copies out of messages.log, the
  entries of severity 2 (severe) and up, in the same line format (default
  alert level 2, *Monitoring Guide* "Log Monitor"; docs/sources/
  documented_messages.md §3).
* The structured log: one JSON object per entry, as the *Monitoring Guide*
  §18.2.2 prints it (documented_messages.md §4, copied into
  tests/data/structured_real.json): ``{ "when": "2019-08-07 14:11:04.904",
  "pid": "8540", "level": "SEVERE", "event": "Utility.Event", "text": ...}``.
  ``SEVERE`` and ``WARNING`` are the documented levels of severities 2 and
  1; ``INFO`` (0) and ``FATAL`` (3) are ^LOGDMN's level names, invented for
  these severities. ``[SYSTEM MONITOR]`` is the event ``System.Monitor`` (the
  doc's CPUusage example); a line without a category (Caché) becomes
  ``Generic.Event`` and continuation lines join the text with ``\\n``
  (both invented: the doc shows neither).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Final

from pytest_iris.errors import LogReadError
from pytest_iris.log.reader import LogEntry, LogProblem, _problem
from pytest_iris.log.severity import Severity

#: The Log Monitor's default alert level: severe and fatal entries.
ALERT_SEVERITY: Final = 2
LEVELS: Final = {0: "INFO", 1: "WARNING", 2: "SEVERE", 3: "FATAL"}
_SEVERITY_OF: Final = {name: Severity(level) for level, name in LEVELS.items()}
_EVENT: Final = {"SYSTEM MONITOR": "System.Monitor"}
_CATEGORY: Final = {event: category for category, event in _EVENT.items()}
_WHEN: Final = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\Z")


def is_alert(severity: int) -> bool:
    """Whether the Log Monitor copies an entry of this severity to alerts.log."""
    return severity >= ALERT_SEVERITY


def format_structured(
    when: datetime,
    pid: int,
    severity: int,
    category: str | None,
    text: str,
    continuation: tuple[str, ...] = (),
) -> str:
    """One structured-log line, spaced as the documentation prints it."""
    fields = (
        ("when", when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"),
        ("pid", str(pid)),
        ("level", LEVELS[int(severity)]),
        ("event", _EVENT.get(category or "Generic.Event", category or "Generic.Event")),
        ("text", "\n".join((text, *continuation))),
    )
    body = ", ".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields)
    return "{ " + body + "}"


def read_structured(path: str | os.PathLike[str]) -> Iterator[LogEntry | LogProblem]:
    """Entries (and problems) of a structured JSON log, as the messages.log reader gives them."""
    try:
        handle = open(path, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
    except OSError as error:
        raise LogReadError(f"cannot read log file {os.fspath(path)!r}: {error.strerror}") from error
    with handle:
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip("\n")
            item = _entry(number, line)
            yield item


def _entry(number: int, line: str) -> LogEntry | LogProblem:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return _problem(number, f"not a JSON object: {error.msg}", line)
    if not isinstance(record, dict) or set(record) != {"when", "pid", "level", "event", "text"}:
        return _problem(number, "expected the keys when, pid, level, event, text", line)
    when, pid, level = record["when"], record["pid"], record["level"]
    if not (isinstance(when, str) and _WHEN.match(when)):
        return _problem(number, f"'when' must be YYYY-MM-DD HH:MM:SS.mmm, got {when!r}", line)
    if not (isinstance(pid, str) and pid.isdigit()):
        return _problem(number, f"'pid' must be a string of digits, got {pid!r}", line)
    if level not in _SEVERITY_OF:
        return _problem(number, f"'level' must be one of {', '.join(_SEVERITY_OF)}", line)
    if not isinstance(record["event"], str) or not isinstance(record["text"], str):
        return _problem(number, "'event' and 'text' must be strings", line)
    text, *continuation = record["text"].split("\n")
    from pytest_iris.log.model import IRISMessage

    try:
        message = IRISMessage(
            timestamp=datetime.strptime(when, "%Y-%m-%d %H:%M:%S.%f"),
            pid=int(pid),
            severity=_SEVERITY_OF[level],
            category=_CATEGORY.get(record["event"], record["event"]),
            text=text,
            continuation=tuple(continuation),
        )
    except ValueError as error:
        return _problem(number, f"not a valid entry: {str(error).splitlines()[0]}", line)
    return LogEntry(number, message)
