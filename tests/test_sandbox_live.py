"""The live sandbox: real processes, sockets, shmget and sysctl inside namespaces.

Skipped, with the reason, where the machine does not permit namespaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pytest_iris.sandbox import LiveSandbox, namespaces_available
from pytest_iris.tools.cpf import shared_memory_plan

GB = 1024**3


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveSandbox]:
    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    with LiveSandbox(tmp_path / "live", users=2, kernel={"kernel.shmmax": 2 * GB}) as host:
        yield host


def test_real_sysctl_changes_only_the_namespace(live: LiveSandbox) -> None:
    real_before = Path("/proc/sys/kernel/shmmax").read_text()
    assert live.read_sysctl("kernel.shmmax") == str(2 * GB)
    out = live.run(["sysctl", "-w", "kernel.shmmax=68719476736"])
    assert (out.returncode, out.stdout) == (0, "kernel.shmmax = 68719476736\n")
    assert live.read_sysctl("kernel.shmmax") == "68719476736"
    via_sudo = live.run(["sudo", "-n", "sysctl", "-w", "kernel.shmmni=8192"])
    assert (via_sudo.returncode, via_sudo.stdout) == (0, "kernel.shmmni = 8192\n")
    assert Path("/proc/sys/kernel/shmmax").read_text() == real_before
    # vm.nr_hugepages is not namespaced: the namespace's root may not touch the host's
    real_huge = Path("/proc/sys/vm/nr_hugepages").read_text()
    denied = live.sysctl("-w", f"vm.nr_hugepages={int(real_huge) + 1}")
    assert (denied.status, denied.stderr) == (
        1,
        'sysctl: permission denied on key "vm.nr_hugepages"\n',
    )
    assert Path("/proc/sys/vm/nr_hugepages").read_text() == real_huge


def test_stop_ends_real_processes_and_closes_real_sockets(live: LiveSandbox) -> None:
    assert live.connections() == 2
    jobs = live.pids()["user_job"]
    out = live.run(["iris", "stop", "IRIS", "quietly"])
    assert out.returncode == 0, out.stderr
    assert live.connections() == 0
    with live.procfs():
        assert not any(psutil.pid_exists(pid) for pid in jobs)
        listening = {
            c.laddr.port for c in psutil.net_connections("inet") if c.status == psutil.CONN_LISTEN
        }
    assert listening == {2188}
    # the real clean-shutdown entry (docs/sources/messages_real.log line 137); no real
    # shutdown line counts the users it cut off
    assert "Journal restore not required at next startup" in live.log_text()


def test_snapshots_of_the_live_host(live: LiveSandbox) -> None:
    before = live.snapshot()
    assert before.listening == (1972, 2188, 52773) and before.connections == 2
    assert before.kernel["kernel.shmmax"] == str(2 * GB)
    assert live.run(["iris", "stop", "IRIS", "quietly", "restart"]).returncode == 0
    change = live.snapshot() - before
    assert change.status is None and change.connections == (2, 0)
    assert {role for _, role in change.stopped.values()} >= {"control", "user_job", "superserver"}
    assert {comm for comm, _ in change.started.values()} == {"irisdb", "httpd"}
    assert any(line.endswith("Enabling logons") for line in change.new_log_lines)


def test_real_shmget_decides_startup(live: LiveSandbox) -> None:
    plan = shared_memory_plan(live.cpf_path, live._ram)
    assert live.run(["iris", "stop", "IRIS", "quietly"]).returncode == 0
    live.sysctl("-w", f"kernel.shmmax={32 * 1024**2}")
    failed = live.run(["iris", "start", "IRIS"])
    assert failed.returncode == 1
    assert failed.stdout.endswith(
        "An error was detected during InterSystems IRIS startup.\n** Startup aborted **\n"
    )
    assert "irisdb" not in {
        p.name() for group in live.pids().values() for p in map(psutil.Process, group)
    }

    live.sysctl("-w", f"kernel.shmmax={plan.total_bytes}")
    started = live.run(["iris", "start", "IRIS"])
    assert started.returncode == 0, started.stdout
    total = int(re.search(r"Allocated (\d+)MB shared memory\n", started.stdout).group(1))  # type: ignore[union-attr]
    # the console shows globals and routines only (commands.md §3.1); messages.log the breakdown
    assert re.search(r"\n\d+MB global buffers, \d+MB routine buffers\n", started.stdout)
    parts = re.search(r"\] (\d+)MB global buffers, (\d+)MB routine buffers, (\d+)MB journal buffers, (\d+)MB buffer "
                      r"descriptors, (\d+)MB heap, (\d+)MB ECP, (\d+)MB miscellaneous\n", live.log_text())  # fmt: skip
    assert parts is not None and 0 <= total - sum(int(n) for n in parts.groups()) <= 2
    assert total == plan.total_mb
    with live.procfs():
        control = psutil.Process(live.pids()["control"][0])
        assert control.name() == "irisdb"
        assert {c.name() for c in control.children()} == {"irisdb", "httpd"}


@pytest.mark.iris_host(users=1, web_users=1)
def test_the_fixture_and_marker(iris_live_sandbox: LiveSandbox) -> None:
    assert iris_live_sandbox.connections() == 2
    assert iris_live_sandbox.status() == "running"


def test_non_ipc_tunables_are_refused(tmp_path: Path) -> None:
    from pytest_iris.errors import SandboxError

    with pytest.raises(SandboxError, match="IPC-namespace"):
        LiveSandbox(tmp_path / "x", kernel={"vm.nr_hugepages": 10})


def test_without_namespaces_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_iris.sandbox import live

    monkeypatch.setenv("PATH", "/nonexistent")
    reason = live.namespaces_available.__wrapped__()
    assert reason == "unshare/nsenter (util-linux) not installed"
