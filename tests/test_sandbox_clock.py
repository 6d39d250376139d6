"""One clock: what the sandbox writes is dated by the host clock, never by the real one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from pytest_iris.models import RemediationCommand
from pytest_iris.sandbox import SandboxHost
from pytest_iris.tools.dispatch import Dispatcher


def test_cpf_backups_are_named_by_the_host_clock(tmp_path: Path) -> None:
    start = datetime(2019, 3, 14, 10, 0, tzinfo=UTC)
    with SandboxHost(tmp_path / "host", start=start) as host:
        host.advance(2 * 86400)  # scenarios move the clock: two days later
        day = host.now().strftime("%Y%m%d")
        assert day == "20190316" != datetime.now().strftime("%Y%m%d")
        command = RemediationCommand(
            tool="cpf",
            action="set",
            parameters={"path": "/usr/irissys/iris.cpf", "changes": {"globals": "0,0,256,0,0,0"}},
            dry_run=False,
        )
        result = asyncio.run(Dispatcher.for_sandbox(host).dispatch(command))
        assert result.status == "success", result
        backups = sorted(p.name for p in host.install_dir.glob("iris.cpf_*"))
        assert backups and all(name.startswith(f"iris.cpf_{day}") for name in backups), backups


def test_process_start_times_come_from_the_host_clock(tmp_path: Path) -> None:
    import psutil

    with SandboxHost(tmp_path / "host") as host:
        host.advance(3600)
        host.iris("stop", "IRIS", "quietly")
        host.iris("start", "IRIS", "quietly")
        control = host.pids()["control"][0]
        with host.procfs():
            started = psutil.Process(control).create_time()
        assert abs(started - host.clock()) < 5
