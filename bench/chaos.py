"""Time per built-in chaos scenario, and the scenario suite at ``-n 2`` against ``-n 0``.

First the breakdown of one built-in scenario (``--breakdown NAME``, default
``huge_pages_insufficient``, the slowest; ``none`` skips it): in this process, after a warm-up
run, where a run's time goes (the host built, or copied from a template of
the same starting host; the faults; the remediator's commands and, within
them, the subprocesses the tools start; the checks; the rollbacks and
teardown; the rest: remediator, log reading, clock); then under pytest
(one item, a conftest timing the hooks): interpreter and plugin start-up,
collection, the item's call, and pytest's own per-item work around it.

Per scenario: wall time of a whole run (sandbox host built, faults injected,
the reference remediator's commands executed through the real tools, checks,
rollbacks, host removed), the median of ``--runs``, beside the baseline of
building and removing the same sandbox host with nothing happening on it
(both under /dev/shm when it exists).
Then the suite: ``pytest`` collecting the built-in library (ini
``iris_scenarios = builtin``) in a fresh directory, run with ``-n 0`` and
with ``-n 2``, wall and CPU time (user + system of the whole process tree,
xdist's workers included) of each in the same run (the median of ``--suite-runs``
alternating pairs: the machine's other load moves both alike), beside the
baseline of a one-test suite at ``-n 0`` and ``-n 2``: what pytest, the plugins
and xdist's workers cost before any scenario runs; then one more run of each
(library and one-test suite, ``-n 0`` and ``-n 2``) with a plugin stamping every
process's phases (process start, configured, collected, first item, items done,
unconfigured, its last exit handler), printed as an accounting of each
process's CPU time per phase beside the one-test suite's (what is pytest's and
xdist's own, what the library adds), the CPU each process spends after its last
exit handler (from what its parent reaped), a model of the best ``-n 2`` can do
on two free cores with those costs (and with pytest-iris's own share of each
process at zero), and the ``-n 2`` run's wall clock per process. Then the growth: pytest
over 10, 100 and 1,000 generated variants of a scenario (each its own
sandbox host, faults, reference remediator and checks; what differs is the
fault's time, text and severity and the scenario's seed) at ``-n 0``, ``-n 2``
and ``-n 4``: wall time, time per scenario, the speed-up over ``-n 0``
of the same size, and the CPU time; the variants' hosts all differ (each its own seed), so no
template is shared there; beside it, 100 variants at ``-n 0`` with one seed
(one starting host: built once, then copied) against the same with their own.
Pytest's temporary directories (``--basetemp``) go
to ``/dev/shm`` when it exists, for the suite and the growth alike, so the
figure is the plugin's cost rather than the disk's (a sandbox host is a few
hundred small files) nor that of pytest pruning the shared ``/tmp/pytest-of-*``.
The pytest runs read and write bytecode in a cache of their own
(``PYTHONPYCACHEPREFIX``, under the temporary directory, filled by a warm-up
run), as an installed wheel has it: with ``PYTHONDONTWRITEBYTECODE=1`` set,
as in this project's shells, an editable install compiles every pytest-iris
module again in every process, each xdist worker included.

The pytest runs (the suite, its baseline, the growth, the one-item breakdown)
use, by default (``--venv fresh``), a fresh virtual environment the script
builds in a temporary directory: the wheel of this checkout with its ``http``
extra (the built-in ``endpoint_down`` scenario sends through the HTTP
transport, which needs httpx) and pytest-xdist, at the pytest and
pytest-xdist versions of this environment. That is what a suite that uses
pytest-iris's chaos scenarios installs; the development environment also
holds Faker, Hypothesis and their pytest plugins, which every pytest process
and xdist worker would load (``--venv current`` runs there instead). The
script prints what the environment auto-loads.

Then the property-based search (``--explore N``, 0 skips it): ``pytest-iris chaos
--explore N`` against the reference remediator, in this process (``-n 0``) and spread
over two pytest-xdist workers (``-n 2``), examples per second of each (same ``--seed``;
``-n 2`` splits the examples into seed ranges, so the scenarios are drawn alike but are
not the same ones; shrinking would count as examples, and none is found).

    python bench/chaos.py [--runs N] [--breakdown NAME] [--no-suite] [--suite-runs N]
                          [--sizes 10,100,1000] [--workers 0,2,4] [--explore N]
                          [--venv fresh|current] [--only-suite] [--only-breakdown]
                          [--only-growth]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def _shm() -> str | None:
    """/dev/shm when the machine has it (memory), else the temporary directory's default."""
    return "/dev/shm" if Path("/dev/shm").is_dir() else None


