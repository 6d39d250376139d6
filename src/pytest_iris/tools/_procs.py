"""What psutil sees of an IRIS instance: its processes and its client connections.

psutil reads a procfs tree (``psutil.PROCFS_PATH``), so the same code sees the
real ``/proc``, a namespaced one, or a sandbox's rendered tree. The path is
a psutil global: :func:`procfs` swaps it under a lock and puts it back.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

_lock = threading.RLock()
#: executables of an IRIS instance's processes (facts.md §4.5)
IRIS_EXECUTABLES: tuple[str, ...] = ("irisdb", "iriscp")


@contextlib.contextmanager
def procfs(path: str | os.PathLike[str]) -> Iterator[Any]:
    """psutil reading ``path`` for the duration of the block."""
    import psutil

    with _lock:
        old = psutil.PROCFS_PATH
        psutil.PROCFS_PATH = os.fspath(path)
        try:
            yield psutil
        finally:
            psutil.PROCFS_PATH = old


@dataclass(frozen=True)
class InstanceProcess:
    """One process of the instance."""

    pid: int
    name: str
    cmdline: tuple[str, ...]
    username: str

    def describe(self) -> str:
        return f"{self.pid} {' '.join(self.cmdline) or self.name}"


@dataclass(frozen=True)
class ClientConnection:
    """One established client connection to the superserver or web port."""

    service: str  # "superserver" | "web"
    port: int
    remote: str
    server_pid: int | None
    server_name: str
    client_pid: int | None = None
    client_name: str = ""
    client_user: str = ""

    def describe(self) -> str:
        text = f"{self.remote} on {self.service} port {self.port}"
        if self.server_pid is not None:
            text += f" (served by pid {self.server_pid} {self.server_name})"
        if self.client_pid is not None:
            text += f", client pid {self.client_pid} {self.client_name} user {self.client_user}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "port": self.port,
            "remote": self.remote,
            "server_pid": self.server_pid,
            "server_name": self.server_name,
            "client_pid": self.client_pid,
            "client_name": self.client_name,
            "client_user": self.client_user,
        }


def instance_processes(
    procfs_path: str | os.PathLike[str],
    install_dir: str | None,
    executables: Sequence[str] = IRIS_EXECUTABLES,
) -> list[InstanceProcess]:
    """The instance's processes: run from ``install_dir`` when known, else IRIS executables."""
    found: list[InstanceProcess] = []
    _check_procfs(procfs_path)
    if not any(name.isdigit() for name in os.listdir(procfs_path)):
        return found  # no process at all (psutil.pids() fails on an empty tree)
    with procfs(procfs_path) as psutil:
        # not process_iter(): it caches Process objects across procfs roots
        for pid in psutil.pids():
            try:
                proc = psutil.Process(pid)
                name = proc.name()
                cmdline = tuple(proc.cmdline())
                argv0 = cmdline[0] if cmdline else ""
                if install_dir is not None:
                    # everything run from the install dir: irisdb, the private httpd, ...
                    if not _under(argv0, install_dir):
                        continue
                elif name not in executables and os.path.basename(argv0) not in executables:
                    continue
                found.append(InstanceProcess(proc.pid, name, cmdline, _username(proc)))
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
    return sorted(found, key=lambda p: p.pid)


def _check_procfs(path: str | os.PathLike[str]) -> None:
    if not os.path.isdir(path):
        from pytest_iris.errors import ToolError

        raise ToolError(f"procfs root {os.fspath(path)} does not exist or is not a directory")


def _under(path: str, directory: str) -> bool:
    directory = directory.rstrip("/")
    return path.startswith(directory + "/")


def _username(proc: Any) -> str:
    try:
        return str(proc.username())
    except Exception:  # psutil falls back to the uid, but a vanished process raises
        return "?"


def client_connections(
    procfs_path: str | os.PathLike[str], ports: dict[str, int]
) -> list[ClientConnection]:
    """ESTABLISHED TCP connections whose local port is one of ``ports`` (service -> port)."""
    by_port = {port: service for service, port in ports.items()}
    _check_procfs(procfs_path)
    with procfs(procfs_path) as psutil:
        conns = psutil.net_connections(kind="tcp")
        established = [c for c in conns if c.status == psutil.CONN_ESTABLISHED and c.raddr]
        by_local = {(c.laddr.ip, c.laddr.port): c for c in established}
        result: list[ClientConnection] = []
        for conn in established:
            service = by_port.get(conn.laddr.port)
            if service is None:
                continue
            server_name = _name(psutil, conn.pid)
            client = by_local.get((conn.raddr.ip, conn.raddr.port))
            client_pid = client.pid if client is not None else None
            client_name, client_user = "", ""
            if client_pid is not None:
                client_name = _name(psutil, client_pid)
                try:
                    client_user = _username(psutil.Process(client_pid))
                except psutil.Error:
                    client_user = "?"
            result.append(
                ClientConnection(
                    service=service,
                    port=conn.laddr.port,
                    remote=_addr(conn.raddr.ip, conn.raddr.port),
                    server_pid=conn.pid,
                    server_name=server_name,
                    client_pid=client_pid,
                    client_name=client_name,
                    client_user=client_user,
                )
            )
    return sorted(result, key=lambda c: (c.port, c.remote))


def _name(psutil: Any, pid: int | None) -> str:
    if pid is None:
        return ""
    try:
        return str(psutil.Process(pid).name())
    except psutil.Error:
        return "?"


def _addr(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
