"""Streaming messages.log reader that never raises on content.

Real logs hold more than stamped lines: banners, wrapped text, the
unindented second line of the journaling message, the WIJ recovery
program's unstamped block, and sometimes garbage, NUL bytes or a
half-written last line. The reader yields every byte read as exactly one
item, in file order: a :class:`LogEntry`, a :class:`LogBlock` or a
:class:`LogProblem` (with its line number). Memory stays constant: files
are read in 128 KiB chunks, and only the texts of the current chunk are
held.

Entries are typed but lazy: a :class:`LogEntry` holds its line number and
its text, and reads ``timestamp``, ``pid``, ``severity``... from the text
when asked; the pydantic :class:`~pytest_iris.log.model.IRISMessage` is
built only when ``entry.message`` is read. A chunk of ordinary entries and
WIJ blocks (all of a real log) is checked and cut into entries by one
``findall`` (:data:`~pytest_iris.log.runs.CHUNK_UNITS`), its entries made
in C as the caller iterates, which is what keeps the reader close to a
bare regex loop (``bench/parse.py``); any other chunk goes run by run and
line by line, with the same result.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from itertools import accumulate, chain, compress, count, repeat
from operator import add, contains, gt, itemgetter
from typing import IO, TYPE_CHECKING, Any, ClassVar, Final

from pytest_iris.errors import LogReadError
from pytest_iris.log.chunks import split_chunk
from pytest_iris.log.grammar import (
    BLOCK_END,
    BLOCK_START,
    HEADER,
    MAX_LINE_BYTES,
    NEXT_STAMP,
    STAMP_START,
    continuation_allowed,
    header_fault,
)
from pytest_iris.log.runs import (
    CHUNK_START,
    CHUNK_UNITS,
    ENTRY_BREAK,
    ONE_LINE,
    RUN,
    WIJ_BLOCK,
)
from pytest_iris.log.severity import Severity
from pytest_iris.log.stamps import StampCache

if TYPE_CHECKING:
    from pytest_iris.log.model import IRISMessage

#: Bytes read at a time: the items built from one chunk are all that is held.
_CHUNK: Final = 1 << 17
_STAMPS: Final = StampCache()
_SEVERITIES: Final = {str(int(s)): s for s in Severity}


@lru_cache(maxsize=1024)
def _groups(header: str) -> tuple[str | None, ...]:
    """:data:`HEADER` groups of a header the reader already accepted."""
    match = HEADER.match(header)
    assert match is not None, header
    return match.groups()


class LogEntry(tuple[Any, ...]):
    """One entry: ``(line, text)``, its text being its lines joined by ``\\n``.

    A tuple built in C by the reader (no Python code runs per entry); the
    fields are read from the text when asked, and ``message`` builds the
    validated pydantic model. ``LogEntry(line, message)`` makes one from a
    model.
    """

    __slots__ = ()
    kind: ClassVar[str] = "entry"

    def __new__(cls, line: int, message: IRISMessage) -> LogEntry:
        raw = message.header
        if message.continuation:
            raw = "\n".join((raw, *message.continuation))
        return tuple.__new__(cls, (line, raw))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_entry, (tuple(self),))

    def __repr__(self) -> str:
        return (
            f"LogEntry(line={self[0]}, header={self.header!r}, continuation={self.continuation!r})"
        )

    @property
    def line(self) -> int:
        """The 1-based number of the entry's stamped line."""
        line: int = self[0]
        return line

    @property
    def header(self) -> str:
        """The stamped first line, as read."""
        raw: str = self[1]
        return raw.partition("\n")[0]

    @property
    def continuation(self) -> tuple[str, ...]:
        """The unstamped lines that belong to the entry."""
        raw: str = self[1]
        if "\n" in raw:
            return tuple(raw.split("\n")[1:])
        return ()

    @property
    def end_line(self) -> int:
        """The number of the entry's last line (its last continuation line)."""
        raw: str = self[1]
        return self.line + raw.count("\n")

    @property
    def timestamp(self) -> datetime:
        date, time, millis = _groups(self.header)[:3]
        assert date is not None and time is not None and millis is not None
        return _STAMPS.at(date, time, millis)

    @property
    def pid(self) -> int:
        return int(_groups(self.header)[3] or 0)

    @property
    def severity(self) -> Severity:
        return _SEVERITIES[_groups(self.header)[4] or "0"]

    @property
    def category(self) -> str | None:
        return _groups(self.header)[5]

    @property
    def text(self) -> str:
        return _groups(self.header)[6] or ""

    @property
    def message(self) -> IRISMessage:
        """The validated model (built now, not kept)."""
        from pytest_iris._build import build_message

        return build_message(_groups(self.header), self.continuation, _STAMPS)

    def format(self) -> str:
        """The entry as read: its lines joined by ``\\n``."""
        raw: str = self[1]
        return raw


