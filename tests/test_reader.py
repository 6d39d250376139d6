"""The streaming file parser: never raises on content, loses no byte."""

from __future__ import annotations

import os
import random
import re
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iris import LogEntry, LogProblem, parse_lines, read_log
from pytest_iris.errors import LogReadError
from pytest_iris.log.grammar import MAX_LINE_BYTES
from pytest_iris.log.reader import LogBlock, LogItem

GOOD = b"01/15/25-20:21:48:401 (646) 0 [Utility.Event] Merging /home/irisowner/iris-merge.cpf\n"


def parse_bytes(tmp_path: Path, data: bytes) -> list[LogItem]:
    path = tmp_path / "messages.log"
    path.write_bytes(data)
    return list(read_log(path))


def assert_accounted(data: bytes, items: list[LogItem]) -> None:
    """Every input line is in exactly one entry, block or problem, with its bytes."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    seen: dict[int, bytes] = {}
    for item in items:
        if isinstance(item, LogEntry | LogBlock):
            text = (item.message.format() if isinstance(item, LogEntry) else item.format()).encode()
            assert text == item.format().encode()
            for offset, part in enumerate(text.split(b"\n")):
                assert item.line + offset not in seen
                seen[item.line + offset] = part
        else:
            assert item.line not in seen or item.reason.startswith("trailing space")
            if item.line not in seen:
                seen[item.line] = item.raw if item.size == len(item.raw) else lines[item.line - 1]
            assert item.size == len(lines[item.line - 1])
    assert sorted(seen) == list(range(1, len(lines) + 1))
    for number, raw in seen.items():
        original = lines[number - 1]
        assert raw == original or raw + b" " == original, (number, raw, original)


def problems(items: list[LogItem]) -> list[LogProblem]:
    return [item for item in items if isinstance(item, LogProblem)]


def test_real_log_has_no_problems(real_log: Path) -> None:
    items = list(read_log(real_log))
    assert problems(items) == []
    assert_accounted(real_log.read_bytes(), items)
    entries = [item for item in items if isinstance(item, LogEntry)]
    banner = next(e for e in entries if e.message.text == "")
    assert (banner.line, banner.end_line) == (9, 18)
    # The journaling system message keeps its unindented second line (real lines 103-104).
    journal = next(e for e in entries if e.text.endswith("JOURNALING SYSTEM MESSAGE"))
    assert journal.continuation == ("Journaling switched to: /iris/journal1/20210811.003",)
    # The WIJ recovery block (real lines 111-122) is an item of its own, blank line included.
    (block,) = [item for item in items if isinstance(item, LogBlock)]
    assert (block.kind, block.line, block.end_line) == ("wij-recovery", 111, 122)
    assert block.lines[:2] == ("", "*** Recovery started at Wed Aug 11 06:12:30 2021")
    assert block.lines[-1] == "Exiting with status 3 (Success)"
    before = items[items.index(block) - 1]
    assert isinstance(before, LogEntry) and before.continuation == ()
    assert before.text == "Backup.General.ExternalFreeze: System suspended"


def test_every_real_file_reads_without_problems_and_round_trips(real_log: Path) -> None:
    """Every log-shaped file in tests/data (copied from shared/iris) reads exactly."""
    data_dir = real_log.parent
    files = sorted(data_dir.glob("*.log"))
    assert real_log in files
    for path in files:
        items = list(read_log(path))
        assert problems(items) == [], path
        rebuilt = "\n".join(item.format() for item in items if not isinstance(item, LogProblem))
        assert (rebuilt + "\n").encode() == path.read_bytes(), path


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # A block at the very start of a file, before any entry.
        ("*** Recovery started at Wed Aug 11 06:12:30 2021\nExiting with status 3 (Success)\n"
         + GOOD.decode(), ["wij-recovery", "entry"]),
        # The block's blank first line at the very start of a file is the block's.
        ("\n*** Recovery started at Wed Aug 11 06:12:30 2021\nExiting with status 3 (Success)\n"
         + GOOD.decode(), ["wij-recovery", "entry"]),
        # A blank line before the first entry that opens no block is a problem.
        ("\n" + GOOD.decode(), ["problem", "entry"]),
        # A block cut short by the next stamped line is still a block.
        (GOOD.decode() + "\n*** Recovery started at Wed Aug 11 06:12:30 2021\n  0 blocks\n"
         + GOOD.decode(), ["entry", "wij-recovery", "entry"]),
        # After the block ends, an unindented line continues nothing.
        (GOOD.decode() + "*** Recovery started at X\nExiting with status 3 (Success)\nstray\n",
         ["entry", "wij-recovery", "problem"]),
        # Only the journaling message takes an unindented second line, and only one.
        ("08/11/21-05:49:43:342 (18374) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM "
         "MESSAGE\nJournaling switched to: /j/1\nJournaling again\n", ["entry", "problem"]),
        (GOOD.decode() + "Journaling switched to: /j/1\n", ["entry", "problem"]),
    ],
)  # fmt: skip
def test_unstamped_shapes(tmp_path: Path, text: str, kinds: list[str]) -> None:
    items = parse_bytes(tmp_path, text.encode())
    assert [item.kind for item in items] == kinds
    assert_accounted(text.encode(), items)
    assert [i.kind for i in parse_lines(text.split("\n")[:-1])] == kinds


def test_lazy_entry_fields_match_the_model(real_log: Path) -> None:
    for item in read_log(real_log):
        if isinstance(item, LogEntry):
            message = item.message
            assert (item.timestamp, item.pid, item.severity) == (
                message.timestamp,
                message.pid,
                message.severity,
            )
            assert (item.category, item.text, item.continuation) == (
                message.category,
                message.text,
                message.continuation,
            )
            assert LogEntry(item.line, message) == item
            assert item.format() == message.format()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b"\x00\x01garbage", "NUL byte at column 1"),
        (b"caf\xe9 latin-1", "invalid UTF-8 at column 4"),
        (b"random garbage line", "not a continuation of the entry at line 1"),
        # a malformed header names its first wrong field, what it holds and what it allows
        (
            b"01/15/25-20:21:48 (646) 0 [X] no millis",
            "malformed header: timestamp '01/15/25-20:21:48', expected MM/DD/YY-HH:MM:SS:mmm",
        ),
        (
            b"01/15/25-20:21:48:401 (0646) 0 [X] leading zero",
            "malformed header: pid '(0646)', expected (PID), digits without a leading zero",
        ),
        (
            b"01/15/25-20:21:48:401 (646) 9 [X] severity 9",
            "malformed header: severity '9', expected 0, 1, 2 or 3",
        ),
        (b"01/15/25-20:21:48:401 (646)", "malformed header: severity '', expected 0, 1, 2 or 3"),
        (b"02/30/25-20:21:48:401 (646) 0 [X] February 30", "invalid timestamp"),
    ],
)
def test_bad_lines_are_problems_with_line_numbers(tmp_path: Path, bad: bytes, reason: str) -> None:
    data = GOOD + bad + b"\n" + GOOD
    items = parse_bytes(tmp_path, data)
    found = problems(items)
    assert len(found) == 1
    assert found[0].line == 2
    assert reason in found[0].reason
    assert len([item for item in items if isinstance(item, LogEntry)]) == 2
    assert_accounted(data, items)


def test_truncated_last_line(tmp_path: Path) -> None:
    data = GOOD + b"01/15/25-20:21"
    items = parse_bytes(tmp_path, data)
    assert "truncated last line" in problems(items)[0].reason
    assert problems(items)[0].line == 2


def test_complete_last_line_without_newline_is_an_entry(tmp_path: Path) -> None:
    items = parse_bytes(tmp_path, GOOD + GOOD.rstrip(b"\n"))
    assert [type(item) for item in items] == [LogEntry, LogEntry]


def test_line_before_first_entry(tmp_path: Path) -> None:
    items = parse_bytes(tmp_path, b"orphan\n" + GOOD)
    assert problems(items)[0].reason == "unstamped line before the first entry"


def test_one_megabyte_line_is_reported_not_held(tmp_path: Path) -> None:
    huge = b"x" * (1 << 20)
    data = GOOD + huge + b"\n" + GOOD
    items = parse_bytes(tmp_path, data)
    (problem,) = problems(items)
    assert problem.line == 2
    assert problem.size == len(huge)
    assert len(problem.raw) == MAX_LINE_BYTES
    assert "longer than" in problem.reason
    assert [item.line for item in items if isinstance(item, LogEntry)] == [1, 3]


def test_unterminated_huge_last_line(tmp_path: Path) -> None:
    items = parse_bytes(tmp_path, GOOD + b"y" * (3 << 20))
    (problem,) = problems(items)
    assert (problem.line, problem.size) == (2, 3 << 20)


def test_crlf_lines(tmp_path: Path) -> None:
    items = parse_bytes(tmp_path, GOOD.replace(b"\n", b"\r\n") * 2)
    assert problems(items) == []
    assert len(items) == 2


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    with pytest.raises(LogReadError, match=str(missing)):
        read_log(missing)
    with pytest.raises(LogReadError, match=r"messages\.log"):
        read_log(tmp_path.joinpath("messages.log").mkdir() or tmp_path / "messages.log")


def peak_bytes_reading(path: Path) -> int:
    tracemalloc.start()
    try:
        for _ in read_log(path):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small, large = tmp_path / "small.log", tmp_path / "large.log"
    small.write_bytes(GOOD * 12_000)  # 1 MB
    large.write_bytes(GOOD * 48_000)  # 4 MB: four times the entries
    assert os.path.getsize(large) == 4 * os.path.getsize(small)
    small_peak, large_peak = peak_bytes_reading(small), peak_bytes_reading(large)
    # Held: one read chunk and the entries made from it, never the file.
    assert large_peak < 1.5 * small_peak


def test_summary_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    from pytest_iris import summarize

    small, large = tmp_path / "small.log", tmp_path / "large.log"
    small.write_bytes((GOOD * 6_000 + b"   indented\n") * 2)  # 1 MB, both paths
    large.write_bytes((GOOD * 6_000 + b"   indented\n") * 8)  # 4 MB
    peaks = []
    for path in (small, large):
        expected = path.read_bytes().count(GOOD)
        tracemalloc.start()
        try:
            entries = summarize(path).entries
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert entries == expected
    assert peaks[1] < 1.5 * peaks[0]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    items = parse_bytes(tmp_path_factory.mktemp("fuzz"), data)
    assert_accounted(data, items)


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=8))
def test_fuzz_mutated_real_lines(
    tmp_path_factory: pytest.TempPathFactory, rng: random.Random, rounds: int
) -> None:
    source = (Path(__file__).parent / "data" / "messages_real.log").read_bytes()
    data = bytearray(source[: rng.randrange(200, len(source))])
    for _ in range(rounds):
        position = rng.randrange(len(data))
        choice = rng.randrange(4)
        if choice == 0:
            data[position] = rng.randrange(256)
        elif choice == 1:
            del data[position : position + rng.randrange(1, 30)]
        elif choice == 2:
            data[position:position] = rng.choice([b"\n", b"\x00", b"\xff\xfe", b"] [", b"(12) "])
        else:
            data[position:position] = data[rng.randrange(len(data)) :][:40]
    items = parse_bytes(tmp_path_factory.mktemp("mut"), bytes(data))
    assert_accounted(bytes(data), items)


def oracle(data: bytes) -> list[LogItem]:
    """The line-by-line path (no block matching) over the same bytes."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    out: list[str] = []
    for raw in lines:
        raw = raw.removesuffix(b"\r")
        out.append(raw.decode("utf-8", "surrogateescape"))
    return list(parse_lines(out))


