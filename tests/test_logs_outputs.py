"""alerts.log and the structured JSON log: written beside messages.log, read back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris.log.reader import LogEntry, LogProblem, read_log
from pytest_iris.log.structured import format_structured, read_structured

STRUCTURED_REAL = Path(__file__).parent / "data" / "structured_real.json"


def fields(entry: LogEntry) -> tuple[object, ...]:
    return (entry.timestamp, entry.pid, int(entry.severity), entry.category, entry.text,
            entry.continuation)  # fmt: skip


def test_the_documented_structured_lines_read_and_write_back(real_log: Path) -> None:
    items = list(read_structured(STRUCTURED_REAL))
    assert not [i for i in items if isinstance(i, LogProblem)]
    entries = [i for i in items if isinstance(i, LogEntry)]
    assert [int(e.severity) for e in entries] == [2, 2, 1, 1]  # SEVERE, SEVERE, WARNING, WARNING
    assert entries[3].category == "SYSTEM MONITOR"  # event System.Monitor
    rebuilt = "".join(
        format_structured(e.timestamp, e.pid, e.severity, e.category, e.text, e.continuation) + "\n"
        for e in entries
    )
    assert rebuilt == STRUCTURED_REAL.read_text()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not a JSON object"),
        ('{"when": "x", "pid": "1", "level": "SEVERE", "event": "E", "text": ""}', "'when'"),
        ('{ "when": "2019-08-07 14:11:04.904", "pid": "1", "level": "LOUD", "event": "E", '
         '"text": "t"}', "'level'"),
        ("[1, 2]", "expected the keys"),
    ],
)  # fmt: skip
def test_bad_structured_lines_are_problems(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "messages.json"
    path.write_text(line + "\n" + STRUCTURED_REAL.read_text().splitlines()[0] + "\n")
    items = list(read_structured(path))
    assert isinstance(items[0], LogProblem) and reason in items[0].reason
    assert isinstance(items[1], LogEntry)


class AlertTailer:
    """A user's tailer: collects severe entries from whichever file it is pointed at."""

    def __init__(self, structured: bool = False) -> None:
        self.read = read_structured if structured else read_log

    def severe(self, path: Path) -> list[tuple[object, ...]]:
        return [fields(i) for i in self.read(path) if isinstance(i, LogEntry) and i.severity >= 2]


@pytest.mark.iris_log("startup", "process_crash", "license_limit", "write_daemon_death",
                      count=3000, seed=3, alerts=True, structured=True)  # fmt: skip
def test_a_tailer_sees_the_same_alerts_in_every_file(iris_log) -> None:  # type: ignore[no-untyped-def]
    assert iris_log.alerts_path.name == "alerts.log"
    assert iris_log.structured_path.parent == iris_log.path.parent
    entries = [i for i in read_log(iris_log.path) if isinstance(i, LogEntry)]
    severe = [fields(e) for e in entries if e.severity >= 2]
    assert severe  # the incidents write severe lines
    # alerts.log: exactly the severe lines of messages.log, byte for byte.
    expected = "".join(e.format() + "\n" for e in entries if e.severity >= 2)
    assert iris_log.alerts_path.read_text() == expected
    assert AlertTailer().severe(iris_log.alerts_path) == severe
    # The structured log holds every entry; a tailer of it finds the same alerts.
    structured = [i for i in read_structured(iris_log.structured_path)]
    assert [fields(i) for i in structured if isinstance(i, LogEntry)] == [
        fields(e) for e in entries
    ]
    assert AlertTailer(structured=True).severe(iris_log.structured_path) == severe


def test_outputs_are_only_written_when_asked(iris_log) -> None:  # type: ignore[no-untyped-def]
    assert iris_log.alerts_path is None and iris_log.structured_path is None
    assert not (iris_log.path.parent / "alerts.log").exists()
