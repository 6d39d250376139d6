"""The reader's chunk path (one ``findall`` per chunk) against its line path, item for item.

``read_log`` takes a whole chunk in one regex call when the chunk holds only
ordinary entries and WIJ blocks, and falls back to run-by-run and
line-by-line reading elsewhere. These tests read the same bytes both ways
(the line path: the same reader with every chunk fed line by line) and
require the same entries, blocks and problems - line numbers, reasons,
bytes - with chunk boundaries falling anywhere: inside multi-line entries,
inside WIJ blocks, inside lines longer than a chunk.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_iris import summarize
from pytest_iris.log import reader
from pytest_iris.log.chunks import DATE, split_chunk
from pytest_iris.log.grammar import MAX_LINE_BYTES
from pytest_iris.log.reader import LogBlock, LogEntry, LogItem, LogProblem, _Assembler, read_log
from pytest_iris.log.runs import CHUNK_DATE

REAL = Path(__file__).parent / "data" / "messages_real.log"


class LinePath(_Assembler):
    """The reader with its chunk and run paths off: every line through ``feed``."""

    def feed_block(self, text: str, number: int) -> int:
        for line in text.split("\n"):
            self.feed(number, line)
            number += 1
        return number


def both_ways(path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    with monkeypatch.context() as patch:
        patch.setattr(reader, "_CHUNK", chunk)
        fast = list(read_log(path))
        slow = list(read_log(path, assembler=LinePath()))
    return fast, slow


def exact(items: list[LogItem]) -> list[tuple[object, ...]]:
    """Everything an item holds: an entry's line and text, a block's, a problem's."""
    out: list[tuple[object, ...]] = []
    for item in items:
        if isinstance(item, LogEntry):
            out.append(("entry", item.line, item.format()))
        elif isinstance(item, LogBlock):
            out.append(("block", item.line, item.lines))
        else:
            out.append(("problem", item.line, item.reason, item.raw, item.size))
    return out


