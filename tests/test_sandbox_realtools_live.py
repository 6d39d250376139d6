"""The real tools against the live sandbox: inside its namespaces they read the real kernel's view.

The live sandbox's ``run_with_procfs`` enters its user, PID, mount, IPC and
network namespaces, so ``ps``, ``top``, ``pgrep``, ``pstree``, ``sysctl``,
``netstat`` and ``ipcs`` see its real processes, tunables and sockets. Its
processes all run as the namespace's root (one uid mapping), so the
owner/irisusr split of the fake host is not checked here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_iris.sandbox import LiveSandbox, SandboxHost, namespaces_available
from pytest_iris.sandbox._iris import DAEMONS
from pytest_iris.sandbox.procview import unavailable

GB = 1024**3


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    root: Path = tmp_path_factory.mktemp("live") / "host"
    with LiveSandbox(root, users=2, web_users=1, kernel={"kernel.shmmax": 2 * GB}) as host:
        yield host


def _tool(host: LiveSandbox | SandboxHost, *argv: str) -> str:
    done = host.run_with_procfs(list(argv), timeout=60)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def _irisdb_count(host: LiveSandbox) -> int:
    return sum(1 for comm, _role in host.processes().values() if comm == "irisdb")


def test_ps_lists_the_daemons_with_their_command_lines(live: LiveSandbox) -> None:
    rows = [
        line.split(None, 1)
        for line in _tool(live, "ps", "-ww", "-eo", "comm,args").splitlines()[1:]
    ]
    irisdb = [args for comm, args in rows if comm == "irisdb"]
    assert len(irisdb) == _irisdb_count(live)
    for _role, routine, _job in DAEMONS:
        assert any(args.endswith(f" {routine}") for args in irisdb), routine
    assert sum(args.endswith(" SuperServer^%SYS.SERVER") for args in irisdb) == 1


def _iris_args(host: LiveSandbox | SandboxHost) -> list[str]:
    """``ps -eo comm,args`` of the instance's processes, the install dir written as ``<I>``."""
    rows = [
        line.split(None, 1)
        for line in _tool(host, "ps", "-ww", "-eo", "comm,args").splitlines()[1:]
    ]
    install = str(host.install_dir)
    return sorted(a.replace(install, "<I>") for comm, a in rows if comm in ("irisdb", "httpd"))


def test_ps_args_of_the_live_host_are_the_fake_hosts(live: LiveSandbox, tmp_path: Path) -> None:
    # the same state on both hosts: the instance running, two superserver clients and
    # a web user (its gateway job: %SYS.cspServer3, commands.md §6)
    if unavailable():
        pytest.skip(f"the fake host's procfs view: {unavailable()}")
    with SandboxHost(tmp_path / "fake", users=2, web_users=1) as fake:
        expected = _iris_args(fake)
    assert _iris_args(live) == expected
    assert sum(a.endswith(" -cc -B -C<I>/iris.cpf*IRIS") for a in expected) == 1
    assert sum(a.endswith(" %SYS.BINDSRV") for a in expected) == 2
    assert sum(a.endswith(" -cj -p11 %SYS.cspServer3") for a in expected) == 1
    assert len(live.pids()["gateway_job"]) == 1
    # pgrep -f matches the real shapes: a tool counting BINDSRV jobs counts the same
    jobs = _tool(live, "pgrep", "-f", r"irisdb -s.* -cj -p[0-9]+ %SYS\.BINDSRV$").split()
    assert len(jobs) == len(live.pids()["user_job"]) == 2
    control = _tool(live, "pgrep", "-f", r"irisdb -s\S+ -cc -B -C\S+\*IRIS$").split()
    assert len(control) == len(live.pids()["control"]) == 1
    # and /proc/PID/cmdline is the exact argv, NUL-separated, as the fake host's
    done = live.run_with_procfs(["cat", f"/proc/{control[0]}/cmdline"], timeout=60)
    assert done.stdout.split("\0")[1:] == [
        f"-s{live.install_dir}/mgr",
        "-cc",
        "-B",
        f"-C{live.install_dir}/iris.cpf*IRIS",
        "",
    ]


