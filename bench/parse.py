"""Parser throughput against the precompiled-regex loop, measured in the same process.

The baseline is the loop docs/sources/baselines.md measures: the file read
line by line and the seed's precompiled regex matched on each line
(``for line in file: SEED.match(line)``), building nothing. Against it:
``summarize`` (what ``pytest-iris parse FILE`` does), ``read_log``
yielding typed entries (fields read lazily) and, for scale, every entry
turned into its pydantic model. Targets (issue 17): typed entries >= 0.65x,
summarize >= 0.80x, on both corpora.

The real corpus is small (10 KB, 138 lines): fixed costs (opening the
file, the first chunk) would dominate its figures, so it is measured
repeated verbatim to ``--lines`` lines, and once more as the single file.
Times are CPU seconds of this process (``time.process_time``), medians of
alternating runs: the machine is shared, and wall time there measures the
other processes more than this one.

    python bench/parse.py [--lines N] [--runs N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pytest_iris import LogEntry, read_log, summarize

ROOT = Path(__file__).parents[1]
REAL = ROOT / "tests" / "data" / "messages_real.log"
SAMPLE = ROOT / "log_samples" / "messages.log"
#: The regex the project started from (the "seed"): IRIS lines only.
SEED_PATTERN = r"^(\d{2}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}:\d{3}) \((\d+)\) (\d) \[([^\]]+)\] (.*)$"
SEED_REGEX = re.compile(SEED_PATTERN)
BASELINE = "baseline: file line by line, SEED.match"
TARGETS = {"summarize (pytest-iris parse)": 0.80, "read_log -> typed LogEntry": 0.65}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for title, source in (("real corpus", REAL), ("generated sample", SAMPLE)):
            path = Path(tmp) / f"{source.stem}-{args.lines}.log"
            lines = repeated(source, path, args.lines)
            run(f"{title} ({source.relative_to(ROOT)}) repeated verbatim", path, lines, args.runs)
        single = REAL.read_text().count("\n")
        # The single 10 KB file: each figure is 200 whole reads, to be measurable.
        run(
            f"real corpus, the single file ({single} lines) x 200 reads",
            REAL,
            single,
            args.runs,
            200,
        )


def repeated(source: Path, path: Path, lines: int) -> int:
    """Write ``source`` whole, again and again, to about ``lines`` lines; return the count."""
    data = source.read_bytes()
    copies = max(1, round(lines / data.count(b"\n")))
    path.write_bytes(data * copies)
    return data.count(b"\n") * copies


def work_for(path: Path, lines: int) -> dict[str, Callable[[], object]]:
    def baseline() -> None:
        match = SEED_REGEX.match
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match(line)

    in_memory = path.read_text(encoding="utf-8").splitlines()

    def in_memory_loop() -> None:
        match = SEED_REGEX.match
        for line in in_memory:
            match(line)

    def typed() -> None:
        for _ in read_log(path):
            pass

    def models() -> None:
        for item in read_log(path):
            if isinstance(item, LogEntry):
                item.message  # noqa: B018 - the model, built on demand

    return {
        BASELINE: baseline,
        "  (lines already in memory, SEED.match)": in_memory_loop,
        "summarize (pytest-iris parse)": lambda: summarize(path),
        "read_log -> typed LogEntry": typed,
        "read_log -> .message (pydantic model)": models,
    }


def run(title: str, path: Path, lines: int, runs: int, reads: int = 1) -> None:
    work = work_for(path, lines)
    # Alternate the runs so that a busy machine slows every figure alike.
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(runs):
        for name, fn in work.items():
            start = time.process_time()
            for _ in range(reads):
                fn()
            times[name].append(time.process_time() - start)
    count = lines * reads
    print(f"{title}: {count:,} lines, CPU time, median of {runs} alternating runs")
    base_s = statistics.median(times[BASELINE])
    for name, samples in times.items():
        seconds = statistics.median(samples)
        ratio = base_s / seconds
        target = TARGETS.get(name)
        verdict = (
            ""
            if target is None
            else f"  target >= {target:.2f}x " + ("met" if ratio >= target else "MISSED")
        )
        print(f"  {name:<40} {count / seconds:>12,.0f} lines/s  {ratio:5.2f}x{verdict}")


if __name__ == "__main__":
    main()
