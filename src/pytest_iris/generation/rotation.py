"""The live file and its rotated copies, rotated the ways production rotates them.

* ``logrotate`` - logrotate's default (``create``): rotated files shift up
  (``.1`` -> ``.2`` ...), the live file is renamed to ``<name>.1`` (``.1`` is
  always the newest), a new empty live file is created, files past ``keep``
  are deleted. ``compress`` gzips rotated files (``.1.gz``);
  ``delaycompress`` leaves ``.1`` plain and compresses it one rotation later,
  as logrotate does (logrotate(8), ``compress``/``delaycompress``/``rotate``).
* ``copytruncate`` - logrotate's ``copytruncate``: the live file is copied to
  ``<name>.1`` and then truncated in place; the writer keeps its descriptor
  (``O_APPEND``, so writing goes on at offset 0). Lines the application
  appends between the copy and the truncate are in neither file: the race
  logrotate(8) warns about ("some logging data might be lost"). The writer
  puts ``window`` lines into that window.
* ``iris`` - IRIS's own rollover: at instance start-up, when the console
  log has reached ``MaxConsoleLogSize``, the old file is renamed and a new
  one started. InterSystems documents the name as ``<file>.old_<Date>``
  (RCPF_MAXCONSOLELOGSIZE, https://docs.intersystems.com/latest/csp/docbook/DocBook.UI.Page.cls?KEY=RCPF_MAXCONSOLELOGSIZE;
  range 1-500 MB, default 5 MB). The date's form here, ``YYYYMMDD``, with
  ``_<n>`` when that name is taken, is from a third-party project's notes on
  names IRIS 2026.2 produced in a lab, not from InterSystems: treat it as
  an assumption. IRIS keeps every old file (nothing is deleted).

Every move is reported to a :class:`~pytest_iris.generation.truth.LiveTruth`.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO

from pytest_iris.generation.truth import LiveTruth

ROTATE_MODES = ("logrotate", "copytruncate", "iris")


class LogFiles:
    """The live file (an open ``O_APPEND`` handle) and its rotated files, newest first."""

    def __init__(
        self,
        path: Path,
        truth: LiveTruth,
        *,
        keep: int = 4,
        compress: bool = False,
        delaycompress: bool = False,
    ) -> None:
        self.path = path
        self.truth = truth
        self.keep = keep
        self.compress = compress
        self.delaycompress = delaycompress
        #: rotated files newest first, each with the indexes of the lines it holds
        self.rotated: list[tuple[Path, list[int]]] = []
        #: old files of IRIS's rollover, oldest first (never deleted)
        self.old: list[tuple[Path, list[int]]] = []
        self.live: list[int] = []
        self._handle: IO[bytes] | None = None

    # -- the live file -----------------------------------------------------

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "ab")  # noqa: SIM115 - closed by close()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def append(self, data: bytes, texts: list[str]) -> None:
        """Write ``data`` (the lines ``texts``) and record them as written now."""
        self.write_piece(data)
        self.live.extend(self.truth.wrote(texts, time.monotonic()))

    def write_piece(self, data: bytes) -> None:
        """Write bytes that are not (yet) whole lines (a partial line's first piece)."""
        handle = self._handle
        if handle is None:
            raise RuntimeError("LogFiles: the live file is not open")
        handle.write(data)
        handle.flush()

    def size(self) -> int:
        return os.fstat(self._handle.fileno()).st_size if self._handle else 0

    # -- rotations -----------------------------------------------------------

    def logrotate(self) -> Path:
        """Rename the live file to ``.1`` (after shifting the others), create a new one."""
        self._shift()
        target = self._numbered(1)
        self.close()
        os.rename(self.path, target)
        now = time.monotonic()
        self.truth.left(self.live, now, target.name, destroyed=False)
        self.rotated.insert(0, (target, self.live))
        self.live = []
        self.open()
        self._compress()
        return target

    def copytruncate(self, window: Callable[[], None]) -> Path:
        """Copy the live file to ``.1``, let ``window`` append, then truncate the live file."""
        self._shift()
        target = self._numbered(1)
        shutil.copyfile(self.path, target)
        copied = list(self.live)
        window()  # appends to the live file: these lines are in no copy
        lost = self.live[len(copied) :]
        os.truncate(self.path, 0)
        now = time.monotonic()
        self.truth.left(copied, now, target.name, destroyed=False)
        self.truth.destroyed(lost, now, "copytruncate-window")
        self.rotated.insert(0, (target, copied))
        self.live = []
        self._compress()
        return target

    def truncate(self) -> None:
        """Cut the live file to zero bytes, without a copy: its lines are gone."""
        os.truncate(self.path, 0)
        self.truth.destroyed(self.live, time.monotonic(), "truncated")
        self.live = []

    def iris_rollover(self, day: date) -> Path:
        """Rename the live file to ``<stem>.old_YYYYMMDD[_n]`` and start a new one."""
        stem = self.path.name.rsplit(".", 1)[0]
        base = self.path.with_name(f"{stem}.old_{day:%Y%m%d}")
        target, n = base, 0
        while target.exists():
            n += 1
            target = base.with_name(f"{base.name}_{n}")
        self.close()
        os.rename(self.path, target)
        self.truth.left(self.live, time.monotonic(), target.name, destroyed=False)
        self.old.append((target, self.live))
        self.live = []
        self.open()
        return target

    # -- helpers ---------------------------------------------------------------

    def _numbered(self, n: int, gz: bool = False) -> Path:
        return self.path.with_name(f"{self.path.name}.{n}{'.gz' if gz else ''}")

    def _shift(self) -> None:
        """Delete the files that would pass ``keep``, rename ``.n`` to ``.n+1`` (oldest first)."""
        now = time.monotonic()
        while len(self.rotated) >= self.keep:
            path, lines = self.rotated.pop()
            path.unlink()
            self.truth.destroyed(lines, now, f"deleted:{path.name}")
        for position in range(len(self.rotated) - 1, -1, -1):
            path, lines = self.rotated[position]
            target = self._numbered(position + 2, gz=path.name.endswith(".gz"))
            os.rename(path, target)
            self.truth.moved(lines, target.name)
            self.rotated[position] = (target, lines)

    def _compress(self) -> None:
        if not self.compress:
            return
        position = 1 if self.delaycompress else 0
        if position >= len(self.rotated):
            return
        path, lines = self.rotated[position]
        if path.name.endswith(".gz"):
            return
        target = path.with_name(path.name + ".gz")
        with open(path, "rb") as source, gzip.GzipFile(target, "wb", mtime=0) as sink:
            shutil.copyfileobj(source, sink)
        path.unlink()
        self.truth.moved(lines, target.name)
        self.rotated[position] = (target, lines)
