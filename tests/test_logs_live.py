"""The live writer: events once per interval, rotation as production does it, and a
ground truth that real tailers (GNU ``tail -F``) are checked against."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.generation import LiveLogWriter, LogStream
from pytest_iris.generation.truth import LiveTruth
from pytest_iris.log.grammar import format_message
from pytest_iris.log.reader import LogEntry, LogProblem, read_log

DEADLINE = 30.0  # generous: every wait below ends as soon as its event happens


def _texts(path: Path) -> list[str]:
    """Every physical line the parser attributes to an entry, in order."""
    out: list[str] = []
    for item in read_log(path):
        assert not isinstance(item, LogProblem), item
        out.extend(format_message(item.message).split("\n"))
    return out


def _stream(seed: int, count: int = 5000) -> LogStream:
    return LogStream(seed, count=count, sequences=["startup", "write_daemon_death"], rate=1.0)


def _plain(seed: int, count: int = 5000) -> LogStream:
    """Noise only: one physical line per entry, so line counts are entry counts."""
    return LogStream(seed, count=count, sequences=(), rate=1.0)


# -- events once per interval ------------------------------------------------


def test_partial_every_50_writes_one_partial_line_at_each_multiple_of_50(tmp_path: Path) -> None:
    live = LiveLogWriter(tmp_path / "messages.log", _plain(1), partial_every=50, partial_pause=0)
    live.write(1000)
    live.stop()
    at = [e.line for e in live.events if e.kind == "partial"]
    assert at == list(range(50, 1000, 50))
    assert (tmp_path / "messages.log").read_text().split("\n")[:-1] == live.lines


def test_burst_every_and_rotate_every_fire_once_per_interval(tmp_path: Path) -> None:
    live = LiveLogWriter(
        tmp_path / "messages.log",
        _plain(2),
        burst_every=100,
        burst_size=10,
        rotate_every=250,
        keep=10,
        partial_every=40,
        partial_pause=0,
    )
    live.write(1000)
    live.stop()
    kinds = {k: [e.line for e in live.events if e.kind == k] for k in ("burst", "rotate")}
    assert kinds["burst"] == list(range(100, 1000, 100))
    assert kinds["rotate"] == [250, 500, 750, 1000]
    partials = [e.line for e in live.events if e.kind == "partial"]
    # one partial line in each interval of 40 (one that meets a burst comes right after it)
    assert [p // 40 for p in partials] == list(range(1, 25))


def test_threaded_writer_rotates_once_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "mgr" / "messages.log"
    with LiveLogWriter(path, _stream(1), rate=2000, rotate_every=120, keep=10) as live:
        live.wait(400)
    rotations = [e.line for e in live.events if e.kind == "rotate"]
    assert rotations[:3] == [120, 240, 360]
    # .1 is the newest: reading oldest first gives back every line
    assert [p.name for p in live.rotated][:3] == [
        "messages.log.1",
        "messages.log.2",
        "messages.log.3",
    ]
    read: list[str] = []
    for part in [*reversed(live.rotated), path]:
        read += _texts(part)
    assert read == live.lines
    assert len(_texts(live.rotated[-1])) == 120


# -- rotation modes, checked against the files -----------------------------


def test_logrotate_mode_shifts_compresses_late_and_deletes_past_keep(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    live = LiveLogWriter(path, _plain(3), keep=2, compress=True, delaycompress=True)
    for _ in range(3):
        live.write(20)
        live.rotate()
    live.write(5)
    live.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "messages.log",
        "messages.log.1",
        "messages.log.2.gz",
    ]
    assert (tmp_path / "messages.log.1").read_text().splitlines() == live.lines[40:60]
    with gzip.open(tmp_path / "messages.log.2.gz", "rt") as handle:
        assert handle.read().splitlines() == live.lines[20:40]
    assert path.read_text().splitlines() == live.lines[60:]
    lost = live.truth.lost()
    assert [r.index for r in lost] == list(range(20))
    assert {r.fate for r in lost} == {"deleted:messages.log.2.gz"}


def test_copytruncate_loses_exactly_the_window_lines(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    live = LiveLogWriter(path, _plain(4), rotate_mode="copytruncate", copytruncate_window=3)
    live.write(25)
    inode = path.stat().st_ino
    live.rotate()
    live.write(10)
    live.stop()
    assert path.stat().st_ino == inode  # the same file, cut in place
    assert (tmp_path / "messages.log.1").read_text().splitlines() == live.lines[:25]
    assert path.read_text().splitlines() == live.lines[28:]
    window = live.truth.lost()
    assert [r.index for r in window] == [25, 26, 27]
    assert {r.fate for r in window} == {"copytruncate-window"}
    assert live.events[0].detail == "messages.log.1; 3 lost"


def test_iris_rollover_renames_to_old_date_only_when_the_file_is_big(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    live = LiveLogWriter(path, _plain(5), rotate_mode="iris", max_console_log_size=1500)
    live.write(5)
    live.restart()  # small: no rollover
    live.write(40)
    live.restart()
    live.write(40)
    live.restart()
    live.stop()
    day = live.truth.records[0].text[:8]  # MM/DD/YY of the stream's first line
    stamp = f"20{day[6:8]}{day[0:2]}{day[3:5]}"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["messages.log", f"messages.old_{stamp}", f"messages.old_{stamp}_1"]
    assert [e.kind for e in live.events] == ["restart", "rollover", "rollover"]
    assert (tmp_path / f"messages.old_{stamp}").read_text().splitlines() == live.lines[:45]
    assert (tmp_path / f"messages.old_{stamp}_1").read_text().splitlines() == live.lines[45:85]
    assert path.read_text() == ""
    assert live.truth.lost() == []


# -- the ground truth on its own ---------------------------------------------


def test_missed_are_lines_written_and_destroyed_between_two_polls() -> None:
    truth = LiveTruth()
    truth.wrote(["a", "b", "c"], at=10.0)
    truth.destroyed([0], at=10.5, fate="truncated")  # lived 10.0-10.5
    truth.destroyed([1], at=12.5, fate="truncated")  # lived 10.0-12.5
    truth.left([2], at=10.5, fate="messages.log.1", destroyed=False)
    assert truth.missed(interval=1.0) == []  # the poll at 10.0 saw both
    assert truth.missed(interval=1.0, phase=0.2) == []  # 10.2 < 10.5
    assert [r.text for r in truth.missed(interval=1.0, phase=0.7)] == ["a"]  # 9.7, 10.7
    assert [r.text for r in truth.missed(interval=5.0, phase=3.0)] == ["a", "b"]  # 8, 13
    assert [r.text for r in truth.unseen([11.0])] == ["a", "c"]  # c was renamed away
    assert [r.text for r in truth.readable([11.0])] == ["b"]
    with pytest.raises(ValueError, match="interval"):
        truth.missed(0)


# -- GNU tail -F as the real reader ------------------------------------------


class Tail:
    """A real ``tail -F`` subprocess; its output collected by threads, waited on by events."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            ["tail", "-F", "-n", "+1", "-s", "0.05", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, pipe: object, into: list[str]) -> None:
        for line in pipe:  # type: ignore[attr-defined]
            with self._changed:
                into.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_out(self, count: int) -> None:
        self._wait(lambda: len(self.out) >= count, f"{count} lines")

    def wait_err(self, text: str, after: int = 0) -> None:
        self._wait(lambda: any(text in line for line in self.err[after:]), repr(text))

    def _wait(self, ready: object, what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        with self._changed:
            while not ready():  # type: ignore[operator]
                left = deadline - time.monotonic()
                assert left > 0, (
                    f"tail -F: no {what} after {DEADLINE} s; out={len(self.out)} err={self.err}"
                )
                self._changed.wait(left)

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.resume()
        self.proc.terminate()
        self.proc.wait(DEADLINE)
        for reader in self._readers:
            reader.join(DEADLINE)


@pytest.fixture
def tail_of() -> Iterator[Callable[[Path], Tail]]:
    if shutil.which("tail") is None:
        pytest.skip("GNU tail not installed (.ci/run installs coreutils)")
    started: list[Tail] = []

    def start(path: Path) -> Tail:
        started.append(Tail(path))
        return started[-1]

    yield start
    for tail in started:
        tail.close()


def _expected(live: LiveLogWriter, polls: list[float]) -> list[str]:
    return [r.text for r in live.truth.readable(polls)]


def _tail_through(
    tail_of: Callable[[Path], Tail],
    live: LiveLogWriter,
    cuts: list[Callable[[], object]],
    *,
    paused: bool = False,
) -> tuple[Tail, list[float]]:
    """30 lines, then per cut: tail caught up (that instant is a poll), the cut, 30 more lines.

    ``paused``: tail is stopped during the cut, so no poll falls inside it, and
    writing resumes once tail reported the truncation.
    """
    live.write(30)
    tail = tail_of(live.path)
    polls: list[float] = []
    for cut in cuts:
        tail.wait_out(len(_expected(live, polls)))
        polls.append(time.monotonic())
        reported = len(tail.err)
        if paused:
            tail.pause()
        cut()
        if paused:
            tail.resume()
            tail.wait_err("file truncated", after=reported)
        live.write(30)
    tail.wait_out(len(_expected(live, polls)))
    live.stop()
    return tail, polls


def test_tail_follows_logrotate_and_sees_every_line(
    tail_of: Callable[[Path], Tail], tmp_path: Path
) -> None:
    live = LiveLogWriter(tmp_path / "messages.log", _plain(6), keep=2, compress=True)
    tail, polls = _tail_through(tail_of, live, [live.rotate] * 3)
    assert tail.out == _expected(live, polls) == live.lines
    assert [r.index for r in live.truth.lost()] == list(range(30))  # deleted, but seen first
    assert any("following new file" in line for line in tail.err)


def test_tail_misses_exactly_the_copytruncate_window(
    tail_of: Callable[[Path], Tail], tmp_path: Path
) -> None:
    path = tmp_path / "messages.log"
    live = LiveLogWriter(path, _plain(7), rotate_mode="copytruncate", copytruncate_window=4)
    tail, polls = _tail_through(tail_of, live, [live.rotate], paused=True)
    assert tail.out == _expected(live, polls)
    assert [r.index for r in live.truth.unseen(polls)] == [30, 31, 32, 33]
    assert live.truth.unseen(polls) == live.truth.lost()
    assert (tmp_path / "messages.log.1").read_text().splitlines() == live.lines[:30]


def test_tail_misses_exactly_what_a_truncation_cut_before_it_looked(
    tail_of: Callable[[Path], Tail], tmp_path: Path
) -> None:
    live = LiveLogWriter(tmp_path / "messages.log", _plain(8))
    tail, polls = _tail_through(
        tail_of, live, [lambda: (live.write(5), live.truncate())], paused=True
    )
    assert tail.out == _expected(live, polls) == live.lines[:30] + live.lines[35:]
    missed = live.truth.missed(interval=3600.0, phase=polls[0])
    assert [r.index for r in missed] == [30, 31, 32, 33, 34]


def test_tail_follows_the_iris_rollover(tail_of: Callable[[Path], Tail], tmp_path: Path) -> None:
    live = LiveLogWriter(
        tmp_path / "messages.log", _plain(9), rotate_mode="iris", max_console_log_size=1000
    )
    tail, polls = _tail_through(tail_of, live, [live.restart] * 2)
    assert tail.out == _expected(live, polls) == live.lines
    assert [e.kind for e in live.events] == ["rollover", "rollover"]
    assert len(list(tmp_path.glob("messages.old_*"))) == 2


# -- what a tailer sees mid-write ----------------------------------------------


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
    cut_at = next(e.line for e in live.events if e.kind == "partial")
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
    assert path.read_text().split("\n")[:-1] == after
    assert [r.index for r in live.truth.lost()] == list(range(cut))


def test_burst_writes_many_lines_at_once(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    with LiveLogWriter(path, _stream(4), rate=5) as live:
        live.burst(300)
        live.wait(300, timeout=DEADLINE)
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


# -- options checked up front --------------------------------------------------


def test_bad_options_are_rejected_naming_the_allowed(tmp_path: Path) -> None:
    log = tmp_path / "m.log"
    with pytest.raises(ConfigError, match=r"rate=0 is not valid; expected lines per second"):
        LiveLogWriter(log, rate=0)
    with pytest.raises(ConfigError, match="rotate_every=0 is not valid"):
        LiveLogWriter(log, rotate_every=0)
    with pytest.raises(
        ConfigError,
        match=r"unknown option 'rotate_evry'; allowed: rate, rotate_every, .*burst_size",
    ):
        LiveLogWriter(log, _plain(1), rotate_evry=10)
    with pytest.raises(
        ConfigError, match=r"rotate_mode='hourly'.*logrotate \| copytruncate \| iris"
    ):
        LiveLogWriter(log, rotate_mode="hourly")
    with pytest.raises(ConfigError, match="compress='yes' is not valid; expected bool"):
        LiveLogWriter(log, compress="yes")
    with pytest.raises(ConfigError, match="'count' is a stream option"):
        LiveLogWriter(log, _plain(1), count=5)
    assert not log.exists()


def test_marker_live_option_typo_names_the_option_and_the_allowed(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.iris_log(live={"rotate_evry": 10})
        def test_live(iris_live_log):
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown option 'rotate_evry'; allowed: rate, rotate_every,*"])


def test_writer_used_by_hand_keeps_no_thread_and_closes(tmp_path: Path) -> None:
    live = LiveLogWriter(tmp_path / "messages.log", _plain(10))
    assert live.write(7) == 7
    live.stop()
    assert not live.running
    assert os.path.getsize(tmp_path / "messages.log") > 0


# -- logtail2 (Debian's logtail package): a poller whose polls the test makes --


class LogTail2:
    """Runs ``logtail2`` once per :meth:`poll`, each a poll at a known instant."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offsets = path.with_name(path.name + ".offset")
        self.polls: list[float] = []
        self.out: list[str] = []

    def poll(self) -> None:
        self.polls.append(time.monotonic())  # the writer is idle until logtail2 returns
        done = subprocess.run(
            ["logtail2", "-f", str(self.path), "-o", str(self.offsets)],
            capture_output=True,
            text=True,
            check=True,
            timeout=DEADLINE,
        )
        # its own warning about a shrunk file is three lines of asterisks
        self.out += [line for line in done.stdout.splitlines() if not line.startswith("*")]


@pytest.fixture
def logtail2() -> type[LogTail2]:
    if shutil.which("logtail2") is None:
        pytest.skip("logtail2 not installed (Debian package logtail; .ci/run installs it)")
    return LogTail2


def test_logtail2_recovers_rotated_lines_from_plain_dot_1(
    logtail2: type[LogTail2], tmp_path: Path
) -> None:
    """delaycompress keeps .1 plain: logtail2 reads the rest of the old file from it."""
    live = LiveLogWriter(tmp_path / "messages.log", _plain(11), compress=True, delaycompress=True)
    reader = logtail2(live.path)
    live.write(20)
    reader.poll()
    for _ in range(3):
        live.write(15)
        live.rotate()  # lines rotated away before the next poll
        live.write(5)
        reader.poll()
    live.stop()
    assert reader.out == live.lines
    assert len(live.truth.unseen(reader.polls)) == 45  # never in the live file at a poll


def test_logtail2_loses_exactly_the_unseen_lines_when_dot_1_is_compressed(
    logtail2: type[LogTail2], tmp_path: Path
) -> None:
    """compress without delaycompress: the old file is .1.gz, which logtail2 cannot read."""
    live = LiveLogWriter(tmp_path / "messages.log", _plain(12), compress=True)
    reader = logtail2(live.path)
    live.write(20)
    reader.poll()
    live.write(15)
    live.rotate()
    live.write(5)
    reader.poll()
    live.stop()
    assert reader.out == _expected(live, reader.polls) == live.lines[:20] + live.lines[35:]


def test_logtail2_misses_exactly_the_copytruncate_window(
    logtail2: type[LogTail2], tmp_path: Path
) -> None:
    live = LiveLogWriter(
        tmp_path / "messages.log", _plain(13), rotate_mode="copytruncate", copytruncate_window=3
    )
    reader = logtail2(live.path)
    live.write(30)
    reader.poll()
    live.rotate()
    live.write(5)  # fewer bytes than before: logtail2 sees the file shrank and starts over
    reader.poll()
    live.stop()
    assert reader.out == _expected(live, reader.polls)
    assert [r.index for r in live.truth.unseen(reader.polls)] == [30, 31, 32]


# -- pygtail (PyPI, in the dev extra): a library poller with rotation support ----


def _pygtail_poll(path: Path, polls: list[float]) -> list[str]:
    """One run of pygtail, as a cron job would make it: a new reader on the offset file."""
    from pygtail import Pygtail

    polls.append(time.monotonic())
    reader = Pygtail(str(path), offset_file=str(path) + ".pygtail")
    return [line.rstrip("\n") for line in reader.readlines()]


def test_pygtail_recovers_copied_lines_and_loses_only_the_window(tmp_path: Path) -> None:
    path = tmp_path / "messages.log"
    live = LiveLogWriter(path, _plain(14), rotate_mode="copytruncate", copytruncate_window=2)
    polls: list[float] = []
    live.write(20)
    seen = _pygtail_poll(path, polls)
    live.write(10)  # read by nobody before the copy: pygtail finds them in .1
    live.rotate()
    live.write(5)
    seen += _pygtail_poll(path, polls)
    live.stop()
    lost = live.truth.lost()
    assert [r.index for r in lost] == [30, 31]
    assert seen == [r.text for r in live.truth.records if r not in lost]


def test_pygtail_misses_what_the_iris_rollover_moved_between_polls(tmp_path: Path) -> None:
    """pygtail knows logrotate's names, not IRIS's messages.old_<date>: those lines are gone."""
    path = tmp_path / "messages.log"
    live = LiveLogWriter(path, _plain(15), rotate_mode="iris", max_console_log_size=500)
    polls: list[float] = []
    live.write(20)
    seen = _pygtail_poll(path, polls)
    live.write(10)
    live.restart()
    live.write(5)
    seen += _pygtail_poll(path, polls)
    live.stop()
    assert seen == _expected(live, polls) == live.lines[:20] + live.lines[30:]
    assert live.truth.lost() == []  # the lines are in messages.old_<date>, just not followed