def _basetemp() -> str:
    """A fresh pytest basetemp, in memory when the machine has /dev/shm."""
    return tempfile.mkdtemp(prefix="iris-chaos-base-", dir=_shm())


#: a bytecode cache of the bench's own for its pytest runs (see the module docstring)
PYCACHE = Path(tempfile.gettempdir()) / "iris-chaos-bench-pycache"


#: the interpreter of the pytest runs: this one, or a fresh environment's (``--venv fresh``)
PYTHON = sys.executable
#: where the pytest runs run, for the headings
WHERE = "this environment"


def fresh_venv(base: Path) -> str:
    """A new virtual environment under ``base``: this checkout's wheel ``[http]`` + pytest-xdist.

    pytest and pytest-xdist at this environment's versions, so that only what is installed
    beside them differs. Returns its interpreter; prints what it holds.
    """
    from importlib.metadata import version

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from startup import PLUGINS, build_wheel, run, venv

    wheel = build_wheel(base / "dist")
    python = venv(
        base / "venv",
        f"{wheel}[http]",
        f"pytest=={version('pytest')}",
        f"pytest-xdist=={version('pytest-xdist')}",
    )
    plugins = run(python, "-c", PLUGINS).strip()
    global WHERE
    WHERE = f"a fresh environment with the wheel[http] and pytest-xdist; plugins: {plugins}"
    print(
        f"pytest runs in a fresh environment: {wheel.name}[http], pytest {version('pytest')}, "
        f"pytest-xdist {version('pytest-xdist')} (pytest plugins auto-loaded: {plugins})\n",
        flush=True,
    )
    return str(python)


def pytest_env() -> dict[str, str]:
    """This environment with bytecode cached under :data:`PYCACHE`, as an installed wheel has it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def pytest_run(cwd: str, workers: str, what: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the workers included) of pytest in ``cwd``."""
    _launched, wall, cpu = _timed_pytest(cwd, workers, what, pytest_env())
    return wall, cpu


def _timed_pytest(
    cwd: str | Path, workers: str, what: str, env: dict[str, str], *args: str
) -> tuple[float, float, float]:
    """Run pytest ``-n workers`` in ``cwd`` with a basetemp of its own (removed after); its
    launch time (``time.time``, for other processes' stamps), wall and CPU seconds (user +
    system, the workers included). A failed run stops the bench, naming ``what``."""
    base = _basetemp()
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        launched = time.time()
        start = time.perf_counter()
        done = subprocess.run(
            [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "-n", workers,
             f"--basetemp={base}"],
            cwd=cwd, capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"{what} with -n {workers} failed:\n{done.stdout[-3000:]}")
    return launched, wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def suite_wall_s(workers: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="iris-chaos-suite-") as tmp:
        Path(tmp, "pytest.ini").write_text("[pytest]\niris_scenarios =\n    builtin\n")
        return pytest_run(tmp, workers, "the built-in library")


def trivial_wall_s(workers: str) -> tuple[float, float]:
    """The baseline: a one-test suite (pytest, the plugins and xdist's workers starting)."""
    with tempfile.TemporaryDirectory(prefix="iris-chaos-trivial-") as tmp:
        Path(tmp, "test_nothing.py").write_text("def test_nothing():\n    pass\n")
        return pytest_run(tmp, workers, "a one-test suite")


def suite(runs: int) -> None:
    """The built-in library at -n 0 and -n 2: medians of alternating runs, beside a one-test suite."""
    results: dict[str, list[tuple[float, float]]] = {"0": [], "2": [], "t0": [], "t2": []}
    suite_wall_s("2")  # warm-up: fills the bytecode cache (and the disk cache) for every run
    load = os.getloadavg()[0]
    for _ in range(runs):
        for workers in ("0", "2"):
            results[workers].append(suite_wall_s(workers))
            results["t" + workers].append(trivial_wall_s(workers))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in results.items()}  # fmt: skip
    s0, s2 = med["0"][0], med["2"][0]
    print(
        f"\npytest over the built-in library (median of {runs} alternating runs; load average "
        f"{load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; in {WHERE}):"
    )
    print(f"{'':34}{'wall -n 0':>10}{'wall -n 2':>10}{'CPU -n 0':>10}{'CPU -n 2':>10}")
    for label, a, b in (
        ("built-in library (9 scenarios)", "0", "2"),
        ("baseline: a one-test suite", "t0", "t2"),
    ):
        print(f"{label:34}{med[a][0]:9.1f}s{med[b][0]:9.1f}s{med[a][1]:9.1f}s{med[b][1]:9.1f}s")
    print(f"  -n 2 is {s0 / s2:.2f}x faster than -n 0 (target 1.6x)")
    t0, t2 = med["t0"][0], med["t2"][0]
    best = t2 + (s0 - t0) / 2
    print(
        f"  at best, if everything the library adds to the one-test suite at -n 0 "
        f"({s0 - t0:.1f}s) split evenly over two workers: {best:.1f}s, {s0 / best:.2f}x"
    )
    print("  runs -n 0: " + ", ".join(f"{w:.1f}s" for w, _ in results["0"]))
    print("  runs -n 2: " + ", ".join(f"{w:.1f}s" for w, _ in results["2"]))


