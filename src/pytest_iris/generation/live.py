"""A live messages.log: a background thread appending a stream at a given rate.

Log tailers break on what a live file does, so the writer can do each of
those on purpose, on command or every N lines:

* **rotation** - the file is renamed to ``<name>.1``, ``<name>.2`` ... and a
  new, empty file starts (IRIS's own rotated-file name was not found in the
  sources; the numbering here is pytest-iris's);
* **truncation** - the file is cut to zero bytes and writing goes on;
* **partial line** - one line is written in two pieces with a pause
  between them, so a reader can see a line without its break;
* **burst** - many lines written at once.

Everything written is recorded (:attr:`LiveLogWriter.lines`,
:attr:`LiveLogWriter.events`) so a test can compare what its tailer read
with what was written. The thread is stopped and joined by :meth:`stop`
(or leaving the ``with`` block); an error in the thread is raised there.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pytest_iris.errors import ConfigError


@dataclass(frozen=True)
class LiveEvent:
    """Something the writer did: ``kind`` after ``line`` lines had been written."""

    kind: str  # "rotate", "truncate", "partial", "burst"
    line: int
    detail: str = ""


class LiveLogWriter:
    """Appends the lines of a :class:`~pytest_iris.generation.stream.LogStream` to ``path``.

    ``rate`` is lines per second of wall-clock time. ``rotate_every``,
    ``truncate_every``, ``partial_every`` and ``burst_every`` (lines) make
    those events happen on their own; :meth:`rotate`, :meth:`truncate`,
    :meth:`partial` and :meth:`burst` ask for one now. Extra keyword
    arguments build the stream when ``stream`` is not given.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        stream: Any = None,
        *,
        rate: float = 200.0,
        rotate_every: int | None = None,
        truncate_every: int | None = None,
        partial_every: int | None = None,
        burst_every: int | None = None,
        burst_size: int = 50,
        partial_pause: float = 0.05,
        **stream_options: Any,
    ) -> None:
        if not rate > 0:
            raise ConfigError(f"LiveLogWriter: rate must be > 0 lines/s, got {rate!r}")
        for name, value in (
            ("rotate_every", rotate_every),
            ("truncate_every", truncate_every),
            ("partial_every", partial_every),
            ("burst_every", burst_every),
        ):
            if value is not None and value < 1:
                raise ConfigError(f"LiveLogWriter: {name} must be >= 1 line, got {value!r}")
        if stream is None:
            from pytest_iris.generation.stream import LogStream

            stream_options.setdefault("count", 100_000)
            stream_options.setdefault("sequences", ())
            stream = LogStream(**stream_options)
        elif stream_options:
            raise ConfigError("LiveLogWriter: pass either a stream or stream options, not both")
        self.path = Path(path)
        self.stream = stream
        self.rate = float(rate)
        self.rotate_every = rotate_every
        self.truncate_every = truncate_every
        self.partial_every = partial_every
        self.burst_every = burst_every
        self.burst_size = burst_size
        self.partial_pause = partial_pause
        #: every line written, in order, without its break
        self.lines: list[str] = []
        self.events: list[LiveEvent] = []
        #: files the writer rotated away, oldest first
        self.rotated: list[Path] = []
        self._source: Iterator[str] = iter(())
        self._commands: deque[tuple[str, int]] = deque()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._handle: IO[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> LiveLogWriter:
        if self._thread is not None:
            raise ConfigError("LiveLogWriter: already started")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "ab")  # noqa: SIM115 - closed by the thread
        self._source = self.stream.lines()
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

    # -- commands ------------------------------------------------------------

    def rotate(self) -> None:
        self._commands.append(("rotate", 0))

    def truncate(self) -> None:
        self._commands.append(("truncate", 0))

    def partial(self) -> None:
        """Write the next line in two pieces."""
        self._commands.append(("partial", 0))

    def burst(self, size: int | None = None) -> None:
        self._commands.append(("burst", size or self.burst_size))

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
                self._progress.wait(min(left, 0.05))
            return len(self.lines)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until every queued command has been carried out."""
        deadline = time.monotonic() + timeout
        while self._commands and self.running:
            if time.monotonic() > deadline:
                raise TimeoutError("LiveLogWriter: commands still queued")
            time.sleep(0.005)

    # -- the thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            interval = max(1.0 / self.rate, 0.01)
            per_tick = max(1, round(self.rate * interval))
            next_tick = time.monotonic()
            while not self._stop.is_set():
                while self._commands:
                    kind, size = self._commands.popleft()
                    if not self._command(kind, size):
                        return
                for _ in range(per_tick):
                    if not self._write_next():
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
            if self._handle is not None:
                self._handle.close()
            with self._progress:
                self._progress.notify_all()

    def _command(self, kind: str, size: int) -> bool:
        if kind == "rotate":
            self._rotate()
        elif kind == "truncate":
            self._truncate()
        elif kind == "partial":
            return self._write_next(partial=True)
        elif kind == "burst":
            return self._burst(size)
        return True

    def _burst(self, size: int) -> bool:
        self.events.append(LiveEvent("burst", len(self.lines), str(size)))
        chunk: list[str] = []
        for line in self._source:
            chunk.append(line)
            if len(chunk) >= size:
                break
        if chunk:
            self._emit(("\n".join(chunk) + "\n").encode("utf-8"), chunk)
        if len(chunk) < size:
            self._finish()
            return False
        return True

    def _write_next(self, *, partial: bool = False) -> bool:
        line = next(self._source, None)
        if line is None:
            self._finish()
            return False
        data = (line + "\n").encode("utf-8")
        handle = self._handle
        assert handle is not None
        if partial:
            cut = max(1, len(data) // 2)
            self.events.append(LiveEvent("partial", len(self.lines), f"{cut} bytes first"))
            handle.write(data[:cut])
            handle.flush()
            # the pause is the point: a tailer reading now sees half a line
            time.sleep(self.partial_pause)
            handle.write(data[cut:])
            handle.flush()
            self._record([line])
        else:
            self._emit(data, [line])
        self._automatic()
        return True

    def _emit(self, data: bytes, lines: list[str]) -> None:
        handle = self._handle
        assert handle is not None
        handle.write(data)
        handle.flush()
        self._record(lines)
        self._automatic()

    def _record(self, lines: list[str]) -> None:
        with self._progress:
            self.lines.extend(lines)
            self._progress.notify_all()

    def _automatic(self) -> None:
        written = len(self.lines)
        last = self.events[-1].line if self.events else -1
        if self.rotate_every and written % self.rotate_every == 0 and last != written:
            self._rotate()
        elif self.truncate_every and written % self.truncate_every == 0 and last != written:
            self._truncate()
        elif self.burst_every and written % self.burst_every == 0 and last != written:
            self._commands.append(("burst", self.burst_size))
        elif self.partial_every and written % self.partial_every == 0 and last != written:
            self._commands.append(("partial", 0))

    def _rotate(self) -> None:
        handle = self._handle
        assert handle is not None
        handle.close()
        target = self.path.with_name(f"{self.path.name}.{len(self.rotated) + 1}")
        os.replace(self.path, target)
        self.rotated.append(target)
        self._handle = open(self.path, "ab")  # noqa: SIM115 - closed by the thread
        self.events.append(LiveEvent("rotate", len(self.lines), target.name))

    def _truncate(self) -> None:
        handle = self._handle
        assert handle is not None
        handle.flush()
        os.truncate(self.path, 0)
        self.events.append(LiveEvent("truncate", len(self.lines)))

    def _finish(self) -> None:
        self._done.set()
