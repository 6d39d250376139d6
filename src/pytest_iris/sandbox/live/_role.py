"""Processes of the live sandbox (stdlib only: runs inside the namespaces).

One script plays every part. Each process is started as ``exe`` (a symlink to
python: its comm is ``exe``) with the program on stdin, its argv
``[<exe>[:-2], "-", *args]`` and the fake host's environment (see
:func:`_spawn`); its part comes in the program text, in ``PASSED``. Its
first act is to write ``[<exe>, *args]`` over that argv (:func:`_retitle`,
same length, so no padding), so that ``/proc/PID/cmdline`` - what ``ps -ef``,
``ps -o args`` and ``pgrep -f`` read - holds the fake host's command line for the role:

    supervisor <live_dir>                 namespace PID 1 (started by ``role.py supervisor``)
    irisdb -s<mgr> -cc -B -C<cpf>*<inst>  control: real shmget of the planned size, then the daemons
    irisdb -s<mgr> -cd -B WRTDMN          daemons and system jobs (the fake host's list and -p slots)
    irisdb -s<mgr> -cj -pN SuperServer^%SYS.SERVER   listens, a job process per client
    irisdb -s<mgr> -cj -pN %SYS.BINDSRV   a user job holding its connection (fd in PASSED)
    irisdb -s<mgr> -cj -pN %SYS.cspServer3   a web user's gateway job (httpd -> superserver)
    httpd -f <conf> -d <dir>              web server: listens, holds web connections
    ISCAgent                              listens on the agent port
    client <users> <web_users>            opens the configured client connections and holds them

Readiness is reported by files in ``<live_dir>/up``. SIGTERM ends a process
and (for control and superserver) its children.

(No ``from __future__`` import: :func:`_spawn` puts ``PASSED = {...}`` first in
the program, where a future import could not follow it.)
"""

import contextlib
import ctypes
import ctypes.util
import fcntl
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from typing import Any

IPC_PRIVATE = 0
IPC_CREAT = 0o1000
IPC_RMID = 0
#: the routines of the fake host (sandbox._iris: SUPERSERVER args, CLIENT_JOB, GATEWAY_JOB)
SUPERSERVER = "SuperServer^%SYS.SERVER"
CLIENT_JOB = "%SYS.BINDSRV"
#: a web gateway connection's superserver job: the routine a real instance lists for it
#: (commands.md §6, Atelier /jobs sample: ``"routine": "%SYS.cspServer3"``, device
#: ``|TCP|1972|1396``), one per web user as on the fake host (sandbox._iris.connect_users)
GATEWAY_JOB = "%SYS.cspServer3"
#: where httpd reaches the superserver for a web user (an abstract unix socket, private
#: to the namespace's network). Invented: the real gateway connects over TCP to 1972,
#: which the fake host does not model either, so both hosts count the same connections
GATEWAY_SOCKET = "\0iris-csp-gateway"


def _superserver_slot(cfg: dict[str, Any]) -> int:
    """The superserver's ``-p`` slot: after the system jobs' (``-cj -pN``), as on the fake host."""
    return 1 + sum(1 for args in cfg["daemons"] if args[0] == "-cj")