#: a pytest plugin (``-p iris_bench_phases``) appending each process's phases to a file:
#: [pid, role, phase, wall stamp, own CPU s, CPU s of its reaped children]
PHASES_PLUGIN = """\
import atexit, json, os, time
import pytest
FILE = os.environ["IRIS_BENCH_PHASES"]
def mark(what, stamp=None, role="", cpu=None):
    t = os.times()
    own, children = (t.user + t.system, t.children_user + t.children_system) if cpu is None else cpu
    with open(FILE, "a") as fh:
        fh.write(json.dumps([os.getpid(), role, what, time.time() if stamp is None else stamp,
                             own, children]) + "\\n")
def _born():  # this process's start: /proc/self/stat's starttime, in ticks since boot
    with open("/proc/self/stat") as fh:
        ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
    ago = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    return time.time() - ago
mark("start", _born(), cpu=(0.0, 0.0))
mark("loaded")
atexit.register(lambda: mark("exit"))  # registered first: runs after every other handler
def pytest_configure(config):
    worker = getattr(config, "workerinput", None)
    controller = getattr(config.option, "numprocesses", 0) and worker is None
    mark("configured", role=worker["workerid"] if worker else "ctl" if controller else "main")
@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    mark("collected")
FIRST = pytest.StashKey()
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    first = not item.config.stash.get(FIRST, False)
    item.config.stash[FIRST] = True
    if first:
        mark("first item")
    try:
        return (yield)
    finally:
        if first:
            mark("first done")
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    mark("items done")
@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    mark("unconfigured")
"""

#: the accounting's rows: (label, phase it starts at, phase it ends at)
PHASE_ROWS = (
    ("start-up: interpreter, pytest, plugins", "start", "configured"),
    ("session start and collection", "configured", "collected"),
    ("first item (its imports, holder start)", "first item", "first done"),
    ("other items (in-process)", "first done", "items done"),
    ("session end, unconfigure", "items done", "unconfigured"),
    ("exit handlers (holder stop)", "unconfigured", "exit"),
)


def phase_run(
    cwd: Path, workers: str, plugin_dir: str
) -> tuple[dict[str, dict[str, Any]], float, float]:
    """One pytest run stamping each process's phases: per role (``main``, ``ctl``, ``gw0``...)
    its stamps {phase: (wall s since launch, own CPU s, reaped children's CPU s)}, the run's
    wall and the whole tree's CPU."""
    import json

    phases = Path(plugin_dir, f"phases-{cwd.name}-{workers}.jsonl")
    phases.unlink(missing_ok=True)
    env = {**pytest_env(), "IRIS_BENCH_PHASES": str(phases), "PYTHONPATH": plugin_dir}
    launched, wall, tree = _timed_pytest(cwd, workers, cwd.name, env, "-p", "iris_bench_phases")
    by_pid: dict[int, dict[str, Any]] = {}
    for line in phases.read_text().splitlines():
        pid, role, what, stamp, cpu, children = json.loads(line)
        entry = by_pid.setdefault(pid, {"role": "", "stamps": {}})
        entry["role"] = entry["role"] or role
        entry["stamps"][what] = (stamp - launched, cpu, children)
    return {e["role"]: e["stamps"] for e in by_pid.values() if e["role"]}, wall, tree


def _cpu_rows(stamps: dict[str, Any], shutdown: float, *, controller: bool) -> dict[str, float]:
    """CPU s per accounting row of one process (a phase it never reached counts 0; the
    controller's loop while its workers run is its "other items")."""
    rows: dict[str, float] = {}
    for label, first, last in PHASE_ROWS:
        a, b = stamps.get(first), stamps.get(last)
        if first == "first done" and a is None:
            a = stamps.get("collected") or stamps.get("configured")
        rows[label] = b[1] - a[1] if a is not None and b is not None else 0.0
    rows[SHUTDOWN] = shutdown
    # the controller's reaped children are its workers, counted in their own columns
    rows[CHILDREN] = 0.0 if controller else stamps["exit"][2]
    return rows


