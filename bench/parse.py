"""Parser throughput against a bare ``re.match`` loop in the same process.

Prints lines per second for: the baseline (the seed's regex matched over the
same lines already in memory, building nothing), ``summarize`` (what
``pytest-iris parse FILE`` does) and ``read_log`` yielding full
``IRISMessage`` models. Targets: summary >= 0.4x, models >= 0.25x.

    python bench/parse.py [--lines N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pytest_iris import read_log, summarize

ROOT = Path(__file__).parents[1]
#: The real snippets (banner-heavy: a quarter of the lines are unstamped) and
#: the generated sample (a whole instance's log: unstamped lines are rare).
CORPORA = {
    "real corpus (tests/data/messages_real.log)": ROOT / "tests" / "data" / "messages_real.log",
    "log_samples/messages.log": ROOT / "log_samples" / "messages.log",
}
#: The regex the project started from (the "seed"): IRIS lines only.
SEED_PATTERN = r"^(\d{2}/\d{2}/\d{2}-\d{2}:\d{2}:\d{2}:\d{3}) \((\d+)\) (\d) \[([^\]]+)\] (.*)$"
SEED_REGEX = re.compile(SEED_PATTERN)


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    """Median seconds over ``runs`` and the count the work returned."""
    times = []
    count = 0
    for _ in range(runs):
        start = time.perf_counter()
        count = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    for title, source in CORPORA.items():
        run(title, source, args.lines, args.runs)
    print("  targets: summarize >= 0.40x, read_log models >= 0.25x")


def run(title: str, source: Path, count: int, runs: int) -> None:
    corpus = [line for line in source.read_text().splitlines() if line]
    repeat = count // len(corpus) + 1
    lines = (corpus * repeat)[:count]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.log"
        path.write_text("\n".join(lines) + "\n")
        in_memory = path.read_text().splitlines()

        def bare() -> int:
            # The baseline: "a bare loop of re.match ... building nothing".
            for line in in_memory:
                re.match(SEED_PATTERN, line)
            return len(in_memory)

        def compiled() -> int:
            match = SEED_REGEX.match
            for line in in_memory:
                match(line)
            return len(in_memory)

        def summary() -> int:
            return summarize(path).lines

        def models() -> int:
            count = 0
            for _ in read_log(path):
                count += 1
            return len(in_memory)

        base_s, n = best_of(runs, bare)
        rows = [("baseline: re.match(seed, line) loop", base_s, n)]
        for name, work in (
            ("(stricter) precompiled seed.match loop", compiled),
            ("summarize (pytest-iris parse)", summary),
            ("read_log -> IRISMessage", models),
        ):
            seconds, count = best_of(runs, work)
            rows.append((name, seconds, count))

    print(f"{count:,} lines of {title} repeated, median of {runs} runs")
    for name, seconds, count in rows:
        rate = count / seconds
        print(f"  {name:<40} {rate:>12,.0f} lines/s  {base_s / seconds:5.2f}x baseline")


if __name__ == "__main__":
    main()
