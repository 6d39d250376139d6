"""The live writer: rotation, truncation, partial lines and bursts, read back by the parser."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.generation import LiveLogWriter, LogStream
from pytest_iris.log.grammar import format_message
from pytest_iris.log.reader import LogEntry, LogProblem, read_log


def _texts(path: Path) -> list[str]:
    """Every physical line the parser attributes to an entry, in order."""
    out: list[str] = []
    for item in read_log(path):
        assert not isinstance(item, LogProblem), item
        out.extend(format_message(item.message).split("\n"))
    return out


def _stream(seed: int, count: int = 5000) -> LogStream:
    return LogStream(seed, count=count, sequences=["startup", "write_daemon_death"], rate=1.0)


def test_rotation_every_line_read_back_across_files(tmp_path: Path) -> None:
    path = tmp_path / "mgr" / "messages.log"
    with LiveLogWriter(path, _stream(1), rate=2000, rotate_every=120) as live:
        live.wait(400)
    assert [p.name for p in live.rotated][:3] == [
        "messages.log.1",
        "messages.log.2",
        "messages.log.3",
    ]
    read: list[str] = []
    for part in [*live.rotated, path]:
        read += _texts(part)
    assert read == live.lines
    assert len(_texts(live.rotated[0])) == 120


def test_partial_line_is_seen_half_written_then_whole(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    with LiveLogWriter(path, _stream(2), rate=50, partial_pause=0.4) as live:
        live.wait(5)
        live.partial()
        deadline = time.monotonic() + 5
        data = path.read_bytes()
        while data.endswith(b"\n") and time.monotonic() < deadline:
            time.sleep(0.005)
            data = path.read_bytes()
        assert not data.endswith(b"\n"), "never saw the half-written line"
        half = data[data.rfind(b"\n") + 1 :].decode()
        cut_at = next(e.line for e in live.events if e.kind == "partial")
        items = list(read_log(path))
        last = items[-1]
        # cut inside the header: a truncated-line problem; inside the text: a shorter entry
        assert isinstance(last, (LogProblem, LogEntry))
        if isinstance(last, LogProblem):
            assert "truncated last line" in last.reason
        else:
            assert format_message(last.message).split("\n")[-1] == half
        live.wait_idle()
        live.wait(len(live.lines) + 2)
    assert _texts(path) == live.lines
    assert live.lines[cut_at].startswith(half) and live.lines[cut_at] != half


def test_truncation_keeps_only_what_came_after(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    with LiveLogWriter(path, _stream(3), rate=1000) as live:
        live.wait(50)
        live.truncate()
        live.wait_idle()
        live.wait(120)
    cut = next(e.line for e in live.events if e.kind == "truncate")
    after = live.lines[cut:]
    assert after
    # a continuation line whose entry header was cut away cannot be attributed
    items = list(read_log(path))
    entries = [i for i in items if isinstance(i, LogEntry)]
    text = [line for e in entries for line in format_message(e.message).split("\n")]
    assert text == [line for line in after if line in text]
    assert path.read_text().split("\n")[:-1] == after


def test_burst_writes_many_lines_at_once(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    with LiveLogWriter(path, _stream(4), rate=5) as live:
        live.burst(300)
        live.wait(300, timeout=5)
    burst = next(e for e in live.events if e.kind == "burst")
    assert burst.detail == "300"
    assert _texts(path) == live.lines


def test_finished_stream_stops_writing_and_thread_is_joined(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    stream = LogStream(5, count=60, sequences=["startup"])
    live = LiveLogWriter(path, stream, rate=5000)
    with live:
        live.wait(60)
    assert live.finished and not live.running
    assert path.read_text() == stream.text()


def test_bad_options_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rate"):
        LiveLogWriter(tmp_path / "m.log", rate=0)
    with pytest.raises(ConfigError, match="rotate_every"):
        LiveLogWriter(tmp_path / "m.log", rotate_every=0)