SHUTDOWN = "interpreter shutdown (after the exit handlers)"
CHILDREN = "their subprocesses (sandbox commands, holder)"


def _shutdowns(roles: dict[str, dict[str, Any]], tree: float) -> dict[str, float]:
    """CPU of each process after its last exit handler, from what its parent reaped: the main
    process's from the tree's total, the workers' (together, shared evenly) from the
    controller's reaped children at its exit."""
    top = "ctl" if "ctl" in roles else "main"
    own, children = roles[top]["exit"][1], roles[top]["exit"][2]
    out = {top: tree - own - children}
    workers = [r for r in roles if r.startswith("gw")]
    if workers:
        reaped = sum(roles[w]["exit"][1] + roles[w]["exit"][2] for w in workers)
        for w in workers:
            out[w] = (children - reaped) / len(workers)
    return out


def accounting(runs_wanted: int = 1) -> None:
    """Where the library's CPU and wall time go at -n 0 and -n 2, per process and phase.

    ``runs_wanted`` runs each (alternating) of the library and of a one-test suite (what
    pytest, its plugins and xdist cost on their own), with a small plugin stamping each
    process's phases (a file append per phase). CPU is what the load moves least: the rows
    are the median CPU seconds of each process, the one-test suite's figure beside each in
    brackets; then the wall-clock path of the last -n 2 run.
    """
    with tempfile.TemporaryDirectory(prefix="iris-chaos-anatomy-") as tmp:
        Path(tmp, "iris_bench_phases.py").write_text(PHASES_PLUGIN)
        library, trivial = Path(tmp, "library"), Path(tmp, "one-test")
        library.mkdir()
        trivial.mkdir()
        Path(library, "pytest.ini").write_text("[pytest]\niris_scenarios =\n    builtin\n")
        Path(trivial, "test_nothing.py").write_text("def test_nothing():\n    pass\n")
        load = os.getloadavg()[0]
        every = [
            {(d.name, w): phase_run(d, w, tmp) for w in ("0", "2") for d in (library, trivial)}
            for _ in range(runs_wanted)
        ]
    print(
        f"\nwhere the CPU goes (median of {runs_wanted} run(s) each; CPU s of each process, the "
        f"one-test suite's figure in brackets; load average {load:.1f} -> "
        f"{os.getloadavg()[0]:.1f}):"
    )
    tables: list[dict[tuple[str, str, str], dict[str, float]]] = []
    for runs in every:
        tables.append({})
        for (suite_name, w), (roles, _wall, tree) in runs.items():
            ends = _shutdowns(roles, tree)
            for role, stamps in roles.items():
                rows = _cpu_rows(stamps, ends[role], controller=role == "ctl")
                tables[-1][(suite_name, w, role)] = rows
    table = {
        key: {label: statistics.median(t[key][label] for t in tables if key in t) for label in rows}
        for key, rows in tables[-1].items()
    }
    workers = sorted(r for (s, w, r) in table if s == "library" and w == "2" and r != "ctl")
    columns = [("0", "main", "-n 0"), ("2", "ctl", "-n 2 ctl")] + [
        ("2", r, f"-n 2 {r}") for r in workers
    ]
    labels = [label for label, _, _ in PHASE_ROWS] + [SHUTDOWN, CHILDREN]
    print(f"{'':48}" + "".join(f"{title:>16}" for _, _, title in columns))
    for label in [*labels, "whole process with its subprocesses"]:
        cells = []
        for w, role, _title in columns:
            lib = table.get(("library", w, role))
            one = table.get(("one-test", w, role))
            if label.startswith("whole"):
                a = sum(lib.values()) if lib else 0.0
                b = sum(one.values()) if one else 0.0
            else:
                a = lib.get(label, 0.0) if lib else 0.0
                b = one.get(label, 0.0) if one else 0.0
            cells.append(f"{a:6.2f} [{b:5.2f}]")
        print(f"{label:48}" + "".join(f"{cell:>16}" for cell in cells))
    runs = every[-1]
    totals = {key: statistics.median(r[key][2] for r in every) for key in runs}
    extra = totals[("library", "2")] - totals[("library", "0")]
    xdist = totals[("one-test", "2")] - totals[("one-test", "0")]
    print(
        f"  whole tree: the library {totals[('library', '0')]:.2f}s of CPU at -n 0, "
        f"{totals[('library', '2')]:.2f}s at -n 2 (+{extra:.2f}s); the one-test suite "
        f"{totals[('one-test', '0')]:.2f}s and {totals[('one-test', '2')]:.2f}s (+{xdist:.2f}s: "
        f"pytest's and xdist's own price of -n 2)"
    )
    model(table, workers)
    _critical_path(runs[("library", "2")][0], runs[("library", "2")][1], runs[("library", "0")][1])


