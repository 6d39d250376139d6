"""How-to: the sandbox's ``iris`` command per IRIS version, and recovery after ``iris force``.

The same two tests as the README's *The `iris` command* example.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import psutil
import pytest

from pytest_iris import ContainmentError
from pytest_iris.host import Host
from pytest_iris.log import read_log
from pytest_iris.sandbox import SandboxHost


@pytest.mark.iris_host(version="2020.4", cpf={"config": {"globals": "0,0,0,0,0,0"}})
def test_a_2020_console(iris_sandbox: SandboxHost) -> None:
    out = iris_sandbox.run(["iris", "stop", "IRIS", "restart"]).stdout
    assert "Automatically configuring buffers\n" in out
    assert "MB shared memory: " in out and "Copyright (c) 1986-2020" in out


def test_force_then_start_recovers_the_wij(iris_sandbox: SandboxHost) -> None:
    iris_sandbox.run(["iris", "force", "IRIS"])
    assert "1 alert(s)" in iris_sandbox.run(["iris", "start", "IRIS"]).stdout
    kinds = [item.kind for item in read_log(iris_sandbox.messages_log)]
    assert "wij-recovery" in kinds and "problem" not in kinds


GB = 1024**3


@pytest.mark.iris_host(kernel={"kernel.shmmax": 3 * GB // 2}, user="irisowner", users=2)
def test_globals_raised_past_shmmax(iris_sandbox):
    host = iris_sandbox
    control = host.pids()["control"][0]
    assert {p.name() for p in psutil.Process(control).children()} == {"irisdb", "httpd"}
    assert host.connections() == 2

    before = host.snapshot()
    host.run(["iris", "merge", "IRIS", "/dev/stdin"], input="[config]\nglobals=0,0,4096,0,0,0\n")
    assert host.run(["iris", "stop", "IRIS", "quietly"]).returncode == 0
    failed = host.run(["iris", "start", "IRIS", "quietly"])
    assert failed.returncode == 1
    assert failed.stdout.endswith("** Startup aborted **\n")

    denied = host.run(["sysctl", "-w", "kernel.shmmax=8589934592"])
    assert denied.stderr == 'sysctl: permission denied on key "kernel.shmmax"\n'
    assert host.run(["sudo", "-n", "sysctl", "-w", "kernel.shmmax=8589934592"]).returncode == 0
    assert host.run(["iris", "start", "IRIS"]).returncode == 0

    change = host.snapshot() - before
    assert change.kernel["kernel.shmmax"][1] == "8589934592"
    assert change.cpf["config.globals"] == ("0,0,600,0,0,0", "0,0,4096,0,0,0")
    assert any("4096MB global buffers" in line for line in change.new_log_lines)
    assert change.connections == (2, 0)  # the users were forced off by the stop


def test_a_sandbox_host_without_pytest():
    with tempfile.TemporaryDirectory() as tmp, SandboxHost(Path(tmp) / "host", users=1) as host:
        assert host.run(["iris", "qlist"]).stdout.split("^")[3].startswith("running, since ")
        assert "Configuration 'IRIS'   (default)" in host.iris("list").stdout
        with pytest.raises(ContainmentError, match=r"run it with env=host\.env"):
            subprocess.run(["sysctl", "-n", "kernel.shmmax"])  # the real one: refused
        out = host.sysctl("-w", "vm.nr_hugepages=600")  # the sandbox's, as root
        assert out.stdout == "vm.nr_hugepages = 600\n"
        assert "HugePages_Total:     600" in (host.proc / "meminfo").read_text()


def busy(host: Host) -> bool:
    return host.status() == "running" and host.connections() > 0


@pytest.mark.iris_host(users=2)
def test_code_written_against_the_host_protocol(iris_sandbox):
    assert isinstance(iris_sandbox, Host)
    assert busy(iris_sandbox)


@pytest.mark.iris_host(users=2)
def test_the_same_code_on_real_processes(iris_live_sandbox):
    assert isinstance(iris_live_sandbox, Host)
    assert busy(iris_live_sandbox)  # two real client connections to the namespace's 1972
    iris_live_sandbox.iris("stop", "IRIS", "quietly")
    assert not busy(iris_live_sandbox)


def test_ps_sees_the_instance(iris_sandbox):
    out = iris_sandbox.run_with_procfs(["pgrep", "-a", "irisdb"]).stdout
    assert len(out.splitlines()) == sum(
        1 for c, _ in iris_sandbox.processes().values() if c == "irisdb"
    )
