"""What the remediation tools cost, each against a bare baseline in the same process.

- kernel plan: ``KernelTool.plan`` (read five tunables and meminfo, plan)
  against reading the same six files with ``Path.read_text``.
- dispatch: ``await Dispatcher.dispatch`` of a kernel ``plan`` command in a
  running loop (validation, trace, a shared worker thread under
  ``wait_for``, two events), and ``dispatch_sync`` from plain code, against
  calling ``KernelTool.plan`` + dry-run ``apply`` directly. Target 0.5x.
- events: one ``get_logger().info`` JSON event inside a trace against
  writing the same line by hand (dict with level, timestamp and trace id,
  ``json.dumps``, write + flush). Target 0.5x (pytest-iris's own).

Figure and baseline alternate batch by batch, and each prints the median
of its batches, so a busy machine slows both alike; each ratio is given by
wall clock (judged against the target) and by CPU time (the process's,
worker threads included).
- connections: ``RestartTool.connections()`` on a sandbox procfs against
  ``psutil.net_connections`` on the same tree (skipped without the sandbox).

    python bench/tools.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pytest_iris import logging as iris_logging
from pytest_iris.logging import get_logger
from pytest_iris.models import RemediationCommand
from pytest_iris.tools.dispatch import Dispatcher
from pytest_iris.tools.kernel import KernelTool
from pytest_iris.tracing import current_trace_id, trace

TUNABLES = {
    "kernel/shmmax": "33554432",
    "kernel/shmall": "2097152",
    "kernel/sem": "32000\t1024000000\t500\t32000",
    "kernel/msgmni": "32000",
    "vm/nr_hugepages": "0",
}


def rates(
    runs: int, n: int, work: Callable[[], object], base: Callable[[], object], per: int = 1
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median calls/s of ``work`` and ``base`` (each call does ``per``): by wall clock, by CPU.

    Batches of ``n`` alternate, so a load that comes and goes slows both alike.
    The targets judge the wall clock, the throughput a caller sees; the CPU
    figure (this process's, every thread counted) is printed beside it. For
    the async dispatch it is the lower one: its worker thread runs on the
    other core with cold caches, and both threads' time counts.
    """
    wall: tuple[list[float], list[float]] = ([], [])
    cpu: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for index, fn in enumerate((work, base)):
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            cpu[index].append(time.process_time() - start_cpu)
            wall[index].append(time.perf_counter() - start)
    return (
        (n * per / statistics.median(wall[0]), n * per / statistics.median(wall[1])),
        (n * per / statistics.median(cpu[0]), n * per / statistics.median(cpu[1])),
    )


def show(
    name: str,
    figures: tuple[tuple[float, float], tuple[float, float]],
    target: float | None = None,
) -> None:
    (figure, baseline), (figure_cpu, baseline_cpu) = figures
    ratio, ratio_cpu = figure / baseline, figure_cpu / baseline_cpu
    goal = (
        ""
        if target is None
        else f"   target >= {target:.2f}x (wall) {'ok' if ratio >= target else 'BELOW'}"
    )
    print(
        f"{name:<31} {figure:>9,.0f}/s  baseline {baseline:>9,.0f}/s  wall {ratio:.2f}x"
        f"  cpu {ratio_cpu:.2f}x{goal}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    iris_logging.configure(level="info", stream=io.StringIO())  # render, keep off the terminal

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "host"
        for key, value in TUNABLES.items():
            (root / "proc/sys" / key).parent.mkdir(parents=True, exist_ok=True)
            (root / "proc/sys" / key).write_text(value + "\n")
        (root / "proc/meminfo").write_text("MemTotal: 16303420 kB\nHugepagesize: 2048 kB\n")
        files = [root / "proc/sys" / key for key in TUNABLES] + [root / "proc/meminfo"]
        tool = KernelTool(root / "proc")

        def read_files() -> None:
            for path in files:
                path.read_text()

        show("kernel plan", rates(args.runs, 2000, lambda: tool.plan(495), read_files))

        dispatcher = Dispatcher(root)
        command = RemediationCommand(
            tool="kernel", action="plan", parameters={"shared_memory_mb": 495}
        )

        def direct() -> None:
            tool.apply(tool.plan(495))

        async def in_loop(n: int) -> None:
            for _ in range(n):
                await dispatcher.dispatch(command)

        loop = asyncio.new_event_loop()
        try:
            show("dispatch kernel plan (async)",
                 rates(args.runs, 1, lambda: loop.run_until_complete(in_loop(200)),
                       lambda: [direct() for _ in range(200)], per=200), target=0.5)  # fmt: skip
        finally:
            loop.close()
        show("dispatch_sync kernel plan",
             rates(args.runs, 200, lambda: dispatcher.dispatch_sync(command), direct), target=0.5)  # fmt: skip

        log = get_logger("bench")
        fields = {"key": "kernel.shmmax", "value": 535822336, "returncode": 0}
        sink = io.StringIO()

        def by_hand() -> None:
            line = {"logger_name": "bench", **fields, "event": "kernel.sysctl", "level": "info",
                    "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "trace_id": current_trace_id()}  # fmt: skip
            sink.write(json.dumps(line, default=str) + "\n")
            sink.flush()

        with trace():
            show("structlog JSON event", rates(args.runs, 20000,
                 lambda: log.info("kernel.sysctl", **fields), by_hand), target=0.5)  # fmt: skip

        try:
            from pytest_iris.sandbox.host import SandboxHost
        except ImportError:
            print("connections                     skipped: sandbox part not installed")
            return
        import psutil

        from pytest_iris.tools._procs import procfs
        from pytest_iris.tools.restart import RestartTool

        host = SandboxHost(Path(tmp) / "sandbox", users=20, web_users=5).build()
        restart = RestartTool("IRIS", procfs_path=host.proc, env=host.env)

        def bare() -> None:
            with procfs(host.proc):
                psutil.net_connections(kind="tcp")

        show("restart connections (25 users)", rates(args.runs, 50, restart.connections, bare))


if __name__ == "__main__":
    main()