def model(table: dict[tuple[str, str, str], dict[str, float]], workers: list[str]) -> None:
    """The best -n 2 can do on two free cores, from the CPU accounting (CPU as time).

    -n 0 runs start-up, the items and the end one after another. -n 2 first
    runs the controller's start-up, then each worker's start-up and collection
    side by side (xdist hands out items once every worker has collected), each
    worker's first item pays its imports and the holder's start, the rest of
    the items split perfectly, then the workers' end and the controller's.
    """
    start, collect, first, other, end_, exit_ = (label for label, _, _ in PHASE_ROWS)
    main, one = table[("library", "0", "main")], table[("one-test", "0", "main")]
    ctl, gws = table[("library", "2", "ctl")], [table[("library", "2", w)] for w in workers]
    items = len(Registry.standalone().scenario_paths)

    def ending(p: dict[str, float]) -> float:
        return p[end_] + p[exit_] + p[SHUTDOWN]

    first_extra = max(0.0, main[first] - main[other] / max(1, items - 1))
    work = main[first] + main[other] + main[CHILDREN] - first_extra
    t0 = main[start] + main[collect] + first_extra + work + ending(main)
    p2 = ctl[start] + max(g[start] + g[collect] for g in gws)
    e2 = max(ending(g) for g in gws) + ending(ctl)
    t2 = p2 + first_extra + work / len(gws) + e2
    ours_collect = main[collect] - one[collect]
    ours_end = max(0.0, ending(main) - ending(one))
    ours = ours_collect + first_extra + ours_end
    print(
        f"  model (CPU as time on {len(gws)} free cores, a perfect split): -n 0 = start-up "
        f"{main[start]:.2f} + collection {main[collect]:.2f} + the first item's imports and "
        f"holder {first_extra:.2f} + the scenarios' work {work:.2f} + end {ending(main):.2f} = "
        f"{t0:.2f}s;"
    )
    print(
        f"    -n 2 at best = the controller's start-up and a worker's start-up and collection "
        f"{p2:.2f} + a first item's imports {first_extra:.2f} + the work halved "
        f"{work / len(gws):.2f} + the workers' and the controller's end {e2:.2f} = {t2:.2f}s: "
        f"{t0 / t2:.2f}x (target 1.6x)"
    )
    print(
        f"    pytest-iris's own share of each process: collection {ours_collect:.2f} (the chaos "
        f"stack's imports, the scenario files), the first item's imports and holder "
        f"{first_extra:.2f}, end and exit {ours_end:.2f}; if all of it were zero: "
        f"{t0 - ours:.2f}s against {t2 - ours:.2f}s, {(t0 - ours) / (t2 - ours):.2f}x"
    )


def _critical_path(roles: dict[str, dict[str, Any]], wall2: float, wall0: float) -> None:
    """The -n 2 run's wall clock: when each process reached each phase."""
    print(
        f"  wall clock of the -n 2 run (s since launch; -n 0 took {wall0:.2f}s, -n 2 {wall2:.2f}s):"
    )
    for role in sorted(roles, key=lambda r: (r != "ctl", r)):
        stamps = roles[role]
        shown = [
            f"{'workers gone' if role == 'ctl' and what == 'items done' else what} "
            f"{stamps[what][0]:.2f}"
            for what in ("start", "configured", "collected", "first item", "items done",
                         "unconfigured", "exit")
            if what in stamps
        ]  # fmt: skip
        print(f"    {role:4} " + ", ".join(shown))


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


def growth_wall_s(size: int, workers: str, *, one_seed: bool = False) -> tuple[float, float]:
    """Wall and CPU time of pytest over ``size`` generated scenario files with ``-n workers``.

    ``one_seed``: every variant has seed 0, so all start from one host (copied from a template).
    """
    with tempfile.TemporaryDirectory(prefix="iris-chaos-growth-") as tmp:
        for n in range(size):
            text = VARIANT.format(n=n, at=1 + n % 50, severity=n % 2)
            if one_seed:
                text = text.replace(f"seed: {n}\n", "seed: 0\n")
            Path(tmp, f"iris_chaos_variant_{n:04d}.yaml").write_text(text)
        return pytest_run(tmp, workers, f"{size} variants")


