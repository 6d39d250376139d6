"""pytest start-up with the ``iris`` plugin installed, against ``-p no:iris``.

pytest loads the plugin in every suite where pytest-iris is installed, even
suites that never use it, so its import path must stay small. Runs a trivial
one-test suite in fresh interpreters, alternating the two configurations,
and prints the medians. Target: the plugin adds at most 30 ms.

    python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(directory: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=directory,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "test_trivial.py").write_text("def test_nothing():\n    pass\n")
        run_once(directory)  # warm the OS caches for both
        with_plugin: list[float] = []
        without: list[float] = []
        for _ in range(args.runs):
            with_plugin.append(run_once(directory))
            without.append(run_once(directory, "-p", "no:iris"))
    base = statistics.median(without)
    plugin = statistics.median(with_plugin)
    print(f"pytest start-up, trivial suite, median of {args.runs} alternating runs")
    print(f"  -p no:iris (baseline)   {base * 1000:8.1f} ms")
    print(f"  iris plugin loaded      {plugin * 1000:8.1f} ms")
    print(f"  cost of the plugin      {(plugin - base) * 1000:8.1f} ms   (target <= 30 ms)")


if __name__ == "__main__":
    main()