def assert_summary_counts(path: Path, items: list[LogItem], chunk: int, monkeypatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(reader, "_CHUNK", chunk)
        summary = summarize(path)
    entries = [item for item in items if isinstance(item, LogEntry)]
    found = [item for item in items if isinstance(item, LogProblem)]
    assert summary.entries == len(entries)
    assert summary.blocks == len([item for item in items if isinstance(item, LogBlock)])
    assert [(p.line, p.reason) for p in summary.problems] == [(p.line, p.reason) for p in found]
    assert summary.by_severity == Counter(int(e.severity) for e in entries)
    assert summary.by_category == Counter(e.category for e in entries)
    data = path.read_bytes()
    assert summary.lines == data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
    if entries:
        assert summary.first == min(e.timestamp for e in entries)
        assert summary.last == max(e.timestamp for e in entries)


STAMPED = "01/15/25-20:21:48:401 (646) 0 [Utility.Event] Merging /home/irisowner/iris-merge.cpf"
#: Line shapes: the real ones, and every near miss the chunk regex must leave to the line path.
SHAPES = [
    STAMPED,
    "01/15/25-20:21:48:402 (646) 2 Caché text, no category",
    "12/31/24-23:59:59:999 (1) 3 [Generic.Event] other year",
    "02/29/24-00:00:00:000 (0) 1 [Generic.Event] leap day",
    "02/29/25-00:00:00:000 (7) 1 [Generic.Event] no leap day",
    "04/31/25-10:00:00:000 (7) 1 [Generic.Event] April 31",
    "05/31/25-10:00:00:000 (7) 1 [Generic.Event] May 31",
    "06/30/25-10:00:00:000 (7) 1 [Generic.Event] June 30",
    "02/30/24-10:00:00:000 (7) 1 [Generic.Event] February 30",
    "00/10/25-10:00:00:000 (7) 1 [Generic.Event] month 0",
    "13/01/25-10:00:00:000 (7) 1 [Generic.Event] month 13",
    "01/15/25-24:00:00:000 (646) 1 [Generic.Event] hour 24",
    "01/15/25-23:60:00:000 (646) 1 [Generic.Event] minute 60",
    "01/15/25-20:21:48:403 (0646) 0 [X] leading zero pid",
    "01/15/25-20:21:48:404 (646) 4 [X] severity 4",
    "01/15/25-20:21:48:405 (646) 1 [Generic.Event]",
    "01/15/25-20:21:48:406 (646) 1 [Generic.Event] ",
    "01/15/25-20:21:48:407 (646) 1 [Generic.Event] text ending in a space ",
    "01/15/25-20:21:48:408 (646) 1 [foo]bar",
    "01/15/25-20:21:48:409 (646) 1 [foo] ",
    "01/15/25-20:21:48:410 (646) 1 []",
    "01/15/25-20:21:48:411 (646) 0",
    "01/15/25-20:21:48:412 (646) 0 ",
    "01/15/25-20:21:48:413 (646) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE",
    "01/15/25-20:21:48:414 (646) 0 JOURNALING SYSTEM MESSAGE",
    "01/15/25-20:21 torn",
    "٠١/١٥/٢٥-20:21:48:415 (646) 0 [X] Arabic-Indic digits",
    "Journaling switched to: /j/1",
    "2023 starts with digits",
    "01/15/25-20:21:48:420 (646)0 no space",
    "Startup of InterSystems IRIS [IRIS for UNIX] 2023.1",
    "   indented",
    "\tTabbed",
    "*** star",
    "",
    "*** Recovery started at Wed Aug 11 06:12:30 2021",
    "*** Recovery",
    "     Current default directory: /usr/irissys/mgr",
    "Exiting with status 3 (Success)",
    "garbage",
    "crlf\r",
    "nul\x00byte",
    "carriage\rreturn inside",
    "x" * (MAX_LINE_BYTES + 10),
    # Whole shapes of several lines, so that the chunk path's units come up often.
    "\n*** Recovery started at Wed Aug 11 06:12:30 2021\n  0 blocks\nExiting with status 3 (Success)",
    "*** Recovery started at A\n*** Recovery started at B\nExiting with status 3 (Success)",
    "01/15/25-20:21:48:417 (646) 0 [Generic.Event]\nStartup of InterSystems IRIS\n  in ../bin/",
    "01/15/25-20:21:48:418 (646) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE\n"
    "Journaling switched to: /j/2\n   indented",
    "01/15/25-20:21:48:416 (646) 0 [X] " + "y" * 70_000,
    # A bracket closed on a later line: no category (the summary's key must not span lines).
    "01/15/25-20:21:48:421 (646) 0 [Open bracket\n   closed] here",
]


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(st.sampled_from(SHAPES), max_size=50),
    weights=st.lists(st.sampled_from([STAMPED, "", "   indented"]), max_size=30),
    chunk=st.sampled_from([64, 100, 257, 1 << 17]),
    final_break=st.booleans(),
)
def test_chunk_path_agrees_with_the_line_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[str],
    weights: list[str],
    chunk: int,
    final_break: bool,
) -> None:
    text = "\n".join(lines + weights + lines) + ("\n" if final_break else "")
    path = tmp_path / "messages.log"
    path.write_bytes(text.encode("utf-8"))
    fast, slow = both_ways(path, chunk, monkeypatch)
    assert exact(fast) == exact(slow)
    assert_summary_counts(path, slow, chunk, monkeypatch)


#: Units of a line and the blank line after it (a third of the real corpus's
#: units), near misses included: an empty text with a trailing separator is a
#: problem on the line path, a text ending in a space is kept.
LINE_AND_BLANK = [
    "01/15/25-20:21:48:409 (646) 1 [foo] \n",
    "01/15/25-20:21:48:409 (646) 1 [foo] text ending in a space \n",
    "01/15/25-20:21:48:409 (646) 0 \n",
    "01/15/25-20:21:48:409 (646) 1 [foo] plain\n",
    "01/15/25-20:21:48:409 (646) 1 [foo]\n",
    "01/15/25-20:21:48:409 (646) 1 [foo] two blank lines\n\n",
    "01/15/25-20:21:48:409 (646) 1 [foo] blank then garbage\n\ngarbage",
    "01/15/25-20:21:48:409 (646) 1 [foo] garbage\ngarbage",
    "01/15/25-20:21:48:409 (646) 1 [foo] garbage, then a blank line\ngarbage\n",
]