def template_effect(size: int, runs: int) -> None:
    """The same variants at -n 0 with one starting host (templates copied) and all distinct:
    medians of alternating runs, wall and CPU."""
    distinct, shared = [], []
    for _ in range(runs):
        distinct.append(growth_wall_s(size, "0"))
        shared.append(growth_wall_s(size, "0", one_seed=True))
    d = [statistics.median(x[i] for x in distinct) for i in (0, 1)]
    o = [statistics.median(x[i] for x in shared) for i in (0, 1)]
    print(
        f"\n{size} variants at -n 0 (median of {runs} alternating runs), hosts all distinct "
        f"(each built): {d[0]:.1f}s wall, {d[1]:.1f}s CPU; one starting host (built once, "
        f"copied): {o[0]:.1f}s wall, {o[1]:.1f}s CPU: {d[0] / o[0]:.2f}x wall, "
        f"{d[1] / o[1]:.2f}x CPU"
    )


def growth(sizes: list[int], workers: list[str]) -> None:
    print(
        "\npytest over generated scenario variants (wall s; ms per scenario; x faster than -n 0;"
        f" CPU s of the whole process tree; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores)"
    )
    print(f"{'scenarios':>9}" + "".join(f"{'-n ' + w:>34}" for w in workers))
    for size in sizes:
        runs = {w: growth_wall_s(size, w) for w in workers}
        serial = runs["0"][0] if "0" in runs else None
        cells = []
        for w in workers:
            wall, cpu = runs[w]
            speed = f" {serial / wall:4.2f}x" if serial else ""
            cells.append(f"{wall:8.1f}s {wall / size * 1000:6.0f}ms{speed:>7} {cpu:6.1f}s")
        print(f"{size:>9}" + "".join(f"{cell:>34}" for cell in cells), flush=True)
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")


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


class Stopwatch:
    """Exclusive time per label of wrapped functions (a nested label's time is its own)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[float]] = []  # [started, time of nested labels]
        self._undo: list[Callable[[], None]] = []

    def _enter(self) -> None:
        self._stack.append([time.perf_counter(), 0.0])

    def _leave(self, label: str) -> None:
        started, nested = self._stack.pop()
        spent = time.perf_counter() - started
        self.seconds[label] = self.seconds.get(label, 0.0) + spent - nested
        self.calls[label] = self.calls.get(label, 0) + 1
        if self._stack:
            self._stack[-1][1] += spent

    def wrap(self, owner: Any, name: str, label: str) -> None:
        import functools
        import inspect

        original = getattr(owner, name)
        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                self._enter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self._leave(label)

            setattr(owner, name, timed_async)
        else:

            @functools.wraps(original)
            def timed(*args: Any, **kwargs: Any) -> Any:
                self._enter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self._leave(label)

            setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()


LABELS = {
    "build": "host built in place",
    "copy": "host copied from its template",
    "open": "open: transport, dispatcher, start-state reads",
    "faults": "faults injected",
    "commands": "remediator's commands: tools in-process",
    "spawn": "  subprocesses the tools start: fork/exec",
    "subprocess": "  subprocesses: running until they exit",
    "checks": "checks (steady state, expectations)",
    "close": "rollbacks and teardown",
}

TIMING_CONFTEST = """\
import atexit, json, os, time
import pytest
T = {"loaded": time.time(), "collect": 0.0, "protocol": 0.0, "call": 0.0}
@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    T["collecting"] = time.time()
    t = time.perf_counter()
    try:
        return (yield)
    finally:
        T["collect"] += time.perf_counter() - t
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    t = time.perf_counter()
    try:
        return (yield)
    finally:
        T["protocol"] += time.perf_counter() - t
        T["ran"] = time.time()
@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    t = time.perf_counter()
    try:
        return (yield)
    finally:
        T["call"] += time.perf_counter() - t
@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter):
    t = time.perf_counter()
    try:
        return (yield)
    finally:
        T["summary"] = time.perf_counter() - t
@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    T["unconfigured"] = time.time()
def _exit():  # registered first of pytest-iris's handlers: runs after them (LIFO)
    T["atexit"] = time.time()
    with open(os.environ["IRIS_BENCH_TIMES"], "w") as fh:
        json.dump(T, fh)