def _unit_starts(
    units: list[str], breaks: list[int], number: int
) -> tuple[Sequence[int], list[int]]:
    """The first line number of each unit (each one's lines joined, the first
    at ``number``), and the indexes of the units that are WIJ blocks.

    ``"\\n" in unit`` finds the units with line breaks three times faster than
    ``unit.count`` counts them (``count`` parses its arguments); only those
    may be blocks (which start with ``\\n`` or ``*``, before any digit), and
    only those whose lines after the first hold a break too are counted (most
    are an entry and the blank line after it). In C but for those few.
    """
    if not any(breaks):
        return range(number, number + len(units)), []
    multi = list(compress(range(len(units)), breaks))
    spread = list(compress(units, breaks))
    rests = list(map(_REST, map(str.partition, spread, repeat("\n"))))
    # Such a True becomes its count (more than 1: still true for the compress readers).
    for index in compress(range(len(rests)), map(contains, rests, repeat("\n"))):
        breaks[multi[index]] = rests[index].count("\n") + 1
    blocks = list(compress(multi, map(gt, repeat("0"), spread)))
    return list(accumulate(map(add, breaks, repeat(1)), initial=number)), blocks


#: What follows a unit's first line (``str.partition``'s third part).
_REST: Final = itemgetter(2)


def _entry(fields: tuple[Any, ...]) -> LogEntry:
    return tuple.__new__(LogEntry, fields)


#: ``(line, text)`` pairs to entries, in C.
_MAKE: Final = partial(tuple.__new__, LogEntry)
#: ``_NEW(LogEntry, (line, text))``: the same without the partial's call.
_NEW: Final = tuple.__new__


@dataclass(frozen=True, slots=True)
class LogBlock:
    """Output another program wrote into messages.log without a stamp.

    The WIJ recovery program writes a blank line, ``*** Recovery started at
    <ctime>``, its report, and ``Exiting with status N (...)`` before the
    instance starts (tests/data/messages_real.log lines 111-122). It belongs
    to no entry.
    """

    line: int
    lines: tuple[str, ...]
    kind: str = "wij-recovery"

    @property
    def end_line(self) -> int:
        return self.line + len(self.lines) - 1

    def format(self) -> str:
        """The block as read: its lines joined by ``\\n``."""
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class LogProblem:
    """A line the reader could not place, kept with the reason why.

    ``raw`` is the line as read, without its line break; for an over-long
    line only the first bytes are kept and ``size`` gives the full length.
    """

    line: int
    reason: str
    raw: bytes
    size: int
    kind: ClassVar[str] = "problem"

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


LogItem = LogEntry | LogBlock | LogProblem

_DAY: Final = itemgetter(slice(0, 8))


