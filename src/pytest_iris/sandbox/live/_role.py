"""Processes of the live sandbox (stdlib only: runs inside the namespaces).

One script plays every part, chosen by its arguments, so that ``ps`` shows
IRIS-like command lines: it is started through a symlink named ``irisdb``
(comm ``irisdb``) with ``-s<mgr>`` and the role's flags after the script.

    supervisor <live_dir>          namespace PID 1: loopback up, agent, clients, starts control
    <script> -s<mgr> -cc ...        control: real shmget of the planned size, then the daemons
    <script> -s<mgr> -cd -B WRTDMN  daemons and system jobs (the fake host's list, from the config)
    <script> -s<mgr> -cj -p18 SuperServer^%SYS.SERVER   listens, a job process per client
    <script> -s<mgr> -cj -pN %SYS.SERVER --fd N         a user job holding its connection
    <script> httpd ...              web server: listens, holds web connections
    <script> ISCAgent               listens on the agent port
    <script> client                 opens the configured client connections and holds them

Readiness is reported by files in ``<live_dir>/up``. SIGTERM ends a process
and (for control and superserver) its children.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import json
import os
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


def _config(live: str) -> dict[str, Any]:
    with open(os.path.join(live, "config.json"), encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _up(live: str, name: str, text: str = "") -> None:
    path = os.path.join(live, "up", name)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)


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
    cfg: dict[str, Any], *args: str, exe: str = "irisdb", pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen[bytes]:
    """Start this script as ``exe`` (a symlink to python: the process's comm is ``exe``)."""
    path = cfg["bin"][exe]
    return subprocess.Popen(
        [path, cfg["script"], *args], executable=path, pass_fds=pass_fds, close_fds=True
    )


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
    agent = _spawn(cfg, "ISCAgent", exe="ISCAgent")
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
                            f"-s{cfg['mgr']}",
                            "-cc",
                            "-B",
                            f"-C{cfg['cpf']}*{cfg['instance']}",
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
    children = [_spawn(cfg, mgr, *args) for args in cfg["daemons"]]
    children.append(_spawn(cfg, mgr, "-cj", f"-p{len(cfg['daemons'])}", "SuperServer^%SYS.SERVER"))
    children.append(
        _spawn(cfg, "httpd", "-f", f"{cfg['install']}/httpd/conf/httpd.conf", exe="httpd")
    )
    _up(live, "control")
    _wait_forever(children)


def superserver(live: str) -> None:
    cfg = _config(live)
    srv = _listen(cfg["superserver_port"])
    jobs: list[subprocess.Popen[bytes]] = []

    def stop(_sig: int, _frame: object) -> None:
        for job in jobs:
            if job.poll() is None:
                job.terminate()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGCHLD, lambda *_: [j.poll() for j in jobs])
    _up(live, "superserver")
    number = 19
    while True:
        try:
            conn, _addr = srv.accept()
        except InterruptedError:
            continue
        fd = conn.fileno()
        os.set_inheritable(fd, True)
        jobs.append(
            _spawn(
                cfg,
                f"-s{cfg['mgr']}",
                "-cj",
                f"-p{number}",
                "%SYS.SERVER",
                "--fd",
                str(fd),
                pass_fds=(fd,),
            )
        )
        number += 1
        conn.close()


def job(live: str, fd: int) -> None:
    conn = socket.socket(fileno=fd)
    _up(live, f"job-{os.getpid()}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while conn.recv(4096):
        pass  # the client went away: the job ends


def acceptor(live: str, port: int, name: str, family: int) -> None:
    srv = _listen(port, family)
    held: list[socket.socket] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _up(live, name)
    while True:
        conn, _addr = srv.accept()
        held.append(conn)


def client(live: str, users: int, web_users: int) -> None:
    cfg = _config(live)
    conns = [socket.create_connection(("127.0.0.1", cfg["superserver_port"])) for _ in range(users)]
    conns += [socket.create_connection(("::1", cfg["web_port"])) for _ in range(web_users)]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _up(live, f"clients-{os.getpid()}", str(len(conns)))
    while True:
        time.sleep(3600)


def main(argv: list[str]) -> None:
    live = os.environ["PYTEST_IRIS_LIVE"]
    args = argv[1:]
    if args[0] == "supervisor":
        supervisor(live)
    elif args[0] == "ISCAgent":
        acceptor(live, _config(live)["agent_port"], "agent", socket.AF_INET)
    elif args[0] == "httpd":
        acceptor(live, _config(live)["web_port"], "web_server", socket.AF_INET6)
    elif args[0] == "client":
        client(live, int(args[1]), int(args[2]))
    elif "-cc" in args:
        control(live)
    elif "SuperServer^%SYS.SERVER" in args:
        superserver(live)
    elif "--fd" in args:
        job(live, int(args[args.index("--fd") + 1]))
    else:
        _up(live, f"daemon-{os.getpid()}")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            signal.pause()


if __name__ == "__main__":
    main(sys.argv)