atexit.register(_exit)
"""


def breakdown(name: str, runs: int) -> None:
    """Where one built-in scenario's time goes: in this process, then as one pytest item."""
    import json

    from pytest_iris.chaos.faults import FaultInjector
    from pytest_iris.sandbox import SandboxHost
    from pytest_iris.sandbox.template import HostTemplates, HostTree

    registry = Registry.standalone()
    if name not in registry.scenario_paths:
        raise SystemExit(
            f"--breakdown {name}: no such scenario ({', '.join(registry.scenario_paths)})"
        )
    path = registry.scenario_paths[name]
    scenario = load_scenario(path)
    with tempfile.TemporaryDirectory(dir=_shm()) as tmp:
        templates = HostTemplates(Path(tmp) / "templates")

        def play(n: int, use_templates: bool) -> float:
            runner = ScenarioRunner(
                scenario, registry=registry, root=Path(tmp) / f"run{n}",
                templates=templates if use_templates else None,
            )  # fmt: skip
            start = time.perf_counter()
            journal = runner.run()
            if not journal.passed:
                raise SystemExit(f"{name} failed: {journal.failures}")
            return time.perf_counter() - start

        play(0, True)  # warm-up (imports, caches); the starting host is seen, built in place
        play(-1, True)  # seen again: its template is built (and copied)
        watch = Stopwatch()
        watch.wrap(SandboxHost, "build", LABELS["build"])
        watch.wrap(HostTree, "copy_to", LABELS["copy"])
        watch.wrap(ScenarioRunner, "open", LABELS["open"])
        watch.wrap(FaultInjector, "apply", LABELS["faults"])
        watch.wrap(ScenarioRunner, "dispatch", LABELS["commands"])
        watch.wrap(subprocess.Popen, "__init__", LABELS["spawn"])
        watch.wrap(subprocess.Popen, "communicate", LABELS["subprocess"])
        watch.wrap(ScenarioRunner, "_check", LABELS["checks"])
        watch.wrap(ScenarioRunner, "_probe", LABELS["checks"])
        watch.wrap(ScenarioRunner, "close", LABELS["close"])
        try:
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            built = [play(1 + n, False) for n in range(runs)]
            built_parts = dict(watch.seconds)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            child_cpu = [after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime]
            watch.seconds.clear()
            copied = [play(1 + runs + n, True) for n in range(runs)]
            copied_parts = dict(watch.seconds)
            done = resource.getrusage(resource.RUSAGE_CHILDREN)
            child_cpu.append(done.ru_utime - after.ru_utime + done.ru_stime - after.ru_stime)
            calls = dict(watch.calls)
        finally:
            watch.restore()
    print(f"breakdown of {name}, in this process (mean of {runs} runs after a warm-up; ms)")
    print(f"{'':52} {'host built':>11} {'host copied':>12}")
    for label in LABELS.values():
        a, b = built_parts.get(label, 0.0) / runs, copied_parts.get(label, 0.0) / runs
        count = calls.get(label, 0) / (2 * runs) if label == LABELS["spawn"] else None
        text = f"{label} ({count:g} per run)" if count is not None else label
        print(f"{text:52} {a * 1000:11.1f} {b * 1000:12.1f}")
        if label == LABELS["subprocess"]:  # waiting, or working? their own CPU time says
            cpu_a, cpu_b = (c / runs * 1000 for c in child_cpu)
            print(f"{'    their CPU time (user + system)':52} {cpu_a:11.1f} {cpu_b:12.1f}")
    total_a, total_b = sum(built) / runs, sum(copied) / runs
    rest_a = total_a - sum(built_parts.values()) / runs
    rest_b = total_b - sum(copied_parts.values()) / runs
    print(
        f"{'rest: remediator, log reading, clock moves':52} {rest_a * 1000:11.1f} {rest_b * 1000:12.1f}"
    )
    print(f"{'whole run':52} {total_a * 1000:11.1f} {total_b * 1000:12.1f}")

    with tempfile.TemporaryDirectory(prefix="iris-chaos-one-") as tmp:
        shutil.copy(path, tmp)
        Path(tmp, "conftest.py").write_text(TIMING_CONFTEST)
        times = Path(tmp) / "times.json"
        for _ in range(2):  # the first fills the bytecode cache; the second is reported
            base = _basetemp()
            try:
                launched = time.time()
                start = time.perf_counter()
                done = subprocess.run(
                    [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
                     f"--basetemp={base}"],
                    cwd=tmp, capture_output=True, text=True, check=False,
                    env={**pytest_env(), "IRIS_BENCH_TIMES": str(times)},
                )  # fmt: skip
                wall = time.perf_counter() - start
            finally:
                shutil.rmtree(base, ignore_errors=True)
            if done.returncode != 0:
                raise SystemExit(f"pytest on {name} failed:\n{done.stdout[-3000:]}")
        t = json.loads(times.read_text())
    startup = t["loaded"] - launched
    print(f"\n{name} as one pytest item (-n 0, one process; ms)")
    for label, value in (
        ("interpreter, pytest and plugins start-up", startup),
        ("configure and session start", t["collecting"] - t["loaded"]),
        ("collection (imports, the scenario file read and checked)", t["collect"]),
        ("the item's call (the run above, first in this process)", t["call"]),
        ("pytest's per-item work (setup, teardown, reports)", t["protocol"] - t["call"]),
        ("session end (finish hooks, summary, unconfigure)", t["unconfigured"] - t["ran"]),
        ("  of which the terminal summary", t["summary"]),
        ("exit handlers (the containment holder stops)", t["atexit"] - t["unconfigured"]),
        ("interpreter shutdown and exit", launched + wall - t["atexit"]),
        ("whole pytest process", wall),
    ):
        print(f"{label:56} {value * 1000:9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--breakdown",
        default="huge_pages_insufficient",
        metavar="NAME",
        help="built-in scenario to break down ('none': skip)",
    )
    parser.add_argument("--no-suite", action="store_true")
    parser.add_argument(
        "--suite-runs",
        type=int,
        default=3,
        help="alternating -n 0/-n 2 runs of the built-in library (median)",
    )
    parser.add_argument("--sizes", default="10,100,1000", help="variant counts (comma list)")
    parser.add_argument("--workers", default="0,2,4", help="-n values (comma list)")
    parser.add_argument("--explore", type=int, default=40, help="search examples (0: skip)")
    parser.add_argument("--only-explore", action="store_true", help="only the search section")
    parser.add_argument(
        "--only-breakdown", action="store_true", help="only the breakdown of one scenario"
    )
    parser.add_argument(
        "--only-growth",
        action="store_true",
        help="only the growth table (--sizes at --workers) and the template effect",
    )
    parser.add_argument(
        "--only-suite",
        action="store_true",
        help="only the built-in library at -n 0 and -n 2 beside the one-test suite",
    )
    parser.add_argument(
        "--venv",
        choices=("fresh", "current"),
        default="fresh",
        help="where the pytest runs run: a fresh environment with the wheel[http] and "
        "pytest-xdist (default), or this one",
    )
    args = parser.parse_args()
    iris_logging.configure(level="error")
    if args.only_explore:
        explore_rates(args.explore)
        return
    with tempfile.TemporaryDirectory(prefix="iris-chaos-venv-") as venv_dir:
        global PYTHON
        if args.venv == "fresh" and (args.breakdown != "none" or not args.no_suite):
            PYTHON = fresh_venv(Path(venv_dir))
        if args.only_suite:
            suite(args.suite_runs)
            accounting(args.suite_runs)
            return
        if args.only_growth:
            template_effect(100, args.suite_runs)
            growth([int(s) for s in args.sizes.split(",")], args.workers.split(","))
            return
        if args.only_breakdown:
            breakdown(args.breakdown, args.runs)
            return
        sections(args)


