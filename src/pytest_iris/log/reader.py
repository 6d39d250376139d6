"""Streaming messages.log parser that never raises on content.

Real logs hold more than stamped lines: banners, recovery blocks, wrapped
text, and sometimes garbage, NUL bytes or a half-written last line. The
reader attaches what belongs to an entry and reports the rest as a
:class:`LogProblem` with its line number, so every byte read ends up in an
entry or a problem. Memory stays constant: files are read in 256 KiB chunks,
and only the entries of the current chunk are held.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, ClassVar, Final, NamedTuple

from pytest_iris._build import StampCache, build_message, build_rows
from pytest_iris.errors import LogReadError
from pytest_iris.log.grammar import (
    HEADER,
    HEADER_LINES,
    MAX_LINE_BYTES,
    OTHER_LINES,
    STAMP_START,
    TRAILING_SEPARATOR,
    continuation_allowed,
)
from pytest_iris.log.model import IRISMessage

#: Bytes read at a time: the entries built from one chunk are all that is held.
_CHUNK: Final = 1 << 18


class LogEntry(NamedTuple):
    """A parsed entry and the 1-based number of its stamped line.

    A named tuple rather than a dataclass: the reader makes one per entry
    and a tuple is the cheapest object Python builds.
    """

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

    __slots__ = (
        "_cont",
        "_groups",
        "_header",
        "_line",
        "_problems",
        "_stamps",
        "_text",
        "lines",
        "out",
    )

    def __init__(self) -> None:
        self.out: list[LogItem] = []
        self.lines = 0
        self._stamps = StampCache()
        self._groups: tuple[str | None, ...] | None = None
        self._header = ""
        self._line = 0
        self._text = ""
        self._cont: list[str] = []
        self._problems: list[LogProblem] = []

    #: How runs of stamped lines are matched; the summary counts with a cheaper regex.
    LINES: ClassVar[re.Pattern[str]] = HEADER_LINES

    def feed_block(self, text: str, number: int) -> int:
        """Feed clean lines joined by ``\\n`` (no final break); returns the next number.

        Runs of stamped one-line entries (most of any log) are matched in one
        ``findall``; only the other lines go through :meth:`feed` one by one.
        """
        # A trailing separator needs " " before a break; most blocks have none.
        spaced = " \n" in text or text.endswith(" ")
        pos = 0
        if not STAMP_START.match(text):
            first_end = text.find("\n")
            first_end = len(text) if first_end < 0 else first_end
            self.feed(number, text[:first_end])
            number += 1
            pos = first_end + 1
        for match in OTHER_LINES.finditer(text, max(pos - 1, 0)):
            start = match.start()  # the break before the line
            if start > pos:
                number = self._run(text, pos, start, number, spaced)
            self.feed(number, text[start + 1 : match.end()])
            number += 1
            pos = match.end() + 1
        if pos <= len(text):
            number = self._run(text, pos, len(text), number, spaced)
        return number

    def _run(self, text: str, start: int, end: int, number: int, spaced: bool) -> int:
        """Stamped lines ``text[start:end]``, all matching the header grammar."""
        rows = self.LINES.findall(text, start, end)
        if len(rows) == text.count("\n", start, end) + 1 and (
            not spaced or TRAILING_SEPARATOR.search(text, start, end) is None
        ):
            self.flush()
            try:
                self.take_rows(rows[:-1], number)
            except ValueError:
                pass  # an impossible date: let the line-by-line path report it
            else:
                last = rows[-1]
                self._groups = self.pending(last)
                self._header = text[text.rfind("\n", start, end) + 1 : end]
                self._line = number + len(rows) - 1
                self._text = last[-1]
                return number + len(rows)
        for line in text[start:end].split("\n"):
            self.feed(number, line)
            number += 1
        return number

    def pending(self, row: tuple[str, ...]) -> tuple[str | None, ...]:
        """The :data:`HEADER` groups of the last row of a run (still open)."""
        return (f"{row[0]}-{row[1]}", row[2], row[3], row[4], row[5] or None, row[6] or None)

    def take_rows(self, rows: list[tuple[str, ...]], number: int) -> None:
        """Output one-line entries from ``LINES`` rows; ``ValueError`` on a bad date."""
        self.out.extend(build_rows(rows, self._stamps, number, LogEntry))

    def feed(self, number: int, line: str, last_unterminated: bool = False) -> None:
        if len(line) > MAX_LINE_BYTES:
            self._problem(_problem(number, f"line longer than {MAX_LINE_BYTES} bytes", line))
            return
        if "\r" in line:
            self._problem(_problem(number, "carriage return inside a line", line))
            return
        match = HEADER.match(line)
        if match is not None:
            self.flush()
            groups = match.groups()
            self._groups = groups
            self._header = line
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
            reason = (
                "unstamped line before the first entry"
                if self._line == 0
                else "unstamped line follows a problem line, so it continues no entry"
            )
            self._problem(_problem(number, reason, line))
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
        # A problem line ends the entry before it: an entry's lines stay contiguous.
        self.flush()
        self.out.append(problem)

    def flush(self) -> None:
        groups = self._groups
        if groups is None:
            return
        self._groups = None
        cont = tuple(self._cont)
        self._cont.clear()
        try:
            self.emit(self._line, groups, cont)
        except ValueError as error:
            # The header matched but names a date that does not exist.
            self.out.append(_problem(self._line, f"invalid timestamp: {error}", self._header))
            self._problems.extend(
                _problem(self._line + offset, "continuation of an entry that was rejected", line)
                for offset, line in enumerate(cont, 1)
            )
        if self._problems:
            ordered: list[LogProblem] = sorted(self._problems, key=_line_of)
            self.out.extend(ordered)
            self._problems.clear()

    def emit(self, line: int, groups: tuple[str | None, ...], cont: tuple[str, ...]) -> None:
        """Output one finished entry; raises ``ValueError`` for an impossible date."""
        self.out.append(LogEntry(line, build_message(groups, cont, self._stamps)))


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


def read_log(
    path: str | os.PathLike[str], *, assembler: _Assembler | None = None
) -> Iterator[LogItem]:
    """Entries and problems of a messages.log file, read in constant memory.

    Raises :class:`~pytest_iris.errors.LogReadError` naming the path when the
    file cannot be opened or read; never raises because of what it contains.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    except OSError as error:
        raise LogReadError(f"cannot read log file {os.fspath(path)!r}: {error.strerror}") from error
    return _read_handle(handle, os.fspath(path), assembler or _Assembler())