def comparable(items: list[LogItem]) -> list[tuple[object, ...]]:
    return [
        (item.line, item.message) if isinstance(item, LogEntry) else (item.line, item.kind)
        for item in items
    ]


def test_block_path_agrees_with_line_path_across_chunks(tmp_path: Path, real_log: Path) -> None:
    rng = random.Random(7)
    real = real_log.read_bytes().split(b"\n")[:-1]
    noise = [b"garbage", b"", b"   indented", b"*** star", b"01/02/03-bad", b"\xff\xfe"]
    lines = [rng.choice(real) if rng.random() < 0.9 else rng.choice(noise) for _ in range(40_000)]
    data = b"\n".join(lines) + b"\n"
    assert len(data) > 3 * (1 << 18)  # several read chunks
    clean = [line for line in lines if b"\xff" not in line]
    clean_data = b"\n".join(clean) + b"\n"
    assert comparable(parse_bytes(tmp_path, clean_data)) == comparable(oracle(clean_data))
    items = parse_bytes(tmp_path, data)
    assert_accounted(data, items)
    assert_summary_matches(tmp_path / "messages.log", items)


def assert_summary_matches(path: Path, items: list[LogItem]) -> None:
    """``summarize`` counts what the reader yields (its fast paths agree)."""
    from pytest_iris import summarize

    summary = summarize(path)
    entries = [item for item in items if isinstance(item, LogEntry)]
    assert summary.entries == len(entries)
    assert summary.blocks == len([item for item in items if isinstance(item, LogBlock)])
    assert summary.problem_count == len(problems(items))
    assert summary.by_severity == Counter(int(e.severity) for e in entries)
    assert summary.by_category == Counter(e.category for e in entries)
    if entries:
        assert summary.first == min(e.timestamp for e in entries)
        assert summary.last == max(e.timestamp for e in entries)


