"""File transport: messages appended to a log file, commands read from a growing file.

Each message is one ``os.write`` to a descriptor opened with ``O_APPEND``,
taken under a thread lock and an ``flock`` on the file, so entries from
concurrent publishers (threads, tasks or processes) never interleave: a
reader sees whole lines only. Multi-line IRIS entries (continuation lines)
are written in the same single write.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Literal

from pydantic import ValidationError as PydanticValidationError

from pytest_iris.atomic import write_all
from pytest_iris.errors import TransportError
from pytest_iris.log.grammar import format_message
from pytest_iris.models import IRISMessage, RemediationCommand
from pytest_iris.transport.envelope import wrap


class FileTransport:
    """Append messages to ``path``; consume commands from ``commands_path``.

    ``format="iris"`` writes messages.log entries; ``"jsonl"`` writes one JSON
    envelope (id, trace id, message) per line. ``fsync=True`` makes each
    publish durable before it returns (slower; off by default like IRIS's own log).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        format: Literal["iris", "jsonl"] = "iris",
        commands_path: str | os.PathLike[str] | None = None,
        poll_interval_s: float = 0.05,
        fsync: bool = False,
    ) -> None:
        if format not in ("iris", "jsonl"):
            raise TransportError(f"file transport format must be 'iris' or 'jsonl', got {format!r}")
        self.path = Path(path)
        self.format = format
        self.commands_path = Path(commands_path) if commands_path is not None else None
        self.poll_interval_s = poll_interval_s
        self.fsync = fsync
        self._lock = threading.Lock()
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(
                    self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
                )
            except OSError as error:
                raise TransportError(
                    f"cannot open {str(self.path)!r} for appending: {error}"
                ) from error
        return self._fd

    def record(self, message: IRISMessage) -> bytes:
        """The bytes one publish appends for ``message`` (ends with a line break)."""
        if self.format == "iris":
            return (format_message(message) + "\n").encode()
        return wrap(message).model_dump_json().encode() + b"\n"

    def write(self, message: IRISMessage) -> None:
        """Append ``message`` now, from synchronous code."""
        self._append(self.record(message))

    async def publish(self, message: IRISMessage) -> bool:
        """Append ``message``; True once written (raises :class:`TransportError` on I/O errors)."""
        self._append(self.record(message))
        return True

    def _append(self, data: bytes) -> None:
        with self._lock:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    write_all(fd, data)  # a short write is rare; the locks keep it contiguous
                    if self.fsync:
                        os.fsync(fd)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError as error:
                raise TransportError(f"cannot append to {str(self.path)!r}: {error}") from error

    async def consume(self) -> AsyncIterator[RemediationCommand]:
        """Yield commands from ``commands_path`` as lines are appended, forever.

        Reads from the start of the file, waits for it to exist, keeps a partial
        last line until its line break arrives, and starts over when the file
        is replaced or truncated. A line that is not a valid command raises
        :class:`TransportError` naming the file and line.
        """
        if self.commands_path is None:
            raise TransportError("this file transport has no commands_path to consume from")
        path = self.commands_path
        position = 0
        line_number = 0
        pending = b""
        inode: int | None = None
        while True:
            try:
                stat = path.stat()
            except FileNotFoundError:
                await asyncio.sleep(self.poll_interval_s)
                continue
            if inode is not None and (stat.st_ino != inode or stat.st_size < position):
                position, line_number, pending = 0, 0, b""  # replaced or truncated
            inode = stat.st_ino
            if stat.st_size == position:
                await asyncio.sleep(self.poll_interval_s)
                continue
            with path.open("rb") as handle:
                handle.seek(position)
                chunk = handle.read()
            position += len(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line_number += 1
                if not raw.strip():
                    continue
                try:
                    command = RemediationCommand.model_validate_json(raw)
                except PydanticValidationError as error:
                    raise TransportError(
                        f"{path}:{line_number}: not a remediation command: "
                        + "; ".join(
                            f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}"
                            for e in error.errors()[:3]
                        )
                    ) from error
                yield command

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
                self._fd = None

    async def aclose(self) -> None:
        self.close()

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> FileTransport:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