@pytest.mark.parametrize("unit", LINE_AND_BLANK)
def test_a_line_and_its_blank_line_read_as_the_line_path_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unit: str
) -> None:
    text = (STAMPED + "\n" + unit + "\n") * 3 + STAMPED + "\n"
    path = tmp_path / "messages.log"
    path.write_bytes(text.encode())
    fast, slow = both_ways(path, 1 << 17, monkeypatch)
    assert exact(fast) == exact(slow)
    assert_summary_counts(path, slow, 1 << 17, monkeypatch)


def real_variants() -> list[bytes]:
    real = REAL.read_bytes()
    return [
        real * 30,
        # Another year, so that spans and days differ between copies.
        real * 10 + real.replace(b"/23-", b"/24-") * 10 + real,
        # A malformed line inside otherwise ordinary chunks.
        real * 10 + b"01/15/25-20:21 torn\n" + real * 10,
        # CRLF line ends, and a NUL in one line.
        real.replace(b"\n", b"\r\n") * 5 + real * 5,
        real * 5 + b"02/01/25-10:00:00:000 (1) 0 [X] nul \x00 here\n" + real * 5,
        # A line longer than a chunk and than the line limit, mid-file.
        real * 5 + b"   " + b"z" * (MAX_LINE_BYTES * 3) + b"\n" + real * 5,
        # No final line break.
        real * 8 + real.rstrip(b"\n"),
    ]


@pytest.mark.parametrize("chunk", [512, 4096, 10_000, 1 << 17])
@pytest.mark.parametrize("variant", range(len(real_variants())))
def test_real_corpus_chunk_boundaries_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, variant: int
) -> None:
    """Chunks of every size cut the real log's banner, journaling entry and WIJ block."""
    data = real_variants()[variant]
    path = tmp_path / "messages.log"
    path.write_bytes(data)
    fast, slow = both_ways(path, chunk, monkeypatch)
    assert exact(fast) == exact(slow)
    assert_summary_counts(path, slow, chunk, monkeypatch)


@pytest.mark.parametrize("chunk", [2048, 1 << 17])
def test_generated_sample_with_rare_multi_line_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Mostly one-line entries, a banner now and then: line numbers built as ranges."""
    sample = (Path(__file__).parents[1] / "log_samples" / "messages.log").read_bytes()
    data = sample[:400_000].rpartition(b"\n")[0] + b"\n" + REAL.read_bytes() + sample[:50_000]
    path = tmp_path / "messages.log"
    path.write_bytes(data)
    fast, slow = both_ways(path, chunk, monkeypatch)
    assert exact(fast) == exact(slow)
    assert any(isinstance(i, LogEntry) and i.continuation for i in fast)
    assert_summary_counts(path, slow, chunk, monkeypatch)


@pytest.mark.parametrize("days", [2, 3, 4, 9])
@pytest.mark.parametrize("chunk", [4096, 1 << 17])
def test_time_span_of_chunks_holding_days_of_several_years(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, days: int, chunk: int
) -> None:
    """The span counts years first, whichever way a chunk's days are found: by
    comparing units (a few days) or by visiting the earliest and latest days'
    lines (more); here those days hold many entries, out of order, and a
    month/day that sorts first belongs to a later year."""
    dates = ["12/31/19", "01/01/25", "06/15/21", "01/01/20", "12/30/24", "02/29/24"]
    dates += ["07/04/22", "03/03/23", "11/11/21"]
    lines = []
    for index in range(3000):
        date = dates[(index * 7) % days]
        stamp = f"{date}-{(index * 13) % 24:02d}:{index % 60:02d}:{(index * 7) % 60:02d}:{index % 1000:03d}"
        lines.append(f"{stamp} ({100 + index % 9}) {index % 4} [Utility.Event] entry {index}")
        if index % 5 == 0:
            lines.append("")  # a blank continuation line: units of two lines
    path = tmp_path / "messages.log"
    path.write_text("\n".join(lines) + "\n")
    fast, slow = both_ways(path, chunk, monkeypatch)
    assert exact(fast) == exact(slow)
    assert_summary_counts(path, slow, chunk, monkeypatch)


def test_block_holding_a_second_recovery_line_is_one_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``*** Recovery started at`` line inside a block is the block's (the line path's rule)."""
    block = (
        "\n*** Recovery started at Wed Aug 11 06:12:30 2021\n"
        "*** Recovery started at Wed Aug 11 06:12:31 2021\n"
        "Exiting with status 3 (Success)\n"
    )
    data = ((STAMPED + "\n") * 3 + block + (STAMPED + "\n") * 3).encode() * 4
    path = tmp_path / "messages.log"
    path.write_bytes(data)
    fast, slow = both_ways(path, 1 << 17, monkeypatch)
    assert exact(fast) == exact(slow)
    assert [item.line for item in fast if isinstance(item, LogBlock)] == [4, 14, 24, 34]
    assert_summary_counts(path, slow, 1 << 17, monkeypatch)


