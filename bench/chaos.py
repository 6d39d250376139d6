"""Time per built-in chaos scenario, and the scenario suite at ``-n 2`` against ``-n 0``.

Per scenario: wall time of a whole run (sandbox host built, faults injected,
the reference remediator's commands executed through the real tools, checks,
rollbacks, host removed), the median of ``--runs``, beside the baseline of
building and removing the same sandbox host with nothing happening on it.
Then the suite: ``pytest`` collecting the built-in library (ini
``iris_scenarios = builtin``) in a fresh directory, run with ``-n 0`` and
with ``-n 2``, wall time of each in the same run. Then the growth: pytest
over 10, 100 and 1,000 generated variants of a scenario (each its own
sandbox host, faults, reference remediator and checks; what differs is the
fault's time, text and severity and the scenario's seed) at ``-n 0``, ``-n 2``
and ``-n 4``: wall time, time per scenario, and the speed-up over ``-n 0``
of the same size. Pytest's temporary directories go to ``/dev/shm`` when it
exists, so the figure is the plugin's cost rather than the disk's (a sandbox
host is a few hundred small files).

Then the property-based search (``--explore N``, 0 skips it): ``pytest-iris chaos
--explore N`` against the reference remediator, in this process (``-n 0``) and spread
over two pytest-xdist workers (``-n 2``), examples per second of each (same seed, same
generated scenarios; shrinking would count as examples, and none is found).

    python bench/chaos.py [--runs N] [--no-suite] [--sizes 10,100,1000] [--workers 0,2,4]
                          [--explore N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pytest_iris import logging as iris_logging
from pytest_iris.chaos.loader import load_scenario
from pytest_iris.chaos.runner import ScenarioRunner
from pytest_iris.defaults import TOTAL_RAM_MB
from pytest_iris.registry import Registry


def median_s(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def host_only(scenario: object, root: Path) -> None:
    """The baseline: the same starting host built and removed, nothing injected."""
    from pytest_iris.sandbox import SandboxHost

    spec = scenario.host  # type: ignore[attr-defined]
    host = SandboxHost(
        root,
        running=spec.instance == "running",
        cpf={s: dict(v) for s, v in spec.cpf.items()},
        kernel={str(k): v for k, v in spec.kernel.items()},
        users=spec.users,
        total_ram_mb=spec.total_ram_mb or TOTAL_RAM_MB,
    )
    with host:
        pass
    shutil.rmtree(root)


def suite_wall_s(workers: str) -> float:
    with tempfile.TemporaryDirectory(prefix="iris-chaos-suite-") as tmp:
        Path(tmp, "pytest.ini").write_text("[pytest]\niris_scenarios =\n    builtin\n")
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"suite with -n {workers} failed:\n{done.stdout[-3000:]}")
    return wall


VARIANT = """\
name: variant_{n:04d}
seed: {n}
tags: [generated]
faults:
  - at: {at}
    lines: ["{severity} [Utility.Event] generated variant {n}: nothing to remediate"]
expect:
  within_s: 60
  no_tool_calls: [{{tool: restart}}, {{tool: cpf}}]
  instance: running
