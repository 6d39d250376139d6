"""Start-up cost of a contained child against an uncontained one, in the same process.

Starts ``true`` N times with no sandbox active (the baseline: a plain
``subprocess.run``), then N times under an active :class:`SandboxHost`
guard (contained: mount namespace, read-only binds, dropped capabilities,
signal scope), alternating so a slow spell hits both. Prints the median
of each, their difference and ratio, and the once-per-process mode probe.

    python bench/containment.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def _one(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, timeout=60)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    from pytest_iris.sandbox import containment
    from pytest_iris.sandbox.host import SandboxHost

    started = time.perf_counter()
    mode = containment.mode()
    probe_s = time.perf_counter() - started
    plain: list[float] = []
    contained: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, SandboxHost(Path(tmp) / "host") as host:
        from pytest_iris.sandbox import guard

        for _ in range(args.runs):
            with guard.bypass():  # the sandbox is active, but this thread is not checked
                plain.append(_one(["true"]))
            contained.append(_one(["true"]))
        _ = host
    base, cont = statistics.median(plain), statistics.median(contained)
    print(json.dumps({
        "mode": mode, "runs": args.runs, "probe_once_ms": round(probe_s * 1000, 2),
        "uncontained_median_ms": round(base * 1000, 2),
        "contained_median_ms": round(cont * 1000, 2),
        "extra_per_child_ms": round((cont - base) * 1000, 2),
        "ratio": round(cont / base, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
