"""Parser throughput against a bare ``re.match`` loop in the same process.

Prints lines per second for: the baseline (the seed's precompiled regex
matched over the same lines already in memory, building nothing; issue 17's
"precompiled-regex loop"), ``summarize`` (what ``pytest-iris parse FILE``
does, reading the file), ``read_log`` yielding typed entries (fields read
lazily, reading the file) and, for scale, entries turned into pydantic
models. Targets (issue 17): typed entries >= 0.65x, summarize >= 0.80x,
on both corpora.

    python bench/parse.py [--lines N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from pytest_iris import LogEntry, read_log, summarize

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    for title, source in CORPORA.items():
        run(title, source, args.lines, args.runs)


TARGETS = {"summarize (pytest-iris parse)": 0.80, "read_log -> typed LogEntry": 0.65}


def run(title: str, source: Path, count: int, runs: int) -> None:
    corpus = [line for line in source.read_text().splitlines() if line]
    repeat = count // len(corpus) + 1
    lines = (corpus * repeat)[:count]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.log"
        path.write_text("\n".join(lines) + "\n")
        in_memory = path.read_text().splitlines()

        def compiled() -> int:
            match = SEED_REGEX.match
            for line in in_memory:
                match(line)
            return len(in_memory)

        def summary() -> int:
            return summarize(path).lines

        def typed() -> int:
            for _ in read_log(path):
                pass
            return len(in_memory)

        def models() -> int:
            for item in read_log(path):
                if isinstance(item, LogEntry):
                    item.message  # noqa: B018 - the model, built on demand
            return len(in_memory)

        work = {
            "baseline: precompiled seed.match loop": compiled,
            "summarize (pytest-iris parse)": summary,
            "read_log -> typed LogEntry": typed,
            "read_log -> .message (pydantic model)": models,
        }
        # Alternate the runs so that a busy machine slows every figure alike.
        times: dict[str, list[float]] = {name: [] for name in work}
        for _ in range(runs):
            for name, fn in work.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)

    print(f"{count:,} lines of {title} repeated, median of {runs} alternating runs")
    base_s = statistics.median(times["baseline: precompiled seed.match loop"])
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
