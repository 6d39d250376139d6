"""A live messages.log: a stream appended at a given rate, rotated as production does.

Log tailers break on what a live file does, so the writer does each of
those on purpose, on command or once every N lines:

* **rotation** in one of three modes (:mod:`pytest_iris.generation.rotation`):
  ``logrotate`` (rename, ``.1`` newest, optional ``compress`` /
  ``delaycompress``, ``keep`` files), ``copytruncate`` (copy, then truncate,
  with lines lost in between) and ``iris`` (IRIS's start-up rollover to
  ``messages.old_<date>`` once the file reached ``max_console_log_size``);
* **truncation** - the file is cut to zero bytes and writing goes on;
* **partial line** - one line is written in two pieces with a pause
  between them, so a reader can see a line without its break;
* **burst** - many lines written at once.

``<kind>_every=N`` fires once per N lines written: after N, 2N, 3N ...
lines (a partial line or a burst starts at line N, 2N ...).

Everything written is recorded: :attr:`LiveLogWriter.lines`,
:attr:`LiveLogWriter.events` and :attr:`LiveLogWriter.truth` (a
:class:`~pytest_iris.generation.truth.LiveTruth`: per line, when it was in
the live file and whether any file still holds it), so a test can compare
what its tailer read with what it could have read.

Two ways to drive it: :meth:`start` runs a background thread at ``rate``
lines/s (stopped and joined by :meth:`stop` or the ``with`` block; an error
in the thread is raised there); without starting, :meth:`write` appends
lines in the caller's thread and the commands act at once, for tests that
must know exactly what happened between two reads.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pytest_iris.errors import ConfigError
from pytest_iris.generation.rotation import ROTATE_MODES, LogFiles
from pytest_iris.generation.truth import LiveTruth

#: writer options and what each accepts (``live={...}`` of the marker)
OPTIONS: dict[str, str] = {
    "rate": "lines per second, > 0",
    "rotate_every": "lines, >= 1",
    "rotate_mode": " | ".join(ROTATE_MODES),
    "keep": "rotated files kept (logrotate's rotate), >= 1",
    "compress": "bool",
    "delaycompress": "bool",
    "copytruncate_window": "lines lost between copy and truncate, >= 0",
    "max_console_log_size": "bytes (iris mode; IRIS's default is 5 MB), >= 1",
    "truncate_every": "lines, >= 1",
    "partial_every": "lines, >= 1",
    "burst_every": "lines, >= 1",
    "burst_size": "lines, >= 1",
    "partial_pause": "seconds, >= 0",
}
_EVERY = ("rotate_every", "truncate_every", "partial_every", "burst_every")


@dataclass(frozen=True)
class LiveEvent:
    """Something the writer did: ``kind`` after ``line`` lines had been written."""

    kind: str  # "rotate", "rollover", "restart", "truncate", "partial", "burst"
    line: int
    detail: str = ""


def check_options(options: Mapping[str, Any], *, stream_given: bool = True) -> None:
    """Reject unknown writer options and bad values, naming the allowed ones.

    Without a stream, the options of :class:`~pytest_iris.generation.stream.LogStream`
    are accepted too (they build it).
    """
    for name, value in options.items():
        if name in OPTIONS:
            if _value_problem(name, value):
                raise ConfigError(
                    f"LiveLogWriter: {name}={value!r} is not valid; expected {OPTIONS[name]}"
                )
            continue
        stream_options = _stream_options()
        if name in stream_options and not stream_given:
            continue
        if name in stream_options:
            raise ConfigError(
                f"LiveLogWriter: {name!r} is a stream option; pass either a stream or "
                "stream options, not both"
            )
        allowed = ", ".join(OPTIONS)
        if not stream_given:
            allowed += f"; stream options: {', '.join(stream_options)}"
        raise ConfigError(f"LiveLogWriter: unknown option {name!r}; allowed: {allowed}")


def _value_problem(name: str, value: Any) -> bool:
    if name == "rotate_mode":
        return value not in ROTATE_MODES
    if name in ("compress", "delaycompress"):
        return not isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return name not in _EVERY or value is not None
    if name in ("rate",):
        return not value > 0
    if name in ("partial_pause",):
        return value < 0
    if name == "copytruncate_window":
        return not isinstance(value, int) or value < 0
    return not isinstance(value, int) or value < 1


def _stream_options() -> tuple[str, ...]:
    from pytest_iris.generation.stream import LogStream

    return tuple(inspect.signature(LogStream).parameters)


class LiveLogWriter:
    """Appends the lines of a :class:`~pytest_iris.generation.stream.LogStream` to ``path``.

    Options are listed in :data:`OPTIONS`. :meth:`rotate`, :meth:`truncate`,
    :meth:`partial`, :meth:`burst` and :meth:`restart` ask for one event now.
    Extra keyword arguments build the stream when ``stream`` is not given
    (``seed`` defaults to 0).
    """

    def __init__(
        self,
        path: str | Path,
        stream: Any = None,
        *,
        rate: float = 200.0,
        rotate_every: int | None = None,
        rotate_mode: str = "logrotate",
        keep: int = 4,
        compress: bool = False,
        delaycompress: bool = False,
        copytruncate_window: int = 1,
        max_console_log_size: int = 5 * 1024 * 1024,
        truncate_every: int | None = None,
        partial_every: int | None = None,
        burst_every: int | None = None,
        burst_size: int = 50,
        partial_pause: float = 0.05,
        **stream_options: Any,
    ) -> None:
        check_options({k: v for k, v in locals().items() if k in OPTIONS})
        check_options(stream_options, stream_given=stream is not None)
        if stream is None:
            from pytest_iris.generation.stream import LogStream

            stream_options.setdefault("count", 100_000)
            stream_options.setdefault("sequences", ())
            stream = LogStream(stream_options.pop("seed", 0), **stream_options)
        self.path = Path(path)
        self.stream = stream
        self.rate = float(rate)
        self.rotate_mode = rotate_mode
        self.copytruncate_window = copytruncate_window
        self.max_console_log_size = max_console_log_size
        self.every = {
            "rotate": rotate_every,
            "truncate": truncate_every,
            "partial": partial_every,
            "burst": burst_every,
        }
        self.burst_size = burst_size
        self.partial_pause = partial_pause
        self.truth = LiveTruth()
        self.files = LogFiles(
            self.path, self.truth, keep=keep, compress=compress, delaycompress=delaycompress
        )
        #: every line written, in order, without its break
        self.lines: list[str] = []
        self.events: list[LiveEvent] = []
        self._due = {kind: n for kind, n in self.every.items() if n}
        self._source: Iterator[str] | None = None
        self._commands: deque[tuple[str, int]] = deque()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> LiveLogWriter:
        if self._thread is not None:
            raise ConfigError("LiveLogWriter: already started")
        self._open()
        self._thread = threading.Thread(target=self._run, name=f"iris-live-log:{self.path.name}")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop writing (the current line is finished), join the thread, raise its error."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                raise ConfigError(f"LiveLogWriter: writer thread did not stop within {timeout} s")
        else:
            self.files.close()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> LiveLogWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def finished(self) -> bool:
        """Whether the stream ran out (everything was written)."""
        return self._done.is_set()

    @property
    def rotated(self) -> list[Path]:
        """Rotated files as they are now: logrotate's newest first, then IRIS's old files."""
        return [path for path, _ in self.files.rotated] + [path for path, _ in self.files.old]

    # -- commands (queued while the thread runs, at once otherwise) ----------

    def rotate(self) -> None:
        """Rotate now in ``rotate_mode`` (``iris``: a restart, rolling over if the file is big)."""
        self._command("rotate")

    def restart(self) -> None:
        """An instance restart: IRIS's rollover check (same as :meth:`rotate` in ``iris`` mode)."""
        self._command("restart")

    def truncate(self) -> None:
        self._command("truncate")

    def partial(self) -> None:
        """Write the next line in two pieces."""
        self._command("partial")

    def burst(self, size: int | None = None) -> None:
        self._command("burst", size or self.burst_size)

    def write(self, lines: int) -> int:
        """Append ``lines`` more lines now, in the caller's thread (not while started)."""
        if self._thread is not None:
            raise ConfigError("LiveLogWriter: write() drives a writer that was not started")
        self._open()
        target = len(self.lines) + lines
        while len(self.lines) < target and self._step():
            pass
        return len(self.lines)

    def wait(self, lines: int, timeout: float = 10.0) -> int:
        """Block until ``lines`` lines were written (or the stream ended); returns the count."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while len(self.lines) < lines and not self._done.is_set():
                if self._error is not None or not self.running:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"LiveLogWriter: {len(self.lines)} of {lines} lines written after {timeout} s"
                    )
                self._progress.wait(left)
            return len(self.lines)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until every queued command has been carried out."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._commands and self.running:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("LiveLogWriter: commands still queued")
                self._progress.wait(left)

    # -- the work ------------------------------------------------------------

    def _open(self) -> None:
        if self._source is None:
            self.files.open()
            self._source = self.stream.lines()

    def _command(self, kind: str, size: int = 0) -> None:
        if self._thread is None:
            self._open()
            self._do(kind, size)
        else:
            self._commands.append((kind, size))

    def _run(self) -> None:
        try:
            interval = max(1.0 / self.rate, 0.01)
            per_tick = max(1, round(self.rate * interval))
            next_tick = time.monotonic()
            while not self._stop.is_set():
                for _ in range(per_tick):
                    if not self._drain() or not self._step():
                        return
                next_tick += interval
                pause = next_tick - time.monotonic()
                if pause > 0:
                    self._stop.wait(pause)
                else:
                    next_tick = time.monotonic()
        except BaseException as error:  # reported by stop()
            self._error = error
        finally:
            self.files.close()
            with self._progress:
                self._progress.notify_all()

    def _drain(self) -> bool:
        while self._commands:
            kind, size = self._commands[0]
            alive = self._do(kind, size)
            self._commands.popleft()
            with self._progress:
                self._progress.notify_all()
            if not alive:
                return False
        return True

    def _do(self, kind: str, size: int) -> bool:
        if kind in ("rotate", "restart"):
            self._rotate(kind)
        elif kind == "truncate":
            self.files.truncate()
            self.events.append(LiveEvent("truncate", len(self.lines)))
        elif kind == "partial":
            return self._write_one(partial=True)
        elif kind == "burst":
            return self._burst(size)
        return True

    def _step(self) -> bool:
        """One line, or the partial line / burst that is due here; then due rotations."""
        written = len(self.lines)
        if self._fire("burst", written):
            alive = self._burst(self.burst_size)
        else:
            alive = self._write_one(partial=self._fire("partial", written))
        written = len(self.lines)
        if self._fire("rotate", written):
            self._rotate("rotate")
        if self._fire("truncate", written):
            self._do("truncate", 0)
        return alive

    def _fire(self, kind: str, written: int) -> bool:
        """Whether ``kind`` is due at ``written`` lines; then it is next due one interval on."""
        due = self._due.get(kind)
        if due is None or written < due or written == 0:
            return False
        every = self.every[kind]
        assert every is not None
        self._due[kind] = (written // every + 1) * every
        return True

    def _next(self, count: int) -> list[str]:
        assert self._source is not None
        out: list[str] = []
        for line in self._source:
            out.append(line)
            if len(out) >= count:
                break
        if len(out) < count:
            self._done.set()
        return out

    def _write_one(self, *, partial: bool = False) -> bool:
        chunk = self._next(1)
        if not chunk:
            return False
        data = (chunk[0] + "\n").encode("utf-8")
        if partial:
            cut = max(1, len(data) // 2)
            self.events.append(LiveEvent("partial", len(self.lines), f"{cut} bytes first"))
            self.files.write_piece(data[:cut])
            # the pause is the point: a tailer reading now sees half a line
            time.sleep(self.partial_pause)
            self.files.append(data[cut:], chunk)
        else:
            self.files.append(data, chunk)
        self._record(chunk)
        return True

    def _burst(self, size: int) -> bool:
        self.events.append(LiveEvent("burst", len(self.lines), str(size)))
        chunk = self._next(size)
        if chunk:
            self.files.append(("\n".join(chunk) + "\n").encode("utf-8"), chunk)
            self._record(chunk)
        return len(chunk) == size

    def _record(self, lines: list[str]) -> None:
        with self._progress:
            self.lines.extend(lines)
            self._progress.notify_all()

    def _rotate(self, kind: str) -> None:
        written = len(self.lines)
        if self.rotate_mode == "iris" or kind == "restart":
            size = self.files.size()
            if size < self.max_console_log_size:
                self.events.append(
                    LiveEvent(
                        "restart",
                        written,
                        f"no rollover: {size} < {self.max_console_log_size} bytes",
                    )
                )
                return
            target = self.files.iris_rollover(self._log_date())
            self.events.append(LiveEvent("rollover", written, target.name))
        elif self.rotate_mode == "copytruncate":
            target = self.files.copytruncate(self._window)
            lost = len(self.lines) - written
            self.events.append(LiveEvent("rotate", written, f"{target.name}; {lost} lost"))
        else:
            target = self.files.logrotate()
            self.events.append(LiveEvent("rotate", written, target.name))

    def _window(self) -> None:
        """The lines the application appends between logrotate's copy and its truncate."""
        for _ in range(self.copytruncate_window):
            if not self._write_one():
                return

    def _log_date(self) -> date:
        """The host's date: that of the last line written with a timestamp."""
        from pytest_iris.errors import ParseError
        from pytest_iris.log.codec import parse_message

        for line in reversed(self.lines[-200:]):
            try:
                return parse_message(line).timestamp.date()
            except ParseError:
                continue
        start = getattr(getattr(self.stream, "context", None), "start", None)
        return start.date() if start is not None else date(2000, 1, 1)