"""


def growth_wall_s(size: int, workers: str) -> float:
    """Wall time of pytest over ``size`` generated scenario files with ``-n workers``."""
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="iris-chaos-growth-") as tmp:
        for n in range(size):
            text = VARIANT.format(n=n, at=1 + n % 50, severity=n % 2)
            Path(tmp, f"iris_chaos_variant_{n:04d}.yaml").write_text(text)
        base = tempfile.mkdtemp(prefix="iris-chaos-base-", dir=shm if shm.is_dir() else None)
        try:
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers,
                 f"--basetemp={base}"],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=False,
            )  # fmt: skip
            wall = time.perf_counter() - start
        finally:
            shutil.rmtree(base, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"{size} variants with -n {workers} failed:\n{done.stdout[-3000:]}")
    return wall


def growth(sizes: list[int], workers: list[str]) -> None:
    print("\npytest over generated scenario variants (wall s; ms per scenario; x faster than -n 0)")
    print(f"{'scenarios':>9}" + "".join(f"{'-n ' + w:>26}" for w in workers))
    for size in sizes:
        walls = {w: growth_wall_s(size, w) for w in workers}
        serial = walls.get("0")
        cells = []
        for w in workers:
            speed = f" {serial / walls[w]:4.2f}x" if serial else ""
            cells.append(f"{walls[w]:8.1f}s {walls[w] / size * 1000:7.0f}ms{speed:>7}")
        print(f"{size:>9}" + "".join(f"{cell:>26}" for cell in cells), flush=True)


def explore_rates(examples: int) -> None:
    """Examples per second of the search at -n 0 (here) and -n 2 (pytest-xdist), same seed."""
    from pytest_iris.chaos.explore import explore

    started = time.perf_counter()
    done = explore(examples, "rules", seed=5, registry=Registry.standalone())
    serial = time.perf_counter() - started
    if done.found:
        raise SystemExit(f"the reference broke an invariant: {done.found[0].problems}")
    with tempfile.TemporaryDirectory(prefix="iris-explore-bench-") as tmp:
        start = time.perf_counter()
        run = subprocess.run(
            [str(Path(sys.executable).with_name("pytest-iris")), "chaos", "--explore", str(examples),
             "-n", "2", "--seed", "5", "--out", str(Path(tmp) / "found")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        parallel = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"--explore -n 2 failed:\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
    print(f"\nproperty-based search, {examples} generated scenarios, reference remediator")
    print(f"  -n 0: {serial:7.1f}s  {done.examples / serial:6.2f} examples/s")
    print(
        f"  -n 2: {parallel:7.1f}s  {examples / parallel:6.2f} examples/s "
        f"({serial / parallel:.2f}x -n 0; includes pytest and worker start-up)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-suite", action="store_true")
    parser.add_argument("--sizes", default="10,100,1000", help="variant counts (comma list)")
    parser.add_argument("--workers", default="0,2,4", help="-n values (comma list)")
    parser.add_argument("--explore", type=int, default=40, help="search examples (0: skip)")
    parser.add_argument("--only-explore", action="store_true", help="only the search section")
    args = parser.parse_args()
    iris_logging.configure(level="error")
    if args.only_explore:
        explore_rates(args.explore)
        return
    registry = Registry.standalone()
    print(f"{'scenario':32} {'run (ms)':>9} {'host only (ms)':>15} {'ratio':>6}  host time")
    total = 0.0
    for name, path in sorted(registry.scenario_paths.items()):
        scenario = load_scenario(path)
        outcome: dict[str, object] = {}

        def run(scenario: object = scenario, outcome: dict[str, object] = outcome) -> None:
            journal = ScenarioRunner(scenario, registry=registry).run()  # type: ignore[arg-type]
            if not journal.passed:
                raise SystemExit(f"{journal.scenario} failed: {journal.failures}")
            outcome["host_s"] = journal.duration_s

        with tempfile.TemporaryDirectory() as tmp:
            base = median_s(args.runs, lambda s=scenario, t=tmp: host_only(s, Path(t) / "h"))
        full = median_s(args.runs, run)
        total += full
        print(
            f"{name:32} {full * 1000:9.0f} {base * 1000:15.0f} {full / base:6.1f}x"
            f"  {outcome['host_s']:.1f}s simulated"
        )
    print(f"{'all built-ins, one after another':32} {total * 1000:9.0f}")
    if not args.no_suite:
        serial = suite_wall_s("0")
        parallel = suite_wall_s("2")
        print(
            f"\npytest over the built-in library: -n 0 {serial:.1f}s, -n 2 {parallel:.1f}s "
            f"({serial / parallel:.2f}x faster than -n 0; target 1.6x)"
        )
        growth([int(s) for s in args.sizes.split(",")], args.workers.split(","))
    if args.explore:
        explore_rates(args.explore)


if __name__ == "__main__":
    main()
