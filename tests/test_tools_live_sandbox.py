"""The tools in the live sandbox: real processes, sockets and ``sysctl`` in namespaces.

The real ``kernel.shmmax`` of the namespace's IPC namespace decides whether
``iris start`` gets its shared memory (a real ``shmget``); the kernel tool
raises it with the real ``sysctl`` (through the sandbox's ``nsenter``), and
the restart tool counts real client sockets. Skips where namespaces are not
permitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_iris.models import RemediationCommand, ToolResult, ToolStatus
from pytest_iris.sandbox import live
from pytest_iris.tools.dispatch import Dispatcher


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Any]:
    reason = live.namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    with live.LiveSandbox(
        tmp_path / "live",
        running=False,
        kernel={"kernel.shmmax": 33554432},
        cpf={"config": {"globals": "0,0,256,0,0,0"}},
    ) as sandbox:
        yield sandbox


def run(dispatcher: Dispatcher, tool: str, action: str, **parameters: object) -> ToolResult:
    return dispatcher.dispatch_sync(
        RemediationCommand(tool=tool, action=action, parameters=parameters, dry_run=False)  # type: ignore[arg-type]
    )


def test_real_shmmax_fix_then_start_then_busy_restart_refused(host: Any) -> None:
    d = Dispatcher.for_sandbox(host)
    failed = run(d, "restart", "start")
    assert failed.status is ToolStatus.FAILURE, failed.message
    assert host.status() == "down"

    kernel = run(d, "kernel", "apply")
    assert kernel.status is ToolStatus.SUCCESS, kernel.message
    shmmax = int(host.read_sysctl("kernel.shmmax"))  # the namespace's real kernel value
    assert shmmax == kernel.changes[0].after > 33554432

    # vm.nr_hugepages is not namespaced: the live sandbox refuses it as the kernel would
    huge = run(d, "kernel", "apply", shared_memory_mb=300, huge_pages=True)
    assert huge.status is ToolStatus.FAILURE
    assert huge.details["commands"] == ["sudo sysctl -w vm.nr_hugepages=151"]
    assert 'permission denied on key "vm.nr_hugepages"' in huge.message

    started = run(d, "restart", "start")
    assert started.status is ToolStatus.SUCCESS, started.message
    assert any("Allocated" in line for line in started.confirmations)
    assert started.details["pids_after"]

    host.connect(users=1)
    refused = run(d, "restart", "restart")
    assert refused.status is ToolStatus.FAILURE
    assert "1 client connection established" in refused.message
    assert host.status() == "running"

    forced = run(d, "restart", "restart", force=True)
    assert forced.status is ToolStatus.SUCCESS, forced.message
    before, after = forced.details["pids_before"], forced.details["pids_after"]
    assert after
    assert not set(before) & set(after)