def test_clean_chunks_and_banners_agree_with_the_line_path(tmp_path: Path, real_log: Path) -> None:
    # Whole chunks of one-line entries (the summary's one-call path) between
    # copies of the real log (banners, the journaling message, a WIJ block),
    # across years, so that every fast path meets every chunk boundary.
    real = real_log.read_bytes()
    stamped = [line for line in real.split(b"\n") if re.match(rb"\d\d/\d\d/\d\d-", line)]
    plain = b"\n".join(stamped * 60) + b"\n"
    data = real + plain + real.replace(b"/23-", b"/24-") + plain + real
    assert len(data) > 3 * (1 << 18)
    path = tmp_path / "messages.log"
    path.write_bytes(data)
    items = list(read_log(path))
    assert comparable(items) == comparable(oracle(data))
    assert_accounted(data, items)
    assert_summary_matches(path, items)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "01/15/25-20:21:48:401 (646) 0 [Utility.Event] Merging",
                "01/15/25-20:21:48:402 (646) 2 Caché text",
                "01/15/25-20:21:48:403 (646) 1 [Generic.Event]",
                "01/15/25-20:21:48:404 (646) 1 [Generic.Event] ",
                "02/30/25-20:21:48:404 (646) 1 [Generic.Event] bad date",
                "01/15/25-24:00:00:000 (646) 1 [Generic.Event] hour 24",
                "01/14/24-23:59:60:000 (646) 1 [Generic.Event] second 60",
                "12/31/24-23:59:59:999 (1) 0 [Generic.Event] other year",
                "   indented",
                "",
                "*** Recovery",
                "*** Recovery started at Wed Aug 11 06:12:30 2021",
                "Exiting with status 3 (Success)",
                "Journaling switched to: /j/1",
                "01/15/25-20:21:48:405 (646) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM MESSAGE",
                "garbage",
                "01/15/25-20:21 torn",
                # Shapes the fast paths must read as the line path does.
                "01/15/25-20:21:48:406 (646) 0 [foo]bar",
                "01/15/25-20:21:48:407 (646) 0 [Generic.Event] text ending in JOURNALING",
                "Startup of InterSystems IRIS [IRIS for UNIX] 2023.1",
                "10 blocks pending",
                "\tTabbed",
                "*** star",
                "  OS=[Linux], version=[#1 SMP]",
            ]
        ),
        max_size=60,
    )
)
def test_summary_and_reader_agree(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    from pytest_iris import summarize

    data = ("\n".join(lines) + "\n").encode() if lines else b""
    path = tmp_path_factory.mktemp("agree") / "messages.log"
    path.write_bytes(data)
    items = list(read_log(path))
    assert comparable(items) == comparable(oracle(data))
    summary = summarize(path)
    entries = [item.message for item in items if isinstance(item, LogEntry)]
    assert summary.entries == len(entries)
    assert summary.blocks == len([item for item in items if isinstance(item, LogBlock)])
    assert [p.line for p in summary.problems] == [p.line for p in problems(items)]
    assert summary.by_severity == Counter(int(m.severity) for m in entries)
    assert summary.by_category == Counter(m.category for m in entries)
    if entries:
        assert summary.first == min(m.timestamp for m in entries)
        assert summary.last == max(m.timestamp for m in entries)


def test_pid_with_a_leading_zero_is_a_problem_not_a_different_pid(tmp_path: Path) -> None:
    data = GOOD + GOOD.replace(b"(646)", b"(0646)")
    items = parse_bytes(tmp_path, data)
    assert "malformed header" in problems(items)[0].reason
    assert_accounted(data, items)
