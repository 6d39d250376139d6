"""Streaming messages.log parser that never raises on content.

Real logs hold more than stamped lines: banners, recovery blocks, wrapped
text, and sometimes garbage, NUL bytes or a half-written last line. The
reader attaches what belongs to an entry and reports the rest as a
:class:`LogProblem` with its line number, so every byte read ends up in an
entry or a problem. Memory stays constant: files are read in chunks and only
the entry being assembled is held.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Final

from pytest_iris._build import StampCache, build_message
from pytest_iris.errors import LogReadError
from pytest_iris.grammar import (
    HEADER,
    MAX_LINE_BYTES,
    STAMP_START,
    continuation_allowed,
)
from pytest_iris.models import IRISMessage

_CHUNK: Final = 1 << 20
_PREVIEW: Final = 200


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A parsed entry and the 1-based number of its stamped line."""

    line: int
    message: IRISMessage

    @property
    def end_line(self) -> int:
        """The number of the entry's last line (its last continuation line)."""
        return self.line + len(self.message.continuation)


@dataclass(frozen=True, slots=True)
class LogProblem:
    """A line the parser could not place, kept with the reason why.

    ``raw`` is the line as read, without its line break; for an over-long
    line only the first bytes are kept and ``size`` gives the full length.
    """

    line: int
    reason: str
    raw: bytes
    size: int

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


LogItem = LogEntry | LogProblem


class _Assembler:
    """Turns numbered lines into entries and problems, in file order."""

    __slots__ = ("_cont", "_groups", "_line", "_problems", "_stamps", "_text", "out")

    def __init__(self) -> None:
        self.out: list[LogItem] = []
        self._stamps = StampCache()
        self._groups: tuple[str | None, ...] | None = None
        self._line = 0
        self._text = ""
        self._cont: list[str] = []
        self._problems: list[LogProblem] = []

    def feed(self, number: int, line: str, last_unterminated: bool = False) -> None:
        match = HEADER.match(line)
        if match is not None:
            self.flush()
            groups = match.groups()
            self._groups = groups
            self._line = number
            self._text = groups[5] or ""
            if groups[5] == "":
                self._problems.append(
                    _problem(number, "trailing space after the header is not kept", line)
                )
            return
        if STAMP_START.match(line):
            reason = "malformed header: starts like a timestamp but does not match " + (
                "MM/DD/YY-HH:MM:SS:mmm (PID) SEVERITY [Category] Message"
            )
            if last_unterminated:
                reason = "truncated last line (no line break at end of file); " + reason
            self._problem(_problem(number, reason, line))
            return
        if self._groups is None:
            self._problem(_problem(number, "unstamped line before the first entry", line))
            return
        if continuation_allowed(self._text, line):
            self._cont.append(line)
            return
        self._problem(
            _problem(
                number,
                f"unstamped line is not a continuation of the entry at line {self._line} "
                "(continuations are blank, indented or start with '*')",
                line,
            )
        )

    def bad(self, problem: LogProblem) -> None:
        """Report a line that could not even be decoded or was too long."""
        self._problem(problem)

    def _problem(self, problem: LogProblem) -> None:
        if self._groups is None:
            self.out.append(problem)
        else:
            self._problems.append(problem)

    def flush(self) -> None:
        groups = self._groups
        if groups is None:
            return
        self._groups = None
        cont = tuple(self._cont)
        self._cont.clear()
        try:
            message = build_message(groups, cont, self._stamps)
        except ValueError as error:
            raw_lines = [f"{groups[0]}:{groups[1]}", *cont]
            self.out.append(
                _problem(self._line, f"invalid timestamp: {error}", "\n".join(raw_lines))
            )
        else:
            self.out.append(LogEntry(self._line, message))
        if self._problems:
            self.out.extend(sorted(self._problems, key=_line_of))
            self._problems.clear()


def _line_of(problem: LogProblem) -> int:
    return problem.line


def _problem(number: int, reason: str, line: str | bytes) -> LogProblem:
    raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
    return LogProblem(number, reason, raw[:MAX_LINE_BYTES], len(raw))


def parse_lines(lines: Iterable[str]) -> Iterator[LogItem]:
    """Entries and problems from lines of text (line breaks optional)."""
    assembler = _Assembler()
    out = assembler.out
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if line.endswith("\r"):
            line = line[:-1]
        if "\x00" in line:
            assembler.bad(_problem(number, "NUL byte in line", line))
        elif len(line) > MAX_LINE_BYTES:
            assembler.bad(_problem(number, f"line longer than {MAX_LINE_BYTES} characters", line))
        else:
            assembler.feed(number, line)
        if out:
            yield from out
            out.clear()
    assembler.flush()
    yield from out