def read_stream(handle: IO[bytes], name: str = "<stream>") -> Iterator[LogItem]:
    """Entries and problems from an open binary stream (closed at the end)."""
    return _read_handle(handle, name, _Assembler())


def iter_messages(path: str | os.PathLike[str]) -> Iterator[IRISMessage]:
    """Only the messages of a log file, problems skipped."""
    for item in read_log(path):
        if isinstance(item, LogEntry):
            yield item.message


_TEXT: Final = "text"
_LAST: Final = "last"
_BAD: Final = "bad"
_BLOCK: Final = "block"


def _read_handle(handle: IO[bytes], name: str, assembler: _Assembler) -> Iterator[LogItem]:
    with handle:
        out = assembler.out
        number = 1
        for kind, payload in _raw_lines(handle, name):
            if kind is _BLOCK:
                assert isinstance(payload, str)
                # A block's entries hold no reference cycles: pausing the cyclic
                # collector while thousands are built saves it re-scanning them.
                collecting = gc.isenabled()
                gc.disable()
                try:
                    number = assembler.feed_block(payload, number)
                finally:
                    if collecting:
                        gc.enable()
            else:
                if kind is _BAD:
                    assert isinstance(payload, LogProblem)
                    assembler.bad(LogProblem(number, payload.reason, payload.raw, payload.size))
                else:
                    assert isinstance(payload, str)
                    assembler.feed(number, payload, last_unterminated=kind is _LAST)
                number += 1
            if out:
                yield from out
                out.clear()
        assembler.flush()
        assembler.lines = number - 1
        yield from out


def _raw_lines(handle: IO[bytes], name: str) -> Iterator[tuple[str, str | LogProblem]]:
    """Blocks of clean lines, or single lines and problems where a block is not clean.

    A ``block`` payload is whole lines joined by ``\\n`` without the final
    break; every other payload is one line. Problems carry line number 0;
    the caller numbers them.
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
            yield from _complete_lines(data[:cut])
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
    """Lines of a block of whole lines (final break removed); one block when clean."""
    if b"\x00" not in block:
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if "\r" in text:
                text = text.replace("\r\n", "\n")
                if text.endswith("\r"):
                    text = text[:-1]
            # Over-long lines are not matched as headers; feed() reports them.
            yield _BLOCK, text
            return
    for raw in block.split(b"\n"):
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