def test_long_continuations_at_a_chunk_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines kept back for the next chunk stop at 64 KiB: long continuation lines in a row."""
    wrapped = STAMPED + "\n" + "\n".join(f"   wrap {n} " + "w" * 20_000 for n in range(12))
    data = ((STAMPED + "\n") * 50 + wrapped + "\n").encode() * 6
    path = tmp_path / "messages.log"
    path.write_bytes(data)
    fast, slow = both_ways(path, 1 << 17, monkeypatch)
    assert exact(fast) == exact(slow)
    assert not [item for item in fast if isinstance(item, LogProblem)]
    assert_summary_counts(path, slow, 1 << 17, monkeypatch)


def test_chunk_boundary_inside_an_entry_and_inside_a_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = REAL.read_text()
    start = real.index("*** Recovery started at")
    banner = real.index("Startup of InterSystems IRIS")
    data = (real * 3).encode()
    path = tmp_path / "messages.log"
    path.write_bytes(data)
    # Every chunk size that ends a chunk inside the banner's lines or the block's.
    for chunk in (banner + 5, banner + 200, start + 10, start + 300, len(real) + start + 40):
        fast, slow = both_ways(path, chunk, monkeypatch)
        assert exact(fast) == exact(slow), chunk
        blocks = [item for item in fast if isinstance(item, LogBlock)]
        assert [(b.line, b.end_line) for b in blocks] == [(111, 122), (249, 260), (387, 398)]


def test_the_chunk_path_is_taken_for_ordinary_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real corpus (banner, journaling message, WIJ block) never falls to the run path."""
    calls = Counter[bool]()
    original = _Assembler.take_chunk

    def counting(self: _Assembler, text: str, number: int) -> int | None:
        following = original(self, text, number)
        calls[following is not None] += 1
        return following

    monkeypatch.setattr(_Assembler, "take_chunk", counting)
    monkeypatch.setattr(reader, "_CHUNK", 4096)
    items = list(read_log(REAL))
    assert calls[True] >= 3 and calls[False] == 0
    assert not [item for item in items if isinstance(item, LogProblem)]


def test_split_path_is_taken_for_ordinary_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real corpus and the generated sample are cut by ``split_chunk`` (not CHUNK_UNITS)."""
    results = Counter[bool]()
    original = split_chunk

    def counting(text: str) -> tuple[list[str], list[int]] | None:
        split = original(text)
        results[split is not None] += 1
        return split

    monkeypatch.setattr(reader, "split_chunk", counting)
    sample = Path(__file__).parents[1] / "log_samples" / "messages.log"
    for path in (REAL, sample):
        items = list(read_log(path))
        assert not [item for item in items if isinstance(item, LogProblem)]
    assert results[True] >= 3 and results[False] == 0


@pytest.mark.parametrize(
    "pattern",
    [re.compile(CHUNK_DATE + r"\Z"), re.compile(DATE + r"\Z")],
    ids=["CHUNK_DATE", "split_chunk"],
)
def test_chunk_dates_are_the_calendar(pattern: re.Pattern[str]) -> None:
    """The chunk regexes accept exactly the MM/DD/YY dates datetime(2000 + YY, MM, DD) accepts."""
    for month in range(100):
        for day in range(100):
            for year in range(100):
                try:
                    datetime(2000 + year, month, day)
                except ValueError:
                    valid = False
                else:
                    valid = True
                text = f"{month:02d}/{day:02d}/{year:02d}"
                assert bool(pattern.match(text)) == valid, text