def sections(args: argparse.Namespace) -> None:
    if args.breakdown != "none":
        breakdown(args.breakdown, args.runs)
        print()
    registry = Registry.standalone()
    print(f"{'scenario':32} {'run (ms)':>9} {'host only (ms)':>15} {'ratio':>6}  host time")
    total = 0.0
    for name, path in sorted(registry.scenario_paths.items()):
        scenario = load_scenario(path)
        outcome: dict[str, object] = {}

        def run(
            scenario: object = scenario, outcome: dict[str, object] = outcome, tmp: str = ""
        ) -> None:
            root = tempfile.mkdtemp(dir=tmp)
            journal = ScenarioRunner(scenario, registry=registry, root=root).run()  # type: ignore[arg-type]
            if not journal.passed:
                raise SystemExit(f"{journal.scenario} failed: {journal.failures}")
            outcome["host_s"] = journal.duration_s
            shutil.rmtree(root)

        with tempfile.TemporaryDirectory(dir=_shm()) as tmp:  # both in memory, like pytest's
            base = median_s(args.runs, lambda s=scenario, t=tmp: host_only(s, Path(t) / "h"))
            full = median_s(args.runs, lambda t=tmp: run(tmp=t))  # type: ignore[misc]
        total += full
        print(
            f"{name:32} {full * 1000:9.0f} {base * 1000:15.0f} {full / base:6.1f}x"
            f"  {outcome['host_s']:.1f}s simulated"
        )
    print(f"{'all built-ins, one after another':32} {total * 1000:9.0f}")
    if not args.no_suite:
        suite(args.suite_runs)
        accounting(args.suite_runs)
        template_effect(100, args.suite_runs)
        growth([int(s) for s in args.sizes.split(",")], args.workers.split(","))
    if args.explore:
        explore_rates(args.explore)


if __name__ == "__main__":
    main()
