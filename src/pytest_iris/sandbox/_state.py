"""The persisted state of a sandbox host: processes, sockets, instances, clock.

The commands in the sandbox's ``bin/`` run as separate processes, so the
host lives in files: this JSON state (the kernel's process and socket
tables, the instance registry) plus the procfs tree rendered from it. The
kernel tunables are *not* kept here: like on a real host, the files under
``proc/sys`` are their only home, so a tool that writes them directly is
seen by everyone.

Every change goes through :func:`locked_state`, which holds an ``fcntl``
lock, loads, yields the state for mutation, then writes it atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from pytest_iris import defaults
from pytest_iris.atomic import write_atomic
from pytest_iris.errors import SandboxError

STATE_DIR = ".sandbox"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
#: Linux USER_HZ: /proc/<pid>/stat start times are in these ticks.
CLOCK_TICKS = 100


@lru_cache(maxsize=16)
def zone(name: str) -> tzinfo:
    if name == "UTC":
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SandboxError(
            f"sandbox timezone {name!r} is not an IANA time zone name (e.g. UTC, Europe/Paris)"
        ) from None


def check_timezone(name: str) -> str:
    """``name`` if it is a time zone this machine knows, else a SandboxError naming it."""
    zone(name)
    return name


@dataclass
class Proc:
    """One process of the fake kernel's process table."""

    pid: int
    ppid: int
    comm: str
    cmdline: list[str]
    uid: int
    start_ticks: int
    role: str = ""
    instance: str = ""
    threads: int = 1
    rss_kb: int = 4096
    vsize_kb: int = 65536
    state: str = "S"
    #: fd number -> socket inode
    fds: dict[int, int] = field(default_factory=dict)
    exe: str = ""
    cwd: str = "/"


@dataclass
class Sock:
    """One TCP socket as /proc/net/tcp{,6} shows it."""

    inode: int
    family: int  # 4 or 6
    laddr: str
    lport: int
    raddr: str
    rport: int
    state: str  # "LISTEN" | "ESTABLISHED" | ...
    uid: int = 0


@dataclass
class Instance:
    """One IRIS instance registered on the host (what ``iris list`` shows)."""

    name: str
    directory: str
    cpf: str
    version: str = "2023.1.0.235.1com"
    product: str = "InterSystems IRIS"
    status: str = "down"  # "running" | "down"
    since: float = 0.0  # running since / last used (host clock)
    superserver_port: int = 1972
    web_port: int = 52773
    agent_port: int = 2188
    #: clients connected to the superserver / web server while running
    users: int = 0
    web_users: int = 0
    write_daemon_helpers: int = 2
    #: huge pages (2 MB) and MB of shared memory held while running
    huge_pages: int = 0
    shm_mb: int = 0
    owner_uid: int = 51773
    abnormal: bool = False
    #: ended by a crash (its control process killed): ``iris list`` says ``crashed``
    #: (commands.md §1.9) until the next start; ``iris force`` leaves it ``down`` (§1.8)
    crashed: bool = False
    #: a mirror member's type and status, e.g. ``Failover``/``Primary``: ``iris list``
    #: adds its ``mirroring:`` line and ``qlist`` fields 11-12 (commands.md §1.1, §2.2)
    mirror_type: str = ""
    mirror_status: str = ""
    default: bool = False
    #: the ``state:`` line of ``iris list``: ok, or alert after a daemon died
    health: str = "ok"


