"""One psutil contract, three hosts: the fake procfs, the live namespace host, the real /proc.

Each host offers a "server" process tree: a root process with children, one
of which listens on a TCP port with established client connections. The
same assertions run against each (pyfakefs' RealFsTestCase idea).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from pytest_iris.sandbox import SandboxHost


@dataclass
class Tree:
    root_pid: int
    listener_pid: int
    port: int
    clients: int
    name: str


_SERVER = r"""
import os, socket, subprocess, sys, time
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(8)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
conns = []
for _ in range(2):
    c = socket.create_connection(srv.getsockname()); conns.append(c); conns.append(srv.accept()[0])
print(srv.getsockname()[1], child.pid, flush=True)
sys.stdin.read()
child.kill()
"""


@contextlib.contextmanager
def real_tree() -> Iterator[Tree]:
    """A process this test starts on the real host, read (only) through the real /proc."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port, _child = (int(v) for v in proc.stdout.readline().split())
        yield Tree(proc.pid, proc.pid, port, 2, psutil.Process(proc.pid).name())
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


@contextlib.contextmanager
def fake_tree(tmp_path: Path) -> Iterator[Tree]:
    with SandboxHost(tmp_path / "host", users=2) as host, host.procfs():
        pids = host.pids()
        yield Tree(pids["control"][0], pids["superserver"][0], 1972, 2, "irisdb")


@contextlib.contextmanager
def live_tree(tmp_path: Path) -> Iterator[Tree]:
    from pytest_iris.sandbox import LiveSandbox, namespaces_available

    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs namespaces: {reason}")
    with LiveSandbox(tmp_path / "live", users=2) as host, host.procfs():
        pids = host.pids()
        yield Tree(pids["control"][0], pids["superserver"][0], 1972, 2, "irisdb")


@pytest.fixture(params=["fake", "live", "real"])
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tree]:
    factory = {
        "fake": lambda: fake_tree(tmp_path),
        "live": lambda: live_tree(tmp_path),
        "real": real_tree,
    }
    with factory[request.param]() as found:
        yield found


def test_pids_list_the_tree(tree: Tree) -> None:
    pids = psutil.pids()
    assert tree.root_pid in pids
    assert tree.listener_pid in pids
    assert psutil.pid_exists(tree.root_pid)


def test_process_identity(tree: Tree) -> None:
    proc = psutil.Process(tree.listener_pid)
    assert proc.name() == tree.name
    assert proc.cmdline(), "cmdline must be NUL-separated argv"
    assert proc.status() in (psutil.STATUS_SLEEPING, psutil.STATUS_RUNNING)
    assert proc.is_running()
    assert proc.create_time() >= psutil.boot_time()
    assert proc.memory_info().rss > 0
    assert proc.num_threads() >= 1


def test_children_and_parent(tree: Tree) -> None:
    root = psutil.Process(tree.root_pid)
    children = root.children(recursive=True)
    assert children, "the root process has children"
    for child in children:
        assert child.create_time() >= root.create_time()
        assert child.parent() is not None
    direct = {c.pid for c in root.children()}
    assert direct <= {c.pid for c in children}
    assert all(psutil.Process(pid).ppid() == tree.root_pid for pid in direct)


def test_connections_of_the_listener(tree: Tree) -> None:
    conns = psutil.Process(tree.listener_pid).net_connections(kind="tcp")
    listening = [c for c in conns if c.status == psutil.CONN_LISTEN]
    assert [c.laddr.port for c in listening] == [tree.port]
    assert not listening[0].raddr


def test_established_clients_system_wide(tree: Tree) -> None:
    conns = psutil.net_connections(kind="inet")
    served = [
        c
        for c in conns
        if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == tree.port
    ]
    assert len(served) == tree.clients
    assert all(c.raddr and c.raddr.port != tree.port for c in served)
    assert all(c.pid is not None for c in served)


def test_process_iter_finds_by_name(tree: Tree) -> None:
    found = [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == tree.name]
    assert tree.listener_pid in found


def test_vanished_process_raises(tree: Tree) -> None:
    missing = max(psutil.pids()) + 100_000
    with pytest.raises(psutil.NoSuchProcess):
        psutil.Process(missing)
    assert not psutil.pid_exists(missing)


def test_fake_procfs_is_left_when_the_block_ends(tmp_path: Path) -> None:
    before = psutil.PROCFS_PATH
    with SandboxHost(tmp_path / "host") as host, host.procfs():
        assert str(host.proc) == psutil.PROCFS_PATH
        assert 1 in psutil.pids()
    assert before == psutil.PROCFS_PATH
    assert psutil.Process().pid in psutil.pids()  # the real /proc again


def test_meminfo_and_cpu_read_from_the_fake(tmp_path: Path) -> None:
    with (
        SandboxHost(tmp_path / "host", total_ram_mb=8192, kernel={"vm.nr_hugepages": 100}) as host,
        host.procfs(),
    ):
        mem = psutil.virtual_memory()
        assert mem.total == 8192 * 1024 * 1024
        assert psutil.boot_time() < time.time()
        assert psutil.cpu_times().idle > 0
        text = (host.proc / "meminfo").read_text()
        assert "HugePages_Total:     100\n" in text
        assert "Hugepagesize:       2048 kB" in text


def test_real_socket_encoding_matches_the_kernel(tmp_path: Path) -> None:
    """Our net/tcp encoding round-trips through psutil like the kernel's does."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        real = [c for c in psutil.net_connections("tcp4") if c.laddr and c.laddr.port == port]
    assert real and real[0].laddr.ip == "127.0.0.1"
    with SandboxHost(tmp_path / "host", users=1, web_users=1) as host, host.procfs():
        conns = psutil.net_connections("inet")
    ips = {c.laddr.ip for c in conns}
    assert {"0.0.0.0", "10.0.0.5", "::", "::ffff:10.0.0.5"} <= ips


def test_every_attribute_of_every_process(tree: Tree) -> None:
    """What monitoring code often does: process_iter with all attributes."""
    mine = {tree.root_pid, tree.listener_pid}
    infos = {
        p.pid: p.info for p in psutil.process_iter(attrs=[], ad_value="denied") if p.pid in mine
    }
    assert set(infos) == mine
    info = infos[tree.listener_pid]
    assert info["name"] == tree.name
    assert info["num_threads"] == len(info["threads"]) or info["threads"] == "denied"
    assert info["memory_full_info"].rss == info["memory_info"].rss
    assert info["io_counters"] == "denied" or info["io_counters"].read_bytes >= 0
    assert any(c.status == psutil.CONN_LISTEN for c in info["net_connections"])


def test_c_backed_calls_never_reach_a_real_pid_from_the_fake(tmp_path: Path) -> None:
    with SandboxHost(tmp_path / "host") as host, host.procfs():
        proc = psutil.Process(host.pids()["control"][0])
        assert proc.nice() == 0 and proc.cpu_affinity() and proc.ionice().value == 0
        for change in (
            lambda: proc.nice(10),
            lambda: proc.cpu_affinity([0]),
            lambda: proc.ionice(psutil.IOPRIO_CLASS_IDLE),
        ):
            with pytest.raises(psutil.AccessDenied, match="not emulated"):
                change()
    me = psutil.Process()
    assert me.nice() == os.getpriority(os.PRIO_PROCESS, 0)  # the real calls are back
