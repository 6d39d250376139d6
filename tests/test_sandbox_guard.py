"""Escape tests: every way out of the sandbox named in the brief is tried and caught.

Each attempt is made harmless in case the guard ever failed: files are
opened without writing, commands only read (``sysctl -n``, ``--version``),
signals are signal 0. The guard must refuse before any of it happens.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from pytest_iris.errors import ContainmentError
from pytest_iris.sandbox import SandboxHost, guard


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SandboxHost:
    return SandboxHost(tmp_path_factory.mktemp("guard") / "host").build()


@pytest.fixture
def host(built: SandboxHost) -> Iterator[SandboxHost]:
    with built.guard():
        yield built


def _open_append(path: str) -> None:
    with open(path, "a"):
        pass  # never writes


def _os_open(path: str) -> None:
    os.close(os.open(path, os.O_WRONLY))


def _path_open(path: str) -> None:
    with Path(path).open("r+"):
        pass


def _chmod_same(path: str) -> None:
    os.chmod(path, os.stat(path).st_mode & 0o7777)  # the mode it has: harmless if not caught


ESCAPES_BY_FILE: dict[str, Callable[[str], None]] = {
    "open": _open_append,
    "os.open": _os_open,
    "pathlib": _path_open,
    "os.chmod": _chmod_same,
}


@pytest.mark.usefixtures("host")
@pytest.mark.parametrize("how", sorted(ESCAPES_BY_FILE))
@pytest.mark.parametrize(
    "path",
    [
        "/proc/sys/kernel/shmmax",
        "/proc/sys/vm/nr_hugepages",
        "/sys/kernel/mm/transparent_hugepage/enabled",
    ],
)
def test_writing_real_proc_sys_and_sys_is_caught(how: str, path: str) -> None:
    with pytest.raises(ContainmentError, match="would change the real host"):
        ESCAPES_BY_FILE[how](path)


def test_a_symlink_to_proc_sys_is_caught(host: SandboxHost, tmp_path: Path) -> None:
    link = tmp_path / "innocent"
    link.symlink_to("/proc/sys/kernel/shmmax")
    with pytest.raises(ContainmentError, match="/proc/sys/kernel/shmmax"):
        _open_append(str(link))


@pytest.mark.usefixtures("host")
def test_reading_real_proc_sys_is_allowed() -> None:
    assert Path("/proc/sys/kernel/shmmax").read_text().strip().isdigit()


def test_writing_the_sandbox_procfs_is_allowed(host: SandboxHost) -> None:
    (host.proc / "sys/kernel/shmmax").write_text("33554432\n")
    assert host.read_sysctl("kernel.shmmax") == "33554432"


COMMANDS: dict[str, Callable[[], object]] = {
    "subprocess sysctl": lambda: subprocess.run(["sysctl", "-n", "kernel.shmmax"], check=False),
    "subprocess absolute": lambda: subprocess.run(
        ["/usr/sbin/sysctl", "-n", "kernel.shmmax"], check=False
    ),
    "subprocess sudo": lambda: subprocess.run(["sudo", "-n", "true"], check=False),
    "subprocess iris": lambda: subprocess.run(["iris", "list"], check=False),
    "subprocess systemctl": lambda: subprocess.run(["systemctl", "--version"], check=False),
    "subprocess kill": lambda: subprocess.run(["kill", "-0", str(os.getpid())], check=False),
    "shell=True": lambda: subprocess.run(
        "echo x && sysctl -n kernel.shmmax", shell=True, check=False
    ),
    "sh -c with env": lambda: subprocess.run(
        ["sh", "-c", "FOO=1 env sysctl -n kernel.shmmax"], check=False
    ),
    "timeout wrapper": lambda: subprocess.run(
        ["timeout", "5", "sysctl", "-n", "kernel.shmmax"], check=False
    ),
    "os.system": lambda: os.system("true; kill -0 1"),
    "os.posix_spawn": lambda: os.waitpid(
        os.posix_spawn("/usr/sbin/sysctl", ["sysctl", "-n", "kernel.shmmax"], dict(os.environ)), 0
    ),
    "asyncio": lambda: asyncio.run(_async_sysctl()),
    "psutil.Popen": lambda: psutil.Popen(["sysctl", "-n", "kernel.shmmax"]).wait(),
    "host.env without bin": lambda: subprocess.run(
        ["sysctl", "-n", "kernel.shmmax"], env={"PATH": "/usr/sbin:/usr/bin"}, check=False
    ),
}


async def _async_sysctl() -> None:
    proc = await asyncio.create_subprocess_exec("sysctl", "-n", "kernel.shmmax")
    await proc.wait()


@pytest.mark.usefixtures("host")
@pytest.mark.parametrize("how", sorted(COMMANDS))
def test_running_real_host_commands_is_caught(how: str) -> None:
    with pytest.raises(ContainmentError, match=r"would run the (real host's|shell's builtin)"):
        COMMANDS[how]()


def test_the_shell_builtin_kill_is_caught_even_on_the_sandbox_path(host: SandboxHost) -> None:
    with pytest.raises(ContainmentError, match="builtin 'kill'"):
        subprocess.run("kill -0 1", shell=True, env=host.env, check=False)
    done = subprocess.run(f"{host.bin_dir}/kill -0 1", shell=True, env=host.env, check=False)
    assert done.returncode == 0  # the sandbox's kill: pid 1 of the fake host exists


def test_a_real_command_behind_the_sandbox_sudo_is_caught(host: SandboxHost) -> None:
    with pytest.raises(ContainmentError, match="/usr/sbin/sysctl"):
        subprocess.run(
            ["sudo", "-n", "sh", "-c", "/usr/sbin/sysctl -n kernel.shmmax"],
            env=host.env,
            check=False,
        )
    with pytest.raises(ContainmentError, match="real host's 'systemctl'"):
        subprocess.run(["sudo", "-u", "root", "systemctl", "--version"], env=host.env, check=False)


def test_the_sandbox_commands_on_its_path_are_allowed(host: SandboxHost) -> None:
    done = subprocess.run(
        ["sysctl", "-n", "kernel.shmmax"], env=host.env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == host.read_sysctl("kernel.shmmax")
    assert (
        subprocess.run(
            "iris qlist | cut -d^ -f1",
            shell=True,
            env=host.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        == "IRIS\n"
    )
    assert (
        subprocess.run(
            ["sudo", "-n", "sysctl", "kernel.shmmni"], env=host.env, check=False
        ).returncode
        == 0
    )


SIGNALS: dict[str, Callable[[int], object]] = {
    "os.kill": lambda pid: os.kill(pid, 0),
    "os.killpg": lambda pid: os.killpg(pid, 0),
    "psutil send_signal": lambda pid: psutil.Process(pid).send_signal(0),
    "psutil pid_exists": lambda pid: psutil.pid_exists(pid),
}


@pytest.mark.parametrize("how", sorted(SIGNALS))
def test_signalling_a_process_the_sandbox_does_not_own_is_caught(
    how: str, host: SandboxHost
) -> None:
    outsider = os.getppid()  # the process that started pytest: not ours to signal
    assert outsider not in host.pids().get("control", []) and outsider != os.getpid()
    if outsider in host.state().processes:
        pytest.skip("the parent's PID happens to be a fake PID too")
    with pytest.raises(ContainmentError, match="not a process this test or its sandbox started"):
        SIGNALS[how](outsider)


def test_signalling_a_fake_pid_outside_the_routing_is_caught(host: SandboxHost) -> None:
    fake = host.pids()["control"][0]
    with pytest.raises(ContainmentError, match="fake sandbox process"):
        os.kill(fake, 0)


def test_inside_procfs_psutil_signals_reach_the_fake_process(
    host: SandboxHost, tmp_path: Path
) -> None:
    other = SandboxHost(tmp_path / "other", users=1).build()
    with other.guard(), other.procfs():
        job = other.pids()["user_job"][0]
        psutil.Process(job).terminate()
        assert not psutil.pid_exists(job)
        assert other.connections() == 0


@pytest.mark.usefixtures("host")
def test_signalling_a_child_the_test_started_is_allowed() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        psutil.Process(child.pid).send_signal(0)
        child.terminate()
        # a child contained in its own PID namespace ends by SIGKILL (see containment)
        assert child.wait(timeout=10) in (-signal.SIGTERM, -signal.SIGKILL)
    finally:
        child.kill()
        child.wait()


@pytest.mark.usefixtures("host")
def test_escapes_from_other_threads_are_caught() -> None:
    caught: list[BaseException] = []

    def attempt() -> None:
        try:
            _open_append("/proc/sys/kernel/shmmax")
        except ContainmentError as exc:
            caught.append(exc)

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    assert len(caught) == 1


def test_the_guard_is_off_outside_a_sandbox(built: SandboxHost) -> None:
    assert not guard.active()
    with built.guard():
        assert guard.active()
    assert not guard.active()
    subprocess.run(["true"], check=True)  # ordinary commands were never refused


def test_the_error_says_what_to_do(host: SandboxHost) -> None:
    with pytest.raises(ContainmentError) as info:
        subprocess.run(["sysctl", "-w", "kernel.shmmax=1"], check=False)
    assert "env=host.env" in str(info.value)
    assert "sysctl -w kernel.shmmax=1" in str(info.value)
