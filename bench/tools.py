"""What the remediation tools cost, each against a bare baseline in the same process.

- kernel plan: ``KernelTool.plan`` (read five tunables and meminfo, plan)
  against reading the same six files with ``Path.read_text``.
- dispatch: ``Dispatcher.dispatch_sync`` of a kernel ``plan`` command
  (validation, trace, ``asyncio.run`` + ``to_thread`` + ``wait_for``, events)
  against calling ``KernelTool.plan`` + dry-run ``apply`` directly.
- events: one ``get_logger().info`` JSON event (trace id, timestamp, capture,
  render) against ``json.dumps`` of the same dict.
- connections: ``RestartTool.connections()`` on a sandbox procfs against
  ``psutil.net_connections`` on the same tree (skipped without the sandbox).

    python bench/tools.py [--runs N]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pytest_iris import logging as iris_logging
from pytest_iris.logging import get_logger
from pytest_iris.models import RemediationCommand
from pytest_iris.tools.dispatch import Dispatcher
from pytest_iris.tools.kernel import KernelTool

TUNABLES = {
    "kernel/shmmax": "33554432",
    "kernel/shmall": "2097152",
    "kernel/sem": "32000\t1024000000\t500\t32000",
    "kernel/msgmni": "32000",
    "vm/nr_hugepages": "0",
}


def rate(runs: int, n: int, work: Callable[[], None]) -> float:
    """Median calls per second over ``runs`` batches of ``n`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(n):
            work()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def show(name: str, figure: float, baseline: float, unit: str = "calls/s") -> None:
    print(
        f"{name:<34} {figure:>12,.0f} {unit}   baseline {baseline:>12,.0f}   {figure / baseline:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
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

        show("kernel plan", rate(args.runs, 2000, lambda: tool.plan(495) and None),
             rate(args.runs, 2000, read_files))  # fmt: skip

        dispatcher = Dispatcher(root)
        command = RemediationCommand(
            tool="kernel", action="plan", parameters={"shared_memory_mb": 495}
        )

        def direct() -> None:
            tool.apply(tool.plan(495))

        show("dispatch kernel plan", rate(args.runs, 200, lambda: dispatcher.dispatch_sync(command) and None),
             rate(args.runs, 200, direct))  # fmt: skip

        log = get_logger("bench")
        event = {
            "event": "kernel.sysctl",
            "key": "kernel.shmmax",
            "value": 535822336,
            "returncode": 0,
        }
        show("structlog JSON event", rate(args.runs, 20000, lambda: log.info("kernel.sysctl", **{
            k: v for k, v in event.items() if k != "event"})), rate(args.runs, 20000, lambda: json.dumps(event) and None))  # fmt: skip

        try:
            from pytest_iris.sandbox.host import SandboxHost
        except ImportError:
            print("connections                        skipped: sandbox part not installed")
            return
        import psutil

        from pytest_iris.tools._procs import procfs
        from pytest_iris.tools.restart import RestartTool

        host = SandboxHost(Path(tmp) / "sandbox", users=20, web_users=5).build()
        restart = RestartTool("IRIS", procfs_path=host.proc, env=host.env)

        def bare() -> None:
            with procfs(host.proc):
                psutil.net_connections(kind="tcp")

        show("restart connections (25 users)", rate(args.runs, 50, lambda: restart.connections() and None),
             rate(args.runs, 50, bare))  # fmt: skip


if __name__ == "__main__":
    main()