def _config(live: str) -> dict[str, Any]:
    with open(os.path.join(live, "config.json"), encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _up(live: str, name: str, text: str = "") -> None:
    """Write ``up/<name>`` whole, as ``pytest_iris.atomic.write_atomic`` does.

    This script cannot import pytest_iris (it runs under the bare interpreter),
    so it makes the same temporary: ``.<name>.<pid>.<random>.tmp``, created
    with ``O_EXCL`` inside the ``try`` that removes it. A dot name never
    matches what the host waits for (``job-``, ``alloc`` ...), two writers
    never share one, and an interrupt leaves none behind.
    """
    temporary = os.path.join(live, "up", f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(temporary, os.path.join(live, "up", name))
    except BaseException as error:
        if not isinstance(error, FileExistsError) or error.filename != temporary:
            with contextlib.suppress(FileNotFoundError):  # (a name taken is another's file)
                os.unlink(temporary)
        raise


def _loopback_up() -> None:
    """``ip link set lo up`` with one ioctl (SIOCSIFFLAGS)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifreq = struct.pack(
            "16sH14x", b"lo", 0x1 | 0x8 | 0x40
        )  # IFF_UP | IFF_LOOPBACK | IFF_RUNNING
        fcntl.ioctl(sock.fileno(), 0x8914, ifreq)
    finally:
        sock.close()


def _spawn(
    cfg: dict[str, Any],
    role: str,
    *args: str,
    exe: str = "irisdb",
    pass_fds: tuple[int, ...] = (),
    cwd: str = "/",
    **passed: int | str,
) -> subprocess.Popen[bytes]:
    """Start this script as ``exe`` in ``role``; its cmdline becomes ``[exe, *args]``.

    The program comes on stdin (python's ``-``) and argv[0] is the path less two
    characters, so the argv area is exactly as long as ``[exe, *args]`` and
    :func:`_retitle` can write it there without padding.

    What the child must know (its role, argv[0], the live directory, ``passed``)
    is the program's first line, ``PASSED = {...}``, not environment variables:
    ``/proc/PID/environ`` (``ps e``) is the environment a process was started
    with, and removing a variable later does not change it. The environment is
    the fake host's (``_procfs``: ``PATH=/usr/bin:/bin``, ``HOME=<cwd>``), in the
    fake host's working directory for the role.
    """
    path = cfg["bin"][exe]
    with open(cfg["script"], "rb") as fh:
        source = fh.read()
    header = {"role": role, "argv0": path, "live": os.path.dirname(cfg["script"]), **passed}
    child = subprocess.Popen(
        [path[:-2], "-", *args], executable=path, stdin=subprocess.PIPE, pass_fds=pass_fds,
        close_fds=True, cwd=cwd, env={"PATH": "/usr/bin:/bin", "HOME": cwd},
    )  # fmt: skip
    assert child.stdin is not None
    child.stdin.write(f"PASSED = {header!r}\n".encode() + source)
    child.stdin.close()
    return child


def _retitle(argv: list[str]) -> bool:
    """Write ``argv`` over this process's own (``/proc/self/mem`` at ``arg_start``).

    Only when it fits exactly (see :func:`_spawn`): the kernel then shows it in
    ``/proc/PID/cmdline`` as if the process had been exec'd with it.
    """
    with open("/proc/self/stat", encoding="ascii") as fh:
        stat = fh.read()
    fields = stat[stat.rindex(")") + 2 :].split()  # fields from 3 (state) on
    start, end = int(fields[48 - 3]), int(fields[49 - 3])  # proc(5): arg_start, arg_end
    new = b"".join(arg.encode() + b"\0" for arg in argv)
    if len(new) != end - start:
        return False
    with open("/proc/self/mem", "r+b", buffering=0) as mem:
        mem.seek(start)
        mem.write(new)
    return True


def _wait_forever(children: list[subprocess.Popen[bytes]]) -> None:
    def stop(_sig: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        signal.pause()


def _listen(port: int, family: int = socket.AF_INET) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    sock.listen(64)
    return sock


def supervisor(live: str) -> None:
    cfg = _config(live)
    _loopback_up()
    for key, value in cfg.get("kernel", {}).items():
        subprocess.run(["sysctl", "-q", "-w", f"{key}={value}"], check=True)
    agent = _spawn(cfg, "ISCAgent", exe="ISCAgent")  # cwd /, as the fake host's agent
    children = [agent]
    fifo = os.path.join(live, "ctl")
    os.mkfifo(fifo)
    _up(live, "supervisor")
    signal.signal(signal.SIGCHLD, lambda *_: _reap())
    while True:
        with open(fifo, encoding="utf-8") as fh:
            for line in fh:
                command = line.split()
                if not command:
                    continue
                if command[0] == "start":
                    children.append(
                        _spawn(
                            _config(live),
                            "control",
                            f"-s{cfg['mgr']}",
                            "-cc",
                            "-B",
                            f"-C{cfg['cpf']}*{cfg['instance']}",
                            cwd=cfg["mgr"],
                        )
                    )
                elif command[0] == "clients":
                    children.append(
                        _spawn(_config(live), "client", command[1], command[2], exe="client")
                    )
                elif command[0] == "exit":
                    for child in children:
                        if child.poll() is None:
                            child.terminate()
                    return


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _shm_attempt(sizes: list[int]) -> int:
    """Index of the first size the kernel's shmget accepts (the real shmmax/shmall check), else -1."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    for index, size in enumerate(sizes):
        shmid = libc.shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600)
        if shmid >= 0:
            libc.shmctl(shmid, IPC_RMID, None)  # freed when the last user detaches (none does)
            return index
    return -1


def control(live: str) -> None:
    cfg = _config(live)
    index = _shm_attempt(cfg["shm_sizes"])
    _up(live, "alloc", str(index))
    if index < 0:
        sys.exit(1)
    mgr = f"-s{cfg['mgr']}"
    # the daemons and system jobs of the fake host (config "daemons": sandbox._iris.DAEMONS)
    children = [_spawn(cfg, "daemon", mgr, *args, cwd=cfg["mgr"]) for args in cfg["daemons"]]
    slot = _superserver_slot(cfg)
    children.append(
        _spawn(cfg, "superserver", mgr, "-cj", f"-p{slot}", SUPERSERVER, cwd=cfg["mgr"])
    )
    httpd = f"{cfg['install']}/httpd"
    children.append(
        _spawn(cfg, "httpd", "-f", f"{httpd}/conf/httpd.conf", "-d", httpd, exe="httpd", cwd=httpd)
    )
    _up(live, "control")
    _wait_forever(children)


def superserver(live: str) -> None:
    """Serve superserver clients (TCP) and the web gateway (:data:`GATEWAY_SOCKET`).

    Each connection gets a job in the lowest free ``-p`` slot. Clients waiting
    on the TCP port are taken first: ``client`` connects its users before its
    web users, so the slots follow the fake host's order (users, then web users).
    """
    cfg = _config(live)
    srv = _listen(cfg["superserver_port"])
    gateway = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    gateway.bind(GATEWAY_SOCKET)
    gateway.listen(64)
    jobs: list[subprocess.Popen[bytes]] = []

    def stop(_sig: int, _frame: object) -> None:
        for job in jobs:
            if job.poll() is None:
                job.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGCHLD, lambda *_: [j.poll() for j in jobs])
    _up(live, "superserver")
    slots: dict[int, subprocess.Popen[bytes]] = {}
    while True:
        ready, _, _ = select.select([srv, gateway], [], [])
        listener = srv if srv in ready else gateway
        conn, _addr = listener.accept()
        # the lowest free job slot after the superserver's, as the fake host numbers them
        slot = _superserver_slot(cfg) + 1
        while slot in slots and slots[slot].poll() is None:
            slot += 1
        fd = conn.fileno()
        os.set_inheritable(fd, True)
        routine, up = (CLIENT_JOB, "job") if listener is srv else (GATEWAY_JOB, "gw")
        slots[slot] = _spawn(
            cfg, "job", f"-s{cfg['mgr']}", "-cj", f"-p{slot}", routine,
            pass_fds=(fd,), cwd=f"{cfg['mgr']}/user", fd=fd, up=up,
        )  # fmt: skip
        jobs.append(slots[slot])
        conn.close()


def job(live: str, fd: int, up: str) -> None:
    conn = socket.socket(fileno=fd)
    _up(live, f"{up}-{os.getpid()}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while conn.recv(4096):
        pass  # the client went away: the job ends


def acceptor(live: str, port: int, name: str, family: int, *, gateway: bool = False) -> None:
    """Listen on ``port`` and hold each connection; ``gateway`` (httpd): and open, per
    connection, one to the superserver's gateway socket, which gets it a ``%SYS.cspServer3`` job.
    """
    srv = _listen(port, family)
    held: list[socket.socket] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _up(live, name)
    while True:
        conn, _addr = srv.accept()
        held.append(conn)
        if gateway:
            link = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                link.connect(GATEWAY_SOCKET)
            except OSError:  # no superserver (being stopped): the web user has no job
                link.close()
            else:
                held.append(link)


def client(live: str, users: int, web_users: int) -> None:
    cfg = _config(live)
    conns = [socket.create_connection(("127.0.0.1", cfg["superserver_port"])) for _ in range(users)]
    conns += [socket.create_connection(("::1", cfg["web_port"])) for _ in range(web_users)]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _up(live, f"clients-{os.getpid()}", str(len(conns)))
    while True:
        time.sleep(3600)


def main(argv: list[str]) -> None:
    args = argv[1:]
    # what _spawn passed in the program text; the supervisor runs as ``role.py supervisor <live>``
    passed: dict[str, Any] = globals().get("PASSED") or {"role": args[0], "live": args[1]}
    role, live = passed["role"], passed["live"]
    if "argv0" in passed:
        _retitle([passed["argv0"], *args])
    if role == "supervisor":
        supervisor(live)
    elif role == "ISCAgent":
        acceptor(live, _config(live)["agent_port"], "agent", socket.AF_INET)
    elif role == "httpd":
        acceptor(live, _config(live)["web_port"], "web_server", socket.AF_INET6, gateway=True)
    elif role == "client":
        client(live, int(args[0]), int(args[1]))
    elif role == "control":
        control(live)
    elif role == "superserver":
        superserver(live)
    elif role == "job":
        job(live, int(passed["fd"]), str(passed["up"]))
    else:
        _up(live, f"daemon-{os.getpid()}")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            signal.pause()


if __name__ == "__main__":
    main(sys.argv)
