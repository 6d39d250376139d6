"""What installing pytest-iris costs a pytest suite that never uses it.

Builds the wheel of this checkout, then two fresh virtual environments in a
temporary directory:

* ``absent``    - pytest alone, at the version the wheel resolves to;
* ``installed`` - the pytest-iris wheel and its dependencies (no extras).

A trivial one-test suite runs in fresh interpreters, alternating the two,
and the script prints the medians of wall-clock and CPU time and their
difference against the target (installing pytest-iris adds at most 30 ms;
judged on CPU time, which a busy machine disturbs far less than wall time). It also lists the pytest
plugins each environment auto-loads, and times ``-p no:iris`` in the
``installed`` environment so that the plugin's own share is visible beside
what its dependencies' plugins (anyio, Faker when installed) add.

    python bench/startup.py [--runs N] [--keep DIR]

pip installs from the package index configured for pip (and its cache);
nothing else is fetched.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--keep", type=Path, help="build the environments here and keep them")
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
        for python in (absent, installed, installed):  # warm the OS caches
            pytest_run(python, suite)
        runs: dict[str, list[tuple[float, float]]] = {"absent": [], "installed": [], "no-iris": []}
        for _ in range(args.runs):
            runs["absent"].append(pytest_run(absent, suite))
            runs["installed"].append(pytest_run(installed, suite))
            runs["no-iris"].append(pytest_run(installed, suite, "-p", "no:iris"))
        wall = {k: statistics.median(w for w, _ in v) * 1000 for k, v in runs.items()}
        cpu = {k: statistics.median(c for _, c in v) * 1000 for k, v in runs.items()}
        print(
            f"pytest {version} start-up, trivial suite, median of {args.runs} alternating runs"
            f" (PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})"
        )
        print(f"  plugins auto-loaded, absent:    {run(absent, '-c', PLUGINS).strip()}")
        print(f"  plugins auto-loaded, installed: {run(installed, '-c', PLUGINS).strip()}")
        print(f"  {'':32} {'wall':>9} {'cpu':>9}")
        for name, label in (
            ("absent", "pytest-iris absent (baseline)"),
            ("installed", "pytest-iris installed"),
            ("no-iris", "installed, -p no:iris"),
        ):
            print(f"  {label:32} {wall[name]:6.1f} ms {cpu[name]:6.1f} ms")
        for label, a, b in (
            ("plugin's own share", "installed", "no-iris"),
            ("cost of installing pytest-iris", "installed", "absent"),
        ):
            print(f"  {label:32} {wall[a] - wall[b]:6.1f} ms {cpu[a] - cpu[b]:6.1f} ms")
        cost = cpu["installed"] - cpu["absent"]
        verdict = "ok" if cost <= TARGET_MS else "OVER TARGET"
        # CPU time: on a loaded machine wall time mostly measures the other processes
        print(f"  target: installing adds <= {TARGET_MS:.0f} ms (CPU): {cost:.1f} ms {verdict}")


if __name__ == "__main__":
    main()