@dataclass
class HostState:
    """Everything about the host that is not a procfs tunable."""

    clock: float
    boot_time: float
    total_ram_mb: int = defaults.TOTAL_RAM_MB
    hugepagesize_kb: int = 2048
    nodename: str = "iris-host"
    address: str = "10.0.0.5"
    #: the user code runs as inside the sandbox, and whether sudo lets it become root
    user: str = "root"
    uid: int = 0
    sudo: str = "nopasswd"  # "nopasswd" | "password" | "denied"
    next_pid: int = 1000
    next_inode: int = 40000
    next_client_port: int = 50000
    seed: int = 0
    #: the host's time zone (IANA name): IRIS writes messages.log, ``iris list``
    #: and the WIJ recovery block in local time (facts.md §6.1, commands.md §1)
    timezone: str = "UTC"
    processes: dict[int, Proc] = field(default_factory=dict)
    sockets: dict[int, Sock] = field(default_factory=dict)
    instances: dict[str, Instance] = field(default_factory=dict)

    # -- allocation -------------------------------------------------------

    def new_pid(self) -> int:
        """Hand out the next PID, skipping any still in use (like the kernel)."""
        pid = self.next_pid
        while pid in self.processes:
            pid += 1
        self.next_pid = pid + 1 + (pid * 7 + self.seed) % 5
        return pid

    def new_inode(self) -> int:
        inode = self.next_inode
        self.next_inode += 1 + (inode + self.seed) % 3
        return inode

    def ticks_now(self) -> int:
        return round((self.clock - self.boot_time) * CLOCK_TICKS)

    def local(self, epoch: float | None = None) -> datetime:
        """``epoch`` (default: now) as a naive local time of the host's time zone."""
        when = self.clock if epoch is None else epoch
        return datetime.fromtimestamp(when, zone(self.timezone)).replace(tzinfo=None)

    def utc_offset(self, epoch: float | None = None) -> float:
        """Seconds the host's local time is ahead of UTC at ``epoch`` (default: now)."""
        if self.timezone == "UTC":
            return 0.0
        when = self.clock if epoch is None else epoch
        offset = datetime.fromtimestamp(when, zone(self.timezone)).utcoffset()
        return offset.total_seconds() if offset is not None else 0.0

    def advance(self, seconds: float) -> float:
        """Move the host clock forward; returns the new time."""
        self.clock = round(self.clock + seconds, 3)
        return self.clock

    # -- process table ----------------------------------------------------

    def spawn(
        self,
        comm: str,
        cmdline: list[str],
        *,
        ppid: int,
        uid: int,
        role: str = "",
        instance: str = "",
        exe: str = "",
        cwd: str = "/",
        threads: int = 1,
        rss_kb: int = 4096,
        pid: int | None = None,
    ) -> Proc:
        proc = Proc(
            pid=self.new_pid() if pid is None else pid,
            ppid=ppid,
            comm=comm[:15],
            cmdline=cmdline,
            uid=uid,
            start_ticks=self.ticks_now(),
            role=role,
            instance=instance,
            exe=exe,
            cwd=cwd,
            threads=threads,
            rss_kb=rss_kb,
        )
        self.processes[proc.pid] = proc
        return proc

    def listen(self, proc: Proc, port: int, *, family: int = 4) -> Sock:
        any_addr = "0.0.0.0" if family == 4 else "::"
        return self._attach(
            proc, Sock(self.new_inode(), family, any_addr, port, any_addr, 0, "LISTEN", proc.uid)
        )

    def accept(self, proc: Proc, port: int, client: str, *, family: int = 4) -> Sock:
        """An established server-side socket: ``client`` connected to ``port``."""
        cport = self.next_client_port
        self.next_client_port = 50000 + (cport - 50000 + 7) % 10000
        local = self.address if family == 4 else f"::ffff:{self.address}"
        sock = Sock(self.new_inode(), family, local, port, client, cport, "ESTABLISHED", proc.uid)
        return self._attach(proc, sock)

    def _attach(self, proc: Proc, sock: Sock) -> Sock:
        self.sockets[sock.inode] = sock
        fd = 3
        while fd in proc.fds:
            fd += 1
        proc.fds[fd] = sock.inode
        return sock

    def exit(self, pid: int) -> Proc | None:
        """End a process: its sockets close, its children go to init (pid 1)."""
        proc = self.processes.pop(pid, None)
        if proc is None:
            return None
        for inode in proc.fds.values():
            still_open = any(inode in p.fds.values() for p in self.processes.values())
            if not still_open:
                self.sockets.pop(inode, None)
        for child in self.processes.values():
            if child.ppid == pid:
                child.ppid = 1
        return proc

    def instance_pids(self, name: str) -> list[int]:
        return sorted(p.pid for p in self.processes.values() if p.instance == name)

    # -- persistence ------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _SCALARS}
        data["processes"] = {pid: vars(p) for pid, p in self.processes.items()}
        data["sockets"] = {inode: vars(s) for inode, s in self.sockets.items()}
        data["instances"] = {name: vars(i) for name, i in self.instances.items()}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostState:
        data = dict(data)
        procs = {
            int(k): Proc(**{**v, "fds": {int(f): i for f, i in v["fds"].items()}})
            for k, v in data.pop("processes").items()
        }
        socks = {int(k): Sock(**v) for k, v in data.pop("sockets").items()}
        insts = {k: Instance(**v) for k, v in data.pop("instances").items()}
        return cls(**data, processes=procs, sockets=socks, instances=insts)


_SCALARS = tuple(
    name
    for name in HostState.__dataclass_fields__
    if name not in ("processes", "sockets", "instances")
)


def state_path(root: Path) -> Path:
    return root / STATE_DIR / STATE_FILE


def load_state(root: Path) -> HostState:
    return _parse(root, _read(root))


def _read(root: Path) -> bytes:
    path = state_path(root)
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise SandboxError(f"{root} is not a sandbox host: {path} is missing") from None


def _parse(root: Path, data: bytes) -> HostState:
    try:
        return HostState.from_json(json.loads(data))
    except ValueError as exc:
        raise SandboxError(f"sandbox state {state_path(root)} is corrupt: {exc}") from None


def peek_state(root: Path) -> HostState:
    """The state for reading only (never mutate it): parsed again only when the file changed.

    A host's read accessors (clock, PIDs, connections) are called many
    times between changes; reading the file and comparing its bytes costs a
    tenth of parsing it. The bytes are the key, so any change (by this
    process or a sandbox command) is seen.
    """
    data = _read(root)
    key = str(root)
    cached = _PEEKED.get(key)
    if cached is not None and cached[0] == data:
        return cached[1]
    state = _parse(root, data)
    _PEEKED[key] = (data, state)
    if len(_PEEKED) > 16:  # the hosts in use now; old ones drop out
        del _PEEKED[next(iter(_PEEKED))]
    return state


_PEEKED: dict[str, tuple[bytes, HostState]] = {}


def save_state(root: Path, state: HostState, *, durable: bool = True) -> None:
    """Write the state through :func:`~pytest_iris.atomic.write_atomic`.

    Its temporary has a name of its own per write (not one per process), so
    two writers racing - threads of one process, or a writer that skipped the
    lock - never rename each other's half-written file, and an interrupt
    leaves no temporary behind. ``durable=False`` skips the fsyncs: for a
    host being built, which nothing else has seen yet.
    """
    data = json.dumps(state.to_json(), separators=(",", ":"))
    write_atomic(state_path(root), data, durable=durable)


@contextlib.contextmanager
def host_lock(root: Path) -> Iterator[None]:
    """Serialize changes between Python and the sandbox commands."""
    lock_path = root / STATE_DIR / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def locked_state(root: Path) -> Iterator[HostState]:
    """Load, mutate and save the state under the host lock."""
    with host_lock(root):
        state = load_state(root)
        yield state
        save_state(root, state)
