"""A durable outbox: messages that could not be delivered, kept on disk in order.

File format (``outbox.log`` in the outbox directory), one record per line::

    <crc32 of JSON, 8 hex digits> <JSON>\\n

with JSON either ``{"add": envelope}`` or ``{"del": [ids], "why": reason}``.
Pending messages are the added ones not yet deleted, in the order added.
Every ``add`` is written in one ``write`` and fsynced before :meth:`Outbox.append`
returns, so a message a publisher was told is "kept" survives a kill at any
moment. A kill during a write leaves at most a torn *last* record (no line
break, or a checksum that does not match); opening the outbox truncates it
away, which loses nothing that was acknowledged. ``del`` records are not
fsynced: losing one only means a redelivery, which receivers drop by id.
A lock file (``flock``) keeps a second process from sharing the directory;
the kernel releases it when its owner dies, however it dies.

Nothing leaves the outbox silently. A message given up on (the receiver
rejected it for good, or it outlived the retention) is first appended to
``dead-letter.jsonl`` in the same directory, one JSON object a line with the
envelope, the reason, the HTTP status if any and the time, fsynced, and only
then removed from the outbox; it is counted (:attr:`Outbox.dead_lettered`)
and logged (``outbox.dropped`` with ``dead_letter``). If the dead letter
cannot be written, the message stays pending. :func:`read_dead_letters`
reads the file back.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError as PydanticValidationError

from pytest_iris.atomic import fsync_directory, write_all, write_atomic
from pytest_iris.errors import TransportError
from pytest_iris.transport.envelope import MessageEnvelope

LOG_NAME: Final = "outbox.log"
LOCK_NAME: Final = "outbox.lock"
DEAD_LETTER_NAME: Final = "dead-letter.jsonl"
#: rewrite the file once it holds this many records and 4x more than are pending
COMPACT_AT: Final = 4096


class Outbox:
    """Undelivered envelopes in a directory, safe against kills and torn writes."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        retention_s: float = 86_400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if retention_s <= 0:
            raise TransportError(f"outbox retention must be > 0 seconds, got {retention_s}")
        self.directory = Path(directory)
        self.path = self.directory / LOG_NAME
        self.dead_letter_path = self.directory / DEAD_LETTER_NAME
        #: messages moved to the dead-letter file by this object
        self.dead_lettered = 0
        self.retention_s = retention_s
        self._clock = clock
        self._lock = threading.RLock()
        self._pending: dict[str, MessageEnvelope] = {}
        self._records = 0
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._log: Any = None

    # -- lifecycle -------------------------------------------------------------

    def open(self) -> Outbox:
        """Take the directory's lock and load what a previous run left."""
        with self._lock:
            if self._fd is not None:
                return self
            from pytest_iris.transport._log import EventLog

            self._log = EventLog("pytest_iris.transport.outbox", outbox=str(self.directory))
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._lock_fd = os.open(
                    self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644
                )
            except OSError as error:
                raise TransportError(
                    f"cannot use outbox directory {str(self.directory)!r}: {error}"
                ) from error
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.pread(self._lock_fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(self._lock_fd)
                self._lock_fd = None
                raise TransportError(
                    f"outbox {str(self.directory)!r} is in use by another transport (pid {owner}); "
                    "give each transport its own outbox_dir"
                ) from None
            os.ftruncate(self._lock_fd, 0)
            os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)
            created = not self.path.exists()
            self._fd = os.open(
                self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
            )
            if created:
                fsync_directory(self.directory)
            self._load()
            return self

    def close(self) -> None:
        """Release the file and the lock; pending messages stay on disk."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._lock_fd is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> Outbox:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries ---------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def peek(self, limit: int) -> list[MessageEnvelope]:
        """The oldest ``limit`` pending envelopes, in the order they were stored."""
        with self._lock:
            return list(itertools.islice(self._pending.values(), limit))

    def pending_ids(self) -> list[str]:
        with self._lock:
            return list(self._pending)

    # -- changes ---------------------------------------------------------------

    def append(self, envelopes: Sequence[MessageEnvelope]) -> None:
        """Store ``envelopes`` durably (written and fsynced) before returning."""
        if not envelopes:
            return
        data = b"".join(_record({"add": e.model_dump(mode="json")}) for e in envelopes)
        with self._lock:
            fd = self._require_open()
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                write_all(fd, data)
                os.fsync(fd)
            except OSError as error:
                # a partial write must not glue the next record onto a torn one
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise TransportError(
                    f"cannot store {len(envelopes)} message(s) in outbox {str(self.path)!r}: {error}"
                ) from error
            for envelope in envelopes:
                self._pending[envelope.id] = envelope
            self._records += len(envelopes)
        self._log.debug("outbox.stored", count=len(envelopes), pending=len(self._pending))

    def remove(self, ids: Iterable[str], why: str = "delivered") -> int:
        """Forget ``ids`` (delivered or dropped); returns how many were pending."""
        with self._lock:
            gone = [i for i in ids if self._pending.pop(i, None) is not None]
            if not gone:
                return 0
            fd = self._require_open()
            if not self._pending:
                os.ftruncate(fd, 0)  # all done: start the file afresh
                os.fsync(fd)
                self._records = 0
            else:
                write_all(fd, _record({"del": gone, "why": why}))
                self._records += 1
                if self._records >= COMPACT_AT and self._records > 4 * len(self._pending):
                    self._compact()
            return len(gone)

    def expire(self) -> list[MessageEnvelope]:
        """Drop pending messages older than the retention, logging each drop."""
        now = self._clock()
        with self._lock:
            old = [e for e in self._pending.values() if now - e.created > self.retention_s]
        for envelope in old:
            self.drop(envelope, "retention", age_s=round(now - envelope.created, 3))
        return old

    def drop(
        self, envelope: MessageEnvelope, reason: str, *, status: int | None = None, **details: Any
    ) -> None:
        """Give up on one message: dead-letter it (with ``reason``/``status``), then forget it.

        The dead letter is fsynced before the message leaves the outbox; if it
        cannot be written the message stays pending and TransportError says why.
        """
        with self._lock:
            if envelope.id not in self._pending:
                return
            letter = {
                "reason": reason,
                "status": status,
                "at": self._clock(),
                "retention_s": self.retention_s,
                **details,
                "envelope": envelope.model_dump(mode="json"),
            }
            line = json.dumps(letter, separators=(",", ":"), default=str).encode() + b"\n"
            try:
                fd = os.open(
                    self.dead_letter_path,
                    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                    0o644,
                )
                try:
                    write_all(fd, line)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as error:
                raise TransportError(
                    f"cannot dead-letter message {envelope.id} in "
                    f"{str(self.dead_letter_path)!r}: {error}; it stays in the outbox"
                ) from error
            self.remove([envelope.id], why=reason)
            self.dead_lettered += 1
        self._log.warning(
            "outbox.dropped",
            message_id=envelope.id,
            reason=reason,
            status=status,
            dead_letter=str(self.dead_letter_path),
            dead_lettered=self.dead_lettered,
            retention_s=self.retention_s,
            header=envelope.message.header,
            trace_id=envelope.trace_id,
            **details,
        )

    dead_letter = drop

    # -- internals -------------------------------------------------------------

    def _require_open(self) -> int:
        if self._fd is None:
            raise TransportError(f"outbox {str(self.directory)!r} is not open")
        return self._fd

    def _load(self) -> None:
        fd = self._require_open()
        size = os.fstat(fd).st_size
        data = os.pread(fd, size, 0) if size else b""
        offset = 0
        while offset < len(data):
            end = data.find(b"\n", offset)
            last = end == -1 or end == len(data) - 1
            record = _parse(data[offset:end]) if end != -1 else None
            if record is None or not self._apply(record):
                if last:
                    self._log.warning(
                        "outbox.torn_record",
                        offset=offset,
                        length=len(data) - offset,
                        detail="a write was interrupted; it was never acknowledged",
                    )
                    os.ftruncate(fd, offset)
                    os.fsync(fd)
                    break
                self._log.error(
                    "outbox.corrupt_record",
                    offset=offset,
                    raw=data[offset : min(end, offset + 120)].decode(errors="replace"),
                )
            self._records += 1
            offset = end + 1
        if self._pending:
            self._log.info("outbox.loaded", pending=len(self._pending))

    def _apply(self, record: dict[str, Any]) -> bool:
        if "add" in record:
            try:
                envelope = MessageEnvelope.model_validate(record["add"])
            except PydanticValidationError:
                return False
            self._pending[envelope.id] = envelope
            return True
        if "del" in record and isinstance(record["del"], list):
            for message_id in record["del"]:
                self._pending.pop(str(message_id), None)
            return True
        return False

    def _compact(self) -> None:
        """Rewrite the file with the pending records only (:func:`~pytest_iris.atomic.write_atomic`).

        Its temporary is named per write and removed if the rewrite is
        interrupted; a kill leaves the old log whole (the next rewrite sweeps the
        dead writer's temporary).
        """
        data = b"".join(_record({"add": e.model_dump(mode="json")}) for e in self._pending.values())
        write_atomic(self.path, data)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        self._records = len(self._pending)


def read_dead_letters(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The dead letters of the outbox in ``directory``, oldest first (``envelope`` parsed).

    A torn last line (a kill while writing) is skipped: its message was still
    pending in the outbox at that moment.
    """
    path = Path(directory) / DEAD_LETTER_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    letters = []
    for line in data.splitlines():
        try:
            letter = json.loads(line)
            letter["envelope"] = MessageEnvelope.model_validate(letter["envelope"])
        except (ValueError, KeyError, TypeError, PydanticValidationError):
            continue
        letters.append(letter)
    return letters


def _record(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _parse(line: bytes) -> dict[str, Any] | None:
    if len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