class _Assembler:
    """Turns numbered lines into entries, blocks and problems, in file order."""

    __slots__ = (
        "_bad",
        "_block",
        "_block_line",
        "_cont",
        "_header",
        "_held",
        "_line",
        "_problems",
        "_stamps",
        "_text",
        "lines",
        "out",
        "pieces",
    )

    def __init__(self) -> None:
        self.out: list[LogItem] = []
        #: What a chunk produced, in order: lists and lazy iterables of items.
        self.pieces: list[Iterable[LogItem]] = []
        self.lines = 0
        self._stamps = _STAMPS
        self._header: str | None = None
        self._line = 0
        self._text: str | None = ""
        self._bad: str | None = None
        self._cont: list[str] = []
        self._problems: list[LogProblem] = []
        self._block: list[str] | None = None
        self._block_line = 0
        #: A blank line with no entry open: a problem unless a block starts next.
        self._held: int | None = None

    def feed_block(self, text: str, number: int) -> int:
        """Feed clean lines joined by ``\\n`` (no final break); returns the next number.

        From the first stamped line on, the whole chunk is tried in one
        :data:`CHUNK_UNITS` call (:meth:`take_chunk`); the lines before it,
        and a chunk that is not all ordinary entries and blocks, go through
        :meth:`feed_runs`.
        """
        if "\r" in text:
            return self.feed_runs(text, number)
        if CHUNK_START.match(text) is None:
            found = NEXT_STAMP.search(text)
            if found is None:
                return self.feed_runs(text, number)
            number = self.feed_runs(text[: found.start()], number)
            text = text[found.start() + 1 :]
        following = self.take_chunk(text, number)
        return self.feed_runs(text, number) if following is None else following

    def take_chunk(self, text: str, number: int) -> int | None:
        """Output a chunk's entries and blocks if it holds nothing else; the last unit stays open.

        Returns the next line number, or None (nothing done) when the chunk
        holds anything else. ``text`` starts with a stamped line, so whatever
        is open ends here (as the line path ends it at a stamped line). The
        entries are made lazily, as the caller iterates: no Python code runs
        per entry here.
        """
        split = split_chunk(text)
        if split is None:
            units: list[str] = CHUNK_UNITS.findall(text)
            if sum(map(len, units)) + len(units) - 1 != len(text):
                return None
            breaks: list[int] = list(map(contains, units, repeat("\n")))
        else:
            units, breaks = split
        self.flush()
        last = len(units) - 1
        starts, blocks = _unit_starts(units, breaks, number)
        done = 0
        for index in blocks:
            if index == last:
                break
            if done < index:
                self.emit_units(starts[done:index], units[done:index])
            self._emit_block_unit(starts[index], units[index])
            done = index + 1
        if done < last:
            self.emit_units(starts[done:last], units[done:last])
        unit = units[last]
        if unit[0] in "\n*":  # a block, complete: the line path has flushed it too
            self._emit_block_unit(starts[last], unit)
        else:
            self._open_unit(starts[last], unit)
        return starts[last] + 1 + unit.count("\n")

    def _emit_block_unit(self, line: int, unit: str) -> None:
        self.emit_block(LogBlock(line, tuple(unit.split("\n"))))
        self._line = line  # as flush() leaves it after a block

    def emit_units(self, starts: Iterable[int], units: list[str]) -> None:
        """Output entries (``units``: each one's lines joined), made as they are iterated."""
        if self.out:
            self.pieces.append(self.out)
            self.out = []
        self.pieces.append(map(_NEW, repeat(LogEntry), zip(starts, units, strict=False)))

    def feed_runs(self, text: str, number: int) -> int:
        """Feed lines run by run: :data:`RUN` where it matches, the line path elsewhere."""
        if "\r" in text:
            for line in text.split("\n"):
                self.feed(number, line)
                number += 1
            return number
        end = len(text)
        pos = 0
        run = RUN.match
        while pos <= end:
            match = run(text, pos) if self._block is None else None
            if match is not None:
                stop = match.end()
                number = self._run(text[pos:stop], number, match.groups() == ONE_LINE)
            elif STAMP_START.match(text, pos):
                stop = text.find("\n", pos)
                stop = end if stop < 0 else stop
                self.feed(number, text[pos:stop])
                number += 1
            elif (block := self._wij_block(text, pos, number)) is not None:
                pos, number = block
                continue
            else:
                found = NEXT_STAMP.search(text, pos)
                stop = end if found is None else found.start()
                number = self.feed_unstamped(text[pos:stop].split("\n"), number)
            pos = stop + 1
        return number

    def _wij_block(self, text: str, pos: int, number: int) -> tuple[int, int] | None:
        """A whole WIJ recovery block at ``pos`` (perhaps after its blank line), in one step.

        Returns the next position and line number, or None to leave the lines
        to the line path (which also handles a block it meets line by line).
        """
        blank = text.startswith("\n", pos)
        at = pos + 1 if blank else pos
        if not text.startswith(BLOCK_START, at):
            return None
        match = WIJ_BLOCK.match(text, at)
        if match is None:
            return None
        if blank:  # the entry's last continuation line, until the block claims it
            self.feed(number, "")
            number += 1
        if self._held is not None or self._block is not None:
            return (at, number) if blank else None  # the line path takes it from ``at``
        lines = match.group().split("\n")
        self._start_block(number, lines[0])
        assert self._block is not None
        self._block.extend(lines[1:])
        self.flush()
        return match.end() + 1, number + len(lines)

    def _run(self, text: str, number: int, one_line: bool) -> int:
        """Entries :data:`RUN` matched (no line too long), unless a date does not exist.

        ``one_line``: the run has no continuation line, so each line is an entry.
        """
        if one_line:
            units = text.split("\n")
            lines = len(units)
        else:
            lines = text.count("\n") + 1
            units = ENTRY_BREAK.split(text)
        if not self.take_run(text, units, number, lines):
            for line in text.split("\n"):
                self.feed(number, line)
                number += 1
            return number
        return number + lines

    def feed_unstamped(self, lines: list[str], number: int) -> int:
        """Unstamped lines; continuation lines of the open entry in one step."""
        header = self._header
        if header is not None and self._block is None and self._bad is None:
            text = self._text
            if text is None:
                text = self._text = _groups(header)[6] or ""
            cont = self._cont
            first = len(cont)
            if all(
                continuation_allowed(text, line, index)
                and not STAMP_START.match(line)
                and len(line) <= MAX_LINE_BYTES
                and "\r" not in line
                for index, line in enumerate(lines, first)
            ):
                cont.extend(lines)
                return number + len(lines)
        for line in lines:
            self.feed(number, line)
            number += 1
        return number

    def _dates_exist(self, lines: list[str], text: str) -> bool:
        return self._days(lines, text) is not None

    def _days(self, lines: list[str], text: str) -> set[str] | None:
        """The ``MM/DD/YY`` dates of a run's entries, or None if one does not exist.

        ``lines`` are the run's entries (or their stamps), ``text`` the run.
        """
        first = lines[0][:8]
        # One day (the common case), counted in C: "\n" + date only starts a line.
        days = {first} if text.count(f"\n{first}-") == len(lines) - 1 else set(map(_DAY, lines))
        try:
            for day in days:  # a run spans few dates
                self._stamps.date(day)
        except ValueError:
            return None
        return days

    def take_run(self, text: str, units: list[str], number: int, lines: int) -> bool:
        """Output the entries of a run (``units``: each entry's lines joined); the last stays open.

        ``number`` is the run's first line number and ``lines`` its line count.
        """
        if not self._dates_exist(units, text):
            return False
        self.flush()
        last = len(units) - 1
        if last:
            head = units[:last]
            starts: Iterator[int] = (
                count(number)
                if lines == len(units)
                else accumulate(
                    map(add, map(str.count, head, repeat("\n")), repeat(1)), initial=number
                )
            )
            self.out.extend(map(_MAKE, zip(starts, head, strict=False)))
        self._open_unit(number + lines - 1 - units[last].count("\n"), units[last])
        return True

    def _open_unit(self, number: int, unit: str) -> None:
        """Keep a run's last entry open: unstamped lines after the run may continue it."""
        if "\n" in unit:
            header, *cont = unit.split("\n")
            self._open(number, header, None)
            self._cont.extend(cont)
        else:
            self._open(number, unit, None)

    def _open(self, number: int, header: str, text: str | None) -> None:
        self._header = header
        self._line = number
        self._text = text
        self._bad = None

    def feed(self, number: int, line: str, last_unterminated: bool = False) -> None:
        if len(line) > MAX_LINE_BYTES:
            self._problem(_problem(number, f"line longer than {MAX_LINE_BYTES} bytes", line))
            return
        if "\r" in line:
            self._problem(_problem(number, "carriage return inside a line", line))
            return
        held = self._held
        if held is not None:
            self._held = None
            if line.startswith(BLOCK_START):
                self._block = ["", line]
                self._block_line = held
                return
            self._problem(_problem(held, self._orphan_reason(), ""))
        block = self._block
        if block is not None and not STAMP_START.match(line):
            block.append(line)
            if line.startswith(BLOCK_END):
                self.flush()
            return
        if line.startswith(BLOCK_START):
            self._start_block(number, line)
            return
        match = HEADER.match(line)
        if match is not None:
            self.flush()
            groups = match.groups()
            # A trailing separator is not kept (reported below): the entry is its model.
            self._open(number, line if groups[6] != "" else line[:-1], groups[6] or "")
            try:
                self._stamps.at(groups[0] or "", groups[1] or "", groups[2] or "")
            except (ValueError, KeyError) as error:
                self._bad = str(error)
            if groups[6] == "":
                self._problems.append(
                    _problem(number, "trailing space after the header is not kept", line)
                )
            return
        if STAMP_START.match(line):
            reason = header_fault(line)
            if last_unterminated:
                reason = "truncated last line (no line break at end of file); " + reason
            self._problem(_problem(number, reason, line))
            return
        if self._header is None:
            if not line:  # perhaps the blank line that opens a WIJ recovery block
                self._held = number
                return
            self._problem(_problem(number, self._orphan_reason(), line))
            return
        text = self._text
        if text is None:
            text = self._text = _groups(self._header)[6] or ""
        if continuation_allowed(text, line, len(self._cont)):
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

    def _orphan_reason(self) -> str:
        if self._line == 0:
            return "unstamped line before the first entry"
        return "unstamped line follows a problem or a block, so it continues no entry"

    def _start_block(self, number: int, line: str) -> None:
        lines = [line]
        start = number
        if self._header is not None and self._cont and self._cont[-1] == "":
            # The blank line before the block is the recovery program's, not the entry's.
            self._cont.pop()
            lines.insert(0, "")
            start -= 1
        self.flush()
        self._block = lines
        self._block_line = start

    def bad(self, problem: LogProblem) -> None:
        """Report a line that could not even be decoded or was too long."""
        self._problem(problem)

    def _problem(self, problem: LogProblem) -> None:
        # A problem line ends the item before it: an item's lines stay contiguous.
        self.flush()
        self.out.append(problem)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self.out.append(_problem(held, self._orphan_reason(), ""))
        block = self._block
        if block is not None:
            self._block = None
            self._line = self._block_line
            self.emit_block(LogBlock(self._block_line, tuple(block)))
        header = self._header
        if header is not None:
            self._header = None
            cont = tuple(self._cont)
            self._cont.clear()
            if self._bad is None:
                self.emit(self._line, header, cont)
            else:
                # The header matched but names a date or time that does not exist.
                self.out.append(_problem(self._line, f"invalid timestamp: {self._bad}", header))
                self._problems.extend(
                    _problem(self._line + offset, "continuation of an entry that was rejected", c)
                    for offset, c in enumerate(cont, 1)
                )
        if self._problems:
            ordered: list[LogProblem] = sorted(self._problems, key=_line_of)
            self.out.extend(ordered)
            self._problems.clear()

    def emit(self, line: int, header: str, cont: tuple[str, ...]) -> None:
        """Output one finished entry."""
        self.out.append(
            tuple.__new__(LogEntry, (line, "\n".join((header, *cont)) if cont else header))
        )

    def emit_block(self, block: LogBlock) -> None:
        self.out.append(block)


