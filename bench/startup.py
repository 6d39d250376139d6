"""What installing pytest-iris costs a pytest suite that never uses it.

Builds the wheel of this checkout, then two fresh virtual environments in a
temporary directory:

* ``absent``    - pytest alone, at the version the wheel resolves to;
* ``installed`` - the pytest-iris wheel and its dependencies (no extras).

A trivial one-test suite runs in fresh interpreters, in rounds that
alternate the two (and ``-p no:iris`` in ``installed``, so that the plugin's
own share shows beside what merely having the distribution installed costs),
the order turned each round. The CPU time of each child comes from
``getrusage(RUSAGE_CHILDREN)`` deltas; the script prints medians with their
quartiles, and the per-round (paired) differences and their spread. Target:
installing pytest-iris adds at most 30 ms of CPU time. On a busy machine
even CPU time moves by tens of ms from run to run, so where valgrind is
installed the script also counts the instructions of one run of each under
callgrind (a figure the load does not move), turns the difference into ms at
the rate of the fastest baseline run, and judges that; otherwise it judges
the median of the paired CPU differences. It also lists the pytest plugins
each environment auto-loads.

    python bench/startup.py [--runs N] [--keep DIR] [--no-callgrind]

pip installs from the package index configured for pip (and its cache);
nothing else is fetched.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 30.0
PLUGINS = (
    "from importlib.metadata import entry_points\n"
    "print(' '.join(sorted(ep.name for ep in entry_points(group='pytest11'))) or '-')"
)


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, command))}\n{done.stderr}")
    return done.stdout


def build_wheel(out: Path) -> Path:
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, ROOT)
    (wheel,) = out.glob("pytest_iris-*.whl")
    return wheel


def venv(path: Path, *requirements: str | Path) -> Path:
    run(sys.executable, "-m", "venv", path)
    python = path / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements)
    return python


def pytest_run(python: Path, suite: Path, *extra: str) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one pytest process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=suite,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def instructions(python: Path, suite: Path, *extra: str) -> int | None:
    """Instructions one pytest process executes, under callgrind: the same on a busy machine."""
    if shutil.which("valgrind") is None:
        return None
    valgrind = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
    done = subprocess.run(
        [*valgrind, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=suite,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if found else None


def spread(values: list[float]) -> str:
    """Median and quartiles, in ms."""
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return f"{q2 * 1000:6.1f} ms  [{q1 * 1000:6.1f} .. {q3 * 1000:6.1f}]"


CONFIGS: dict[str, tuple[str, ...]] = {"absent": (), "installed": (), "no-iris": ("-p", "no:iris")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=31, help="rounds of the three runs")
    parser.add_argument("--keep", type=Path, help="build the environments here and keep them")
    parser.add_argument(
        "--no-callgrind",
        action="store_true",
        help="skip counting instructions under valgrind (load-independent; ~40 s)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        print("building the wheel and two fresh environments ...", flush=True)
        wheel = build_wheel(base / "dist")
        installed = venv(base / "installed", wheel)
        version = run(installed, "-c", "import pytest; print(pytest.__version__)").strip()
        absent = venv(base / "absent", f"pytest=={version}")
        suite = base / "suite"
        suite.mkdir(exist_ok=True)
        (suite / "test_trivial.py").write_text("def test_nothing():\n    pass\n")
        python = {"absent": absent, "installed": installed, "no-iris": installed}
        for name in ("absent", "installed", "no-iris"):  # warm the OS caches
            pytest_run(python[name], suite, *CONFIGS[name])
        order = list(CONFIGS)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in CONFIGS}
        for _ in range(args.runs):
            # alternating, the order turned each round: a load that comes and goes
            # hits every configuration alike, and each round gives paired differences
            for name in order:
                runs[name].append(pytest_run(python[name], suite, *CONFIGS[name]))
            order.append(order.pop(0))
        wall = {k: [w for w, _ in v] for k, v in runs.items()}
        cpu = {k: [c for _, c in v] for k, v in runs.items()}
        print(
            f"pytest {version} start-up, trivial suite, {args.runs} rounds of alternating runs"
            f" (PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r},"
            f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        )
        print(f"  plugins auto-loaded, absent:    {run(absent, '-c', PLUGINS).strip()}")
        print(f"  plugins auto-loaded, installed: {run(installed, '-c', PLUGINS).strip()}")
        print(f"  {'median [quartiles]':32} {'wall':>32} {'cpu':>32}")
        for name, label in (
            ("absent", "pytest-iris absent (baseline)"),
            ("installed", "pytest-iris installed"),
            ("no-iris", "installed, -p no:iris"),
        ):
            print(f"  {label:32} {spread(wall[name]):>32} {spread(cpu[name]):>32}")
        costs: dict[str, float] = {}
        for label, a, b in (
            ("plugin's own share", "installed", "no-iris"),
            ("cost of installing pytest-iris", "installed", "absent"),
        ):
            dwall = [x - y for x, y in zip(wall[a], wall[b], strict=True)]
            dcpu = [x - y for x, y in zip(cpu[a], cpu[b], strict=True)]
            costs[label] = statistics.median(dcpu) * 1000
            print(f"  {label:32} {spread(dwall):>32} {spread(dcpu):>32}")
        print("  (differences: per round, paired; their median and quartiles)")
        cost = costs["cost of installing pytest-iris"]
        how = "paired CPU differences, median"
        if not args.no_callgrind and shutil.which("valgrind"):
            counts = {name: instructions(python[name], suite, *CONFIGS[name]) for name in CONFIGS}
            base_count = counts["absent"] or 1
            # the fastest baseline run is the least disturbed one; its CPU time also holds
            # the kernel's share (exec, page faults), so the figure errs on the high side
            per_ms = base_count / (min(cpu["absent"]) * 1000)
            print(
                "  instructions (callgrind, one run each: the same on a busy machine),"
                f" at {per_ms / 1e6:.2f} M per ms (the fastest baseline run):"
            )
            for name, count in counts.items():
                extra = (count or 0) - base_count
                print(
                    f"    {name:14} {(count or 0) / 1e6:8.1f} M  {extra / 1e6:+7.1f} M"
                    f"  {extra / base_count:+6.1%}  ~{extra / per_ms:+5.1f} ms"
                )
            cost = ((counts["installed"] or 0) - base_count) / per_ms
            how = "instructions"
        verdict = "ok" if cost <= TARGET_MS else "OVER TARGET"
        print(
            f"  target: installing adds <= {TARGET_MS:.0f} ms (CPU): {cost:.1f} ms {verdict}"
            f" (judged on the {how})"
        )


if __name__ == "__main__":
    main()