def parse_text(text: str) -> Iterator[LogItem]:
    """Entries and problems from a whole log held in a string."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return parse_lines(lines)


def read_log(path: str | os.PathLike[str]) -> Iterator[LogItem]:
    """Entries and problems of a messages.log file, read in constant memory.

    Raises :class:`~pytest_iris.errors.LogReadError` naming the path when the
    file cannot be opened or read; never raises because of what it contains.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    except OSError as error:
        raise LogReadError(f"cannot read log file {os.fspath(path)!r}: {error.strerror}") from error
    return _read_handle(handle, os.fspath(path))


def read_stream(handle: IO[bytes], name: str = "<stream>") -> Iterator[LogItem]:
    """Entries and problems from an open binary stream (closed at the end)."""
    return _read_handle(handle, name)


def iter_messages(path: str | os.PathLike[str]) -> Iterator[IRISMessage]:
    """Only the messages of a log file, problems skipped."""
    for item in read_log(path):
        if isinstance(item, LogEntry):
            yield item.message


def _read_handle(handle: IO[bytes], name: str) -> Iterator[LogItem]:
    with handle:
        assembler = _Assembler()
        out = assembler.out
        number = 0
        for kind, payload in _raw_lines(handle, name):
            number += 1
            if kind is _TEXT:
                assert isinstance(payload, str)
                assembler.feed(number, payload)
            elif kind is _LAST:
                assert isinstance(payload, str)
                assembler.feed(number, payload, last_unterminated=True)
            else:
                assert isinstance(payload, LogProblem)
                assembler.bad(
                    LogProblem(number, payload.reason, payload.raw, payload.size)
                )
            if out:
                yield from out
                out.clear()
        assembler.flush()
        yield from out


_TEXT: Final = "text"
_LAST: Final = "last"
_BAD: Final = "bad"


def _raw_lines(handle: IO[bytes], name: str) -> Iterator[tuple[str, str | LogProblem]]:
    """Each line as text, or as a problem when it cannot be decoded or is too long.

    Problems carry line number 0; the caller numbers them.
    """
    carry = b""
    skipping: LogProblem | None = None
    while True:
        try:
            chunk = handle.read(_CHUNK)
        except OSError as error:
            raise LogReadError(f"cannot read log file {name!r}: {error.strerror}") from error
        if not chunk:
            break
        if skipping is not None:
            cut = chunk.find(b"\n")
            if cut < 0:
                skipping = LogProblem(0, skipping.reason, skipping.raw, skipping.size + len(chunk))
                continue
            yield _BAD, LogProblem(0, skipping.reason, skipping.raw, skipping.size + cut)
            skipping = None
            chunk = chunk[cut + 1 :]
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
        else:
            carry = data[cut + 1 :]
            yield from _complete_lines(data[: cut + 1])
        if len(carry) > MAX_LINE_BYTES:
            skipping = LogProblem(
                0,
                f"line longer than {MAX_LINE_BYTES} bytes",
                carry[:MAX_LINE_BYTES],
                len(carry),
            )
            carry = b""
    if skipping is not None:
        yield _BAD, skipping
    elif carry:
        line = carry[:-1] if carry.endswith(b"\r") else carry
        decoded = _decode_one(line)
        if isinstance(decoded, str):
            yield _LAST, decoded
        else:
            yield _BAD, decoded


def _complete_lines(block: bytes) -> Iterator[tuple[str, str | LogProblem]]:
    """Lines of a block that ends with a line break; fast when all is clean."""
    if b"\x00" not in block:
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            lines = text.split("\n")
            lines.pop()
            for line in lines:
                if len(line) > MAX_LINE_BYTES:
                    yield _BAD, _problem(0, f"line longer than {MAX_LINE_BYTES} bytes", line)
                else:
                    yield _TEXT, line
            return
    raw_lines = block.split(b"\n")
    raw_lines.pop()
    for raw in raw_lines:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        decoded = _decode_one(raw)
        if isinstance(decoded, str) and len(decoded) > MAX_LINE_BYTES:
            yield _BAD, _problem(0, f"line longer than {MAX_LINE_BYTES} bytes", raw)
        elif isinstance(decoded, str):
            yield _TEXT, decoded
        else:
            yield _BAD, decoded


def _decode_one(raw: bytes) -> str | LogProblem:
    if b"\x00" in raw:
        return LogProblem(0, f"NUL byte at column {raw.index(0) + 1}", raw, len(raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return LogProblem(
            0, f"invalid UTF-8 at column {error.start + 1}", raw[:MAX_LINE_BYTES], len(raw)
        )
