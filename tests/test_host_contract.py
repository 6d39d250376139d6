"""One contract, two hosts: the fake ``SandboxHost`` and the live ``LiveSandbox`` answer alike.

Every test here takes ``host`` and runs once per implementation of
:class:`pytest_iris.host.Host` (as pyfakefs runs its tests on the fake and
the real file system). The live parameter skips, with the reason, where
Linux namespaces are not permitted.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pytest_iris.host import Host
from pytest_iris.sandbox import LiveSandbox, SandboxHost, namespaces_available
from pytest_iris.sandbox.procview import unavailable


@pytest.fixture(params=["fake", "live"])
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Host]:
    if request.param == "fake":
        with SandboxHost(tmp_path / "fake", users=1) as fake:
            yield fake
        return
    reason = namespaces_available()
    if reason:
        pytest.skip(f"live host needs Linux namespaces: {reason}")
    with LiveSandbox(tmp_path / "live", users=1) as live:
        yield live


def test_both_hosts_implement_the_protocol(host: Host) -> None:
    assert isinstance(host, Host)
    assert host.cpf_path.is_file()
    assert host.messages_log.is_file()
    assert host.env["PATH"].split(":")[0] == str(host.bin_dir)


def test_a_running_instance_has_its_irisdb_processes(host: Host) -> None:
    assert host.status() == "running"
    assert host.health() == "ok"
    roles = host.pids()
    processes = host.processes()
    (control,) = roles["control"]
    assert processes[control] == ("irisdb", "control")
    assert roles["write_daemon"] and roles["superserver"]
    assert {1972, 52773} <= set(host.listening())


def test_stop_and_start_change_status_pids_and_log(host: Host) -> None:
    before = host.snapshot()
    out = host.iris("stop", host.instance_name, "quietly")
    assert (out.status, out.stdout) == (0, "")
    assert host.status() == "down"
    assert "control" not in host.pids()
    assert 1972 not in host.listening()
    out = host.iris("start", host.instance_name, "quietly")
    assert out.status == 0, out.stdout + out.stderr
    change = host.snapshot() - before
    assert change.status is None  # running again
    assert before.processes.keys() & change.stopped.keys()
    assert any(role == "control" for _, role in change.started.values())
    assert change.new_log_lines


def test_sysctl_reads_and_writes_the_hosts_kernel(host: Host) -> None:
    host.set_sysctl("kernel.shmmax", 123456789)
    assert host.read_sysctl("kernel.shmmax") == "123456789"
    out = host.sysctl("-n", "kernel.shmmax")
    assert (out.status, out.stdout) == (0, "123456789\n")
    assert host.snapshot().kernel["kernel.shmmax"] == "123456789"


def test_clients_connect_and_log_off(host: Host) -> None:
    assert host.connections() == 1
    host.connect(2)
    assert host.connections() == 3
    assert len(host.pids()["user_job"]) == 3
    assert host.disconnect() == 3
    assert host.connections() == 0
    assert "user_job" not in host.pids()


def test_the_clock_moves_only_when_advanced(host: Host) -> None:
    start = host.clock()
    assert host.clock() == start
    host.advance(90.5)
    assert host.clock() == pytest.approx(start + 90.5)
    assert host.now().timestamp() == pytest.approx(start + 90.5)


def test_psutil_sees_the_hosts_processes_and_connections(host: Host) -> None:
    host.refresh_procfs()
    (control,) = host.pids()["control"]
    with host.procfs():
        assert control in psutil.pids()
        assert psutil.Process(control).name() == "irisdb"
        established = [
            c
            for c in psutil.net_connections("tcp")
            if c.status == "ESTABLISHED" and c.laddr.port == 1972
        ]
    assert len(established) == 1


def test_a_killed_job_is_gone(host: Host) -> None:
    (job,) = host.pids()["user_job"]
    host.signal(job, signal.SIGKILL)
    # a real process ends when the kernel has delivered the signal: poll, generous deadline
    deadline = time.monotonic() + 30
    while job in host.processes() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job not in host.processes()


def test_real_ps_reads_the_hosts_proc(host: Host) -> None:
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    done = host.run_with_procfs(["ps", "-eo", "pid,comm"])
    assert done.returncode == 0, done.stderr
    rows = {int(line.split()[0]): line.split()[1] for line in done.stdout.splitlines()[1:]}
    control = host.pids()["control"][0]
    if isinstance(host, LiveSandbox):
        # inside the namespaces ps shows the namespace's own pids: match by name
        assert "irisdb" in rows.values()
    else:
        assert rows[control] == "irisdb"


def test_run_with_procfs_refuses_commands_that_reach_the_real_host(host: Host) -> None:
    from pytest_iris.errors import SandboxError

    with pytest.raises(SandboxError, match="'iris' acts beyond /proc"):
        host.run_with_procfs(["iris", "list"])
