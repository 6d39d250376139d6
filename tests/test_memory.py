"""The shared-memory model against the real startup lines in messages_real.log."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from pytest_iris import memory
from pytest_iris.errors import ValidationError
from pytest_iris.memory import SharedMemoryPlan, plan_shared_memory

REAL_LOG = Path(__file__).parent / "data" / "messages_real.log"
BREAKDOWN = re.compile(
    r"(\d+)MB global buffers, (\d+)MB routine buffers, (\d+)MB journal buffers, "
    r"(\d+)MB buffer descriptors, (\d+)MB heap, (\d+)MB ECP, (\d+)MB miscellaneous$"
)
ALLOCATED = re.compile(r"\[Generic\.Event\] (Allocated (\d+)MB shared memory.*)$")


def _real_pairs() -> list[tuple[str, str, int, tuple[int, ...]]]:
    """(allocated text, breakdown text, total, parts) for each two-line allocation."""
    lines = REAL_LOG.read_text(encoding="utf-8").splitlines()
    pairs = []
    for first, second in itertools.pairwise(lines):
        allocated = ALLOCATED.search(first)
        breakdown = BREAKDOWN.search(second)
        if allocated and breakdown:
            pairs.append(
                (
                    allocated.group(1),
                    breakdown.group(0),
                    int(allocated.group(2)),
                    tuple(int(x) for x in breakdown.groups()),
                )
            )
    return pairs


def test_real_log_has_the_reference_pairs() -> None:
    assert len(_real_pairs()) == 4


@pytest.mark.parametrize("pair", _real_pairs(), ids=lambda p: p[0])
def test_plan_renders_every_real_breakdown_line(
    pair: tuple[str, str, int, tuple[int, ...]],
) -> None:
    allocated, breakdown, total, parts = pair
    plan = SharedMemoryPlan(*parts, rounding_mb=total - sum(parts))
    assert plan.breakdown_text() == breakdown
    assert plan.total_mb == total
    assert memory.allocated_message(plan, huge_pages="Huge Pages" in allocated) == allocated
    # Real totals exceed the listed parts by a little (per-part rounding).
    assert 0 < plan.rounding_mb <= 2


def test_plan_from_config_reproduces_the_2023_startup_exactly() -> None:
    """globals=32 MB, routines=80, jrnbufs=64, gmheap auto -> the 06/26/23 lines."""
    plan = plan_shared_memory(32, 80, 64, 0, total_ram_mb=7_800)
    assert memory.allocated_messages(plan) == (
        "Allocated 495MB shared memory",
        "32MB global buffers, 80MB routine buffers, 64MB journal buffers, "
        "4MB buffer descriptors, 300MB heap, 5MB ECP, 9MB miscellaneous",
    )
    assert plan.total_mb == plan.listed_mb + plan.rounding_mb == 495
    assert plan.total_bytes == 495 * 1024 * 1024


def test_auto_globals_routines_heap_follow_the_documented_rules() -> None:
    # 2024 container: auto 25 % of RAM gave 953 MB, routines 95, heap 300 (the minimum).
    plan = plan_shared_memory(0, 0, 64, 0, total_ram_mb=3_812)
    assert plan.global_buffers_mb == 953
    assert plan.routine_buffers_mb == 95
    assert plan.heap_mb == 300
    assert plan.journal_buffers_mb == 64
    # The approximated parts stay close to the real line (74 MB desc., 1508 MB total).
    assert abs(plan.total_mb - 1508) / 1508 < 0.03
    assert abs(plan.buffer_descriptors_mb - 74) / 74 < 0.25


@pytest.mark.parametrize(
    ("globals_mb", "expected"),
    [(100, 80), (953, 95), (5_000, 500), (20_000, 1020)],
)
def test_auto_routines_clamped(globals_mb: int, expected: int) -> None:
    assert plan_shared_memory(globals_mb, 0, 64, 0, 10_000).routine_buffers_mb == expected


def test_small_explicit_routines_raised_to_80() -> None:
    assert plan_shared_memory(512, 35, 64, 0, 10_000).routine_buffers_mb == 80
    assert plan_shared_memory(512, 300, 64, 0, 10_000).routine_buffers_mb == 300


@pytest.mark.parametrize(
    ("globals_mb", "heap_mb"),
    [
        (32, 300),  # 3 % is below the 300 MB minimum
        (10_240, 307),  # 3 % of 10 GB = 314,572 KB
        (102_400, 2_047),  # capped at 2,097,000 KB
    ],
)
def test_auto_gmheap(globals_mb: int, heap_mb: int) -> None:
    assert plan_shared_memory(globals_mb, 0, 64, 0, 1).heap_mb == heap_mb


def test_manual_gmheap_and_jrnbufs_default() -> None:
    plan = plan_shared_memory(5_000, 151, 0, 165_888, 100_000)
    assert plan.heap_mb == 162
    assert plan.journal_buffers_mb == 64
    assert plan.ecp_mb == 6  # real line at 5000 MB of globals shows 6 MB ECP


def test_reduced_is_the_documented_eighth() -> None:
    plan = SharedMemoryPlan(1200, 64, 64, 48, 300, 5, 9, rounding_mb=1)
    smaller = plan.reduced()
    assert (smaller.global_buffers_mb, smaller.routine_buffers_mb) == (1050, 56)
    assert smaller.buffer_descriptors_mb == 42
    assert (smaller.heap_mb, smaller.journal_buffers_mb, smaller.ecp_mb) == (300, 64, 5)
    assert smaller.total_mb < plan.total_mb
    assert memory.failed_message(plan) == (
        f"Failed to allocate {plan.total_mb}MB shared memory: "
        "1200MB global buffers, 64MB routine buffers"
    )


def test_message_texts_are_the_real_ones() -> None:
    plan = SharedMemoryPlan(128, 128, 64, 16, 80, 5, 9)
    assert plan.total_mb == 430
    assert memory.allocated_message_2020(plan) == (
        "Allocated 430MB shared memory: 128MB global buffers, 128MB routine buffers"
    )
    assert memory.allocated_message_2020(plan, huge_pages=True).startswith(
        "Allocated 430MB shared memory using Huge Pages: 128MB global buffers"
    )
    assert memory.failed_huge_pages_message(1468) == (
        "Failed to allocate 1468MB shared memory using Huge Pages. "
        "Startup will retry with standard pages."
    )
    assert memory.failed_huge_pages_message(19216, advice=True) == (
        "Failed to allocate 19216MB shared memory using Huge Pages. Startup will retry with "
        "standard pages. If huge pages are needed for performance, check the OS settings and "
        "consider marking them as required with the Cache 'memlock' configuration parameter."
    )
    assert memory.insufficient_huge_pages_message() == (
        "Insufficient Huge Pages configured for required shared memory."
    )
    real = REAL_LOG.read_text(encoding="utf-8")
    assert memory.auto_globals_message() in real
    assert "Allocated 4681MB shared memory: 4002MB global buffers, 300MB routine buffers" in real
    assert (
        memory.allocated_message_2020(SharedMemoryPlan(4002, 300, 64, 0, 300, 0, 15))
        == "Allocated 4681MB shared memory: 4002MB global buffers, 300MB routine buffers"
    )


@pytest.mark.parametrize("bad", [-1, 1.5, True, "32"])
def test_bad_input_names_the_argument(bad: object) -> None:
    with pytest.raises(ValidationError, match="globals_mb"):
        plan_shared_memory(bad, 0, 64, 0, 1000)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="heap_mb"):
        SharedMemoryPlan(1, 1, 1, 1, bad, 1, 1)  # type: ignore[arg-type]


def test_console_lines_of_the_2024_container_start() -> None:
    """facts.md §4.4: the console shows only globals and routines after 'Allocated'."""
    plan = SharedMemoryPlan(953, 95, 64, 74, 300, 5, 16, rounding_mb=1)
    assert memory.console_allocated_messages(plan) == (
        "Allocated 1508MB shared memory",
        "953MB global buffers, 95MB routine buffers",
    )


PAIRS = Path(__file__).parent / "data" / "memory_pairs.md"
#: Every row of tests/data/memory_pairs.md (copied from shared/iris): version,
#: CLI inputs (0 = default/automatic, as the row gives them), the real total,
#: and the parts the source gives exactly (name -> MB).
ROWS = [
    ("2021.1", dict(globals_mb=128, routines_mb=128, gmheap_kb=75136), 430,
     {"global_buffers_mb": 128, "routine_buffers_mb": 128}),
    ("2022.1", dict(globals_mb=100, routines_mb=35), 306,
     {"global_buffers_mb": 100, "routine_buffers_mb": 44, "journal_buffers_mb": 64,
      "buffer_descriptors_mb": 9, "heap_mb": 72, "ecp_mb": 5, "misc_mb": 10}),
    ("2021.1", dict(globals_mb=512), 689, {"global_buffers_mb": 512}),
    ("2021.1", dict(globals_mb=16, routines_mb=35), 103,
     {"global_buffers_mb": 16, "routine_buffers_mb": 35}),
    ("2020.1", dict(globals_mb=512, routines_mb=64), 749,
     {"global_buffers_mb": 512, "routine_buffers_mb": 64}),
    ("2023.1", dict(globals_mb=32), 495,
     {"global_buffers_mb": 32, "routine_buffers_mb": 80, "journal_buffers_mb": 64,
      "buffer_descriptors_mb": 4, "heap_mb": 300, "ecp_mb": 5, "misc_mb": 9}),
    ("2024.1", dict(ram_mb=3813), 1508,
     {"global_buffers_mb": 953, "routine_buffers_mb": 95, "journal_buffers_mb": 64,
      "heap_mb": 300, "ecp_mb": 5}),
    # The documentation's example (irislatest): the newest rules.
    ("2024.1", dict(globals_mb=5000, routines_mb=151, gmheap_kb=165888), 5682,
     {"global_buffers_mb": 5000, "routine_buffers_mb": 151, "journal_buffers_mb": 64,
      "heap_mb": 162, "ecp_mb": 6}),
    ("2022.1", dict(ram_mb=995676 // 1024), 463,
     {"global_buffers_mb": 243, "routine_buffers_mb": 80}),
    ("2021.1", dict(globals_mb=8003, routines_mb=300), 8913,
     {"global_buffers_mb": 8003, "routine_buffers_mb": 300}),
    ("cache-2017", dict(globals_mb=1200, routines_mb=64), 1375,
     {"global_buffers_mb": 1200, "routine_buffers_mb": 64}),
]  # fmt: skip


def test_every_row_of_memory_pairs_is_listed() -> None:
    table = [line for line in PAIRS.read_text().splitlines() if re.match(r"\| \d", line)]
    assert len(table) == len(ROWS)
    for line, (_, _, total, _) in zip(table, ROWS, strict=True):
        assert line.startswith(f"| {total} ")


@pytest.mark.parametrize(("version", "inputs", "total", "parts"), ROWS)
def test_cli_reproduces_every_memory_pair(
    capsys: pytest.CaptureFixture[str],
    version: str,
    inputs: dict[str, int],
    total: int,
    parts: dict[str, int],
) -> None:
    import json

    from pytest_iris.cli import main

    argv = ["memory", "--version", version, "--json"]
    for name, value in inputs.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out)
    assert abs(record["total_mb"] - total) <= 0.05 * total, record
    assert {name: record[name] for name in parts} == parts
    lines = record["lines"]
    allocated = next(line for line in lines if "Allocated" in line)
    assert f"Allocated {record['total_mb']}MB shared memory" in allocated
    if version in ("cache-2017", "2020.1", "2021.1"):  # the one-line form (real line 34)
        assert allocated.endswith(
            f": {parts['global_buffers_mb']}MB global buffers, "
            f"{record['routine_buffers_mb']}MB routine buffers"
        )
    else:  # total, then the seven-part breakdown (real lines 1-2)
        assert BREAKDOWN.search(lines[-1])
    assert (" [Generic.Event] " in allocated) == (version != "cache-2017")


def test_cache_reduction_matches_the_real_pair() -> None:
    """facts.md: 1375 then 1211 after the 1/8 reduction (1200/64 then 1050/56)."""
    plan = plan_shared_memory(1200, 64, 0, 0, 0, version="cache-2017").reduced()
    assert (plan.global_buffers_mb, plan.routine_buffers_mb) == (1050, 56)
    assert abs(plan.total_mb - 1211) <= 0.05 * 1211


def test_memory_cli_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_iris.cli import main

    assert main(["memory", "--globals-mb", "0"]) == 2
    assert "needs --ram-mb" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["memory", "--globals-mb", "32", "--version", "2019.9"])
    assert exit_info.value.code == 2
    assert "2024.1" in capsys.readouterr().err