def _line_of(problem: LogProblem) -> int:
    return problem.line


def _problem(number: int, reason: str, line: str | bytes) -> LogProblem:
    raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
    return LogProblem(number, reason, raw[:MAX_LINE_BYTES], len(raw))


def parse_lines(lines: Iterable[str]) -> Iterator[LogItem]:
    """Entries, blocks and problems from lines of text (line breaks optional)."""
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
    """Entries, blocks and problems from a whole log held in a string."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return parse_lines(lines)


def read_log(
    path: str | os.PathLike[str], *, assembler: _Assembler | None = None
) -> Iterator[LogItem]:
    """Entries, blocks and problems of a messages.log file, read in constant memory.

    Raises :class:`~pytest_iris.errors.LogReadError` naming the path when the
    file cannot be opened or read; never raises because of what it contains.
    """
    try:
        # Unbuffered: reads are whole chunks, a buffer would only copy them.
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the generator below
    except OSError as error:
        raise LogReadError(f"cannot read log file {os.fspath(path)!r}: {error.strerror}") from error
    return _read_handle(handle, os.fspath(path), assembler or _Assembler())


def iter_messages(path: str | os.PathLike[str]) -> Iterator[IRISMessage]:
    """Only the messages of a log file (models), blocks and problems skipped."""
    for item in read_log(path):
        if isinstance(item, LogEntry):
            yield item.message


_TEXT: Final = "text"
_LAST: Final = "last"
_BAD: Final = "bad"
_BLOCK: Final = "block"
#: A stamped line's start, in ASCII digits (see :func:`_entry_cut`).
_STAMP_BYTES: Final = re.compile(rb"[0-9][0-9]/[0-9][0-9]/[0-9][0-9]-")


def _read_handle(handle: IO[bytes], name: str, assembler: _Assembler) -> Iterator[LogItem]:
    # The items come in one list per chunk, flattened in C: no generator
    # step per item.
    return chain.from_iterable(_read_lists(handle, name, assembler))


def _read_lists(handle: IO[bytes], name: str, assembler: _Assembler) -> Iterator[Iterable[LogItem]]:
    with handle:
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
            pieces = assembler.pieces
            if assembler.out:
                pieces.append(assembler.out)
                assembler.out = []
            if pieces:
                yield from pieces
                pieces.clear()
        assembler.flush()
        assembler.lines = number - 1
        yield assembler.out


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
        last = data.rfind(b"\n")
        cut = last
        if last < 0:
            carry = data
        else:
            # A short read is the end of a file: nothing to keep back for.
            if len(chunk) == _CHUNK and len(data) - last <= MAX_LINE_BYTES:
                cut = _entry_cut(data, last)
            carry = data[cut + 1 :]
            yield from _complete_lines(data[:cut])
        if cut == last and len(carry) > MAX_LINE_BYTES:
            skipping = LogProblem(
                0,
                f"line longer than {MAX_LINE_BYTES} bytes",
                carry[:MAX_LINE_BYTES],
                len(carry),
            )
            carry = b""
    if skipping is not None:
        yield _BAD, skipping
        return
    last = carry.rfind(b"\n")
    if last >= 0:  # whole lines kept back to end a chunk before a stamped line
        yield from _complete_lines(carry[:last])
        carry = carry[last + 1 :]
    if carry:
        line = carry[:-1] if carry.endswith(b"\r") else carry
        decoded = _decode_one(line)
        if isinstance(decoded, str):
            yield _LAST, decoded
        else:
            yield _BAD, decoded


def _entry_cut(data: bytes, last: int) -> int:
    """Where to end a chunk: the last line break before a stamped line, else ``last``.

    A chunk that ends before a stamped line ends with whole entries and WIJ
    blocks, so that :meth:`_Assembler.take_chunk` can take it whole; a few
    lines are kept back for the next chunk (at most 64 of them and 64 KiB,
    so that memory stays bounded).
    """
    at = last
    for _ in range(64):
        if _STAMP_BYTES.match(data, at + 1):
            return at
        at = data.rfind(b"\n", max(0, last - MAX_LINE_BYTES), at)
        if at < 0:
            break
    return last


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