def _ps_e(host: LiveSandbox | SandboxHost) -> str:
    """``ps e`` (each command line, then its environment); ps itself gets a bare one."""
    env = {"LC_ALL": "C"}
    done = host.run_with_procfs(["ps", "-ww", "-e", "e", "-o", "args"], env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _instance_environments(out: str, install: Path) -> list[str]:
    return sorted(
        row.replace(str(install), "<I>") for row in out.splitlines() if row.startswith(str(install))
    )


def test_ps_e_of_the_live_host_is_the_fake_hosts(live: LiveSandbox, tmp_path: Path) -> None:
    # no PYTEST_IRIS_* (nor pytest's) variables in any process of the namespaces: the
    # roles get their part in the program text, the fake host's environment and directory
    if unavailable():
        pytest.skip(f"the fake host's procfs view: {unavailable()}")
    out = _ps_e(live)
    assert "PYTEST_" not in out
    with SandboxHost(tmp_path / "fake", users=2, web_users=1) as fake:
        expected = _instance_environments(_ps_e(fake), fake.install_dir)
    assert _instance_environments(out, live.install_dir) == expected
    jobs = [row for row in expected if " %SYS.BINDSRV PATH=" in row]
    assert len(jobs) == 2 and all(row.endswith(" HOME=<I>/mgr/user") for row in jobs)
    # what ps read: /proc/PID/environ and cwd as the process started with them
    job = live.pids()["user_job"][0]
    user = f"{live.install_dir}/mgr/user"
    assert (
        Path(f"/proc/{job}/environ").read_bytes() == f"PATH=/usr/bin:/bin\0HOME={user}\0".encode()
    )
    assert os.readlink(f"/proc/{job}/cwd") == user


def test_pgrep_top_and_pstree_see_the_same_processes(live: LiveSandbox) -> None:
    assert len(_tool(live, "pgrep", "-a", "irisdb").splitlines()) == _irisdb_count(live)
    total = len(_tool(live, "ps", "-e", "--no-headers").splitlines())
    top = _tool(live, "top", "-bn1")
    # ps and top run in the namespace too: top's count includes top itself, ps's ps
    assert f"Tasks: {total:3d} total" in top
    tree = _tool(live, "pstree", "-p", "1")
    assert tree.count("irisdb(") == _irisdb_count(live)


def test_sysctl_a_shows_the_namespaces_ipc_tunables(live: LiveSandbox) -> None:
    values = dict(
        line.split(" = ", 1) for line in _tool(live, "sysctl", "-a").splitlines() if " = " in line
    )
    assert values["kernel.shmmax"] == live.read_sysctl("kernel.shmmax") == str(2 * GB)


def test_netstat_shows_the_clients_on_the_real_sockets(live: LiveSandbox) -> None:
    rows = [r.split() for r in _tool(live, "netstat", "-tnp").splitlines() if r.startswith("tcp")]
    served = [
        r for r in rows if r[5] == "ESTABLISHED" and r[3].rsplit(":", 1)[1] in ("1972", "52773")
    ]
    assert len(served) == live.connections() == 3
    on_1972 = [r for r in served if r[3].endswith(":1972")]
    assert len(on_1972) == len(live.pids()["user_job"]) == 2


def test_ipcs_shows_no_segment_because_the_live_control_frees_it(live: LiveSandbox) -> None:
    # the live control process asks the kernel with shmget and removes the segment at
    # once (it maps no memory): ipcs in its IPC namespace must show none, unlike a real IRIS
    out = _tool(live, "ipcs", "-m")
    assert not [r for r in out.splitlines() if r.startswith("0x")]


def test_force_then_start_recovers_on_the_live_host(tmp_path: Path) -> None:
    from pytest_iris.log import read_log

    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    with LiveSandbox(tmp_path / "live", kernel={"kernel.shmmax": 2 * GB}) as host:
        assert host.run(["iris", "force", "IRIS"]).stdout == ""
        assert not host.pids().get("control")
        started = host.run(["iris", "start", "IRIS"])
        assert started.returncode == 0, started.stdout
        assert "1 alert(s) during startup" in started.stdout
        kinds = [item.kind for item in read_log(host.messages_log)]
        assert kinds.count("wij-recovery") == 1 and "problem" not in kinds
