"""``LiveSandbox``: the sandbox host made of real parts inside Linux namespaces.

``unshare --user --map-root-user --pid --fork --mount-proc --ipc --net``
starts a supervisor as PID 1 of new namespaces. In them run real processes
whose comm is ``irisdb`` (a symlink to Python named like IRIS's kernel
executable; see :mod:`._role`), real listening sockets on 1972 and 52773
(and the ISC agent on 2188) on the namespace's own loopback, and real client
connections to them. ``iris start`` asks the namespace's kernel for the
shared memory with a real ``shmget`` of the planned size, so the real
``kernel.shmmax`` of the namespace's IPC namespace decides; ``sysctl`` is the
real ``sysctl`` run in that IPC (and user) namespace through ``nsenter``.

What stays emulated: the CPF and messages.log are files (written with the
same CPF tool and log generator as the fake host), huge pages are not used
(``vm.nr_hugepages`` is not namespaced, so the live sandbox refuses to set
it), and the sandbox user is the namespace's root (``user``/``sudo`` are
ignored).

psutil sees the namespace through :meth:`LiveSandbox.procfs`: a directory
of links to ``/proc/<pid>`` for each namespace process (host PIDs) and
``net`` -> ``/proc/<supervisor>/net`` (the namespace's sockets).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_iris import defaults
from pytest_iris.atomic import write_atomic
from pytest_iris.errors import SandboxError
from pytest_iris.host import Outcome
from pytest_iris.sandbox._state import HostState, Instance, load_state, locked_state, save_state
from pytest_iris.sandbox.layout import DEFAULT_START, HostLayout, write_install

if TYPE_CHECKING:
    from pytest_iris.sandbox.snapshot import Snapshot

UNSHARE = (
    "unshare",
    "--user",
    "--map-root-user",
    "--pid",
    "--fork",
    "--mount-proc",
    "--ipc",
    "--net",
)
#: tunables that belong to the IPC namespace (the only ones the live sandbox may set)
IPC_KEYS = frozenset({"kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.sem",
                      "kernel.msgmni", "kernel.msgmax", "kernel.msgmnb", "kernel.shm_rmid_forced"})  # fmt: skip
#: enter the namespaces as the caller: without --preserve-credentials nsenter calls
#: setgroups(), which a user namespace made by a non-root user denies (EPERM)
NSENTER = ("nsenter", "--preserve-credentials")
SYSCTL = "/usr/sbin/sysctl"
_TIMEOUT = 20.0


@cache
def namespaces_available() -> str:
    """'' when the live sandbox can run here, else why not (for ``pytest.skip``)."""
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return "unshare/nsenter (util-linux) not installed"
    if not os.path.exists(SYSCTL):
        return f"{SYSCTL} (procps) not installed"
    from pytest_iris.sandbox import guard

    with guard.bypass():
        try:
            done = subprocess.run(
                [*UNSHARE, "true"], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unshare failed: {exc}"
    if done.returncode != 0:
        return f"unshare is not permitted here: {done.stderr.strip() or done.returncode}"
    return ""


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the process that started it dies."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode() for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def _daemon_argvs() -> list[list[str]]:
    from pytest_iris.sandbox.live._iris import daemon_argvs

    return daemon_argvs()


@cache
def _routine_roles() -> dict[str, str]:
    from pytest_iris.sandbox._roles import DAEMONS

    return {routine: role for role, routine, _job in DAEMONS}


def _role(argv: list[str]) -> str:
    name = os.path.basename(argv[0]) if argv else ""
    if name in ("httpd", "ISCAgent", "client"):
        return {"httpd": "web_server", "ISCAgent": "agent", "client": "client"}[name]
    if "-cc" in argv:
        return "control"
    if "%SYS.BINDSRV" in argv:  # _iris.CLIENT_JOB
        return "user_job"
    if "%SYS.cspServer3" in argv:  # _iris.GATEWAY_JOB
        return "gateway_job"
    if "SWRTDMN" in argv:
        return "write_daemon_helper"
    if "SuperServer^%SYS.SERVER" in argv:
        return "superserver"
    roles = _routine_roles()
    return next((roles[arg] for arg in argv if arg in roles), "init")


class LiveSandbox(HostLayout):
    """A host of real processes and sockets in private namespaces, rooted at ``root``.

    Keywords as :class:`~pytest_iris.sandbox.SandboxHost`; ``kernel`` may only
    hold IPC-namespace keys (``kernel.shmmax`` ...). Use as a context manager:
    entering starts the namespaces (and the guard), leaving ends every process.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        instance: str = defaults.INSTANCE,
        running: bool = True,
        cpf: Mapping[str, Mapping[str, object]] | None = None,
        cpf_text: str | None = None,
        kernel: Mapping[str, object] | None = None,
        total_ram_mb: int | None = None,
        users: int = 0,
        web_users: int = 0,
        seed: int = 0,
        start: datetime = DEFAULT_START,
        user: str = "root",
        sudo: str = "nopasswd",
        instances: Mapping[str, Mapping[str, Any]] | None = None,
        version: str = "2023.1",
        timezone: str = "UTC",
        mirror: tuple[str, str] | None = None,
    ) -> None:
        from pytest_iris.sandbox.host import _identity

        self._identity = _identity(version, timezone, mirror)
        if instances:
            raise SandboxError(
                "the live sandbox runs one instance; more instances are a fake-host feature"
            )
        self.root = Path(root).absolute()
        self.instance_name = instance
        bad = sorted(set(kernel or {}) - IPC_KEYS)
        if bad:
            raise SandboxError(
                f"the live sandbox can only set IPC-namespace tunables, not {bad}: "
                "those are the real host's (use the fake SandboxHost for them)"
            )
        self._cfg: dict[str, Any] = {
            "running": running, "cpf": cpf or {}, "cpf_text": cpf_text,
            "kernel": {k: str(v) for k, v in (kernel or {}).items()},
            "total_ram_mb": total_ram_mb, "users": users, "web_users": web_users,
            "seed": seed, "start": start,
        }  # fmt: skip
        self._unshare: subprocess.Popen[bytes] | None = None
        self._stack: contextlib.ExitStack | None = None

    # -- paths -------------------------------------------------------------

    @property
    def live_dir(self) -> Path:
        return self.root / ".live"

    @property
    def proc(self) -> Path:
        """The psutil view of the namespaces (refreshed by :meth:`procfs`)."""
        return self.live_dir / "proc"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.bin_dir}:/usr/local/bin:/usr/bin:/bin"
        env["PYTEST_IRIS_SANDBOX_ROOT"] = str(self.root)
        return env

    @property
    def supervisor(self) -> int:
        return int(json.loads((self.live_dir / "ns.json").read_text())["supervisor"])

    # -- life cycle ----------------------------------------------------------

    def __enter__(self) -> LiveSandbox:
        reason = namespaces_available()
        if reason:
            raise SandboxError(f"live sandbox unavailable: {reason}")
        stack = contextlib.ExitStack()
        self._stack = stack
        try:
            from pytest_iris.sandbox import guard

            stack.callback(self._shutdown)
            self._build()
            stack.enter_context(guard.contained(self))
        except BaseException:
            stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def _build(self) -> None:
        cfg = self._cfg
        live = self.live_dir
        for sub in ("up", "proc"):
            (live / sub).mkdir(parents=True, exist_ok=True)
        write_install(self.install_dir, cfg["cpf_text"], cfg["cpf"])
        (self.install_dir / "mgr" / "user").mkdir(exist_ok=True)  # the user jobs' directory
        python = os.path.realpath(sys.executable)
        names = {"irisdb": self.install_dir / "bin" / "irisdb", "httpd": self.install_dir / "httpd" / "bin" / "httpd",
                 "ISCAgent": live / "ISCAgent", "client": live / "client"}  # fmt: skip
        for link in names.values():
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                link.symlink_to(python)
        script = live / "role.py"
        script.write_text(
            resources.files("pytest_iris.sandbox.live").joinpath("_role.py").read_text("utf-8")
        )
        meminfo = Path("/proc/meminfo").read_text(encoding="ascii").split()
        real_ram = int(meminfo[meminfo.index("MemTotal:") + 1]) // 1024
        self._ram = cfg["total_ram_mb"] or real_ram
        self._write_config(shm_sizes=[])
        self._install_bin()
        now = cfg["start"].timestamp()
        state = HostState(
            clock=now, boot_time=now - 86400, total_ram_mb=self._ram, seed=cfg["seed"], next_pid=300,
            timezone=self._identity["timezone"],
        )  # fmt: skip
        state.instances[self.instance_name] = Instance(
            name=self.instance_name, directory=str(self.install_dir), cpf=str(self.cpf_path),
            default=True, since=now, version=self._identity["versionid"],
        )  # fmt: skip
        mirror = self._identity["mirror"]
        (
            state.instances[self.instance_name].mirror_type,
            state.instances[self.instance_name].mirror_status,
        ) = mirror
        (self.root / ".sandbox").mkdir(exist_ok=True)
        save_state(self.root, state)
        self._start_namespaces()
        if cfg["running"]:
            out = self.iris("start", self.instance_name, "quietly")
            if out.status:
                raise SandboxError(
                    f"starting state is inconsistent: the live instance fails to start:\n{out.stdout}"
                )
            if cfg["users"] or cfg["web_users"]:
                self.connect(cfg["users"], cfg["web_users"])

    def _write_config(self, **changes: Any) -> None:
        path = self.live_dir / "config.json"
        data = json.loads(path.read_text()) if path.exists() else {
            "bin": {"irisdb": str(self.install_dir / "bin" / "irisdb"),
                    "httpd": str(self.install_dir / "httpd" / "bin" / "httpd"),
                    "ISCAgent": str(self.live_dir / "ISCAgent"), "client": str(self.live_dir / "client")},
            "script": str(self.live_dir / "role.py"), "mgr": f"{self.install_dir}/mgr",
            "install": str(self.install_dir), "cpf": str(self.cpf_path), "instance": self.instance_name,
            "superserver_port": 1972, "web_port": 52773, "agent_port": 2188, "helpers": 2,
            "kernel": self._cfg["kernel"], "daemons": _daemon_argvs(),
        }  # fmt: skip
        data.update(changes)
        # the roles read it with no lock: whole, from a temporary of its own per write
        write_atomic(path, json.dumps(data), durable=False)

    def _install_bin(self) -> None:
        self.bin_dir.mkdir(exist_ok=True)
        for name in ("iris", "sysctl"):
            path = self.bin_dir / name
            path.write_text(
                f"#!{sys.executable}\nimport sys\nfrom pytest_iris.sandbox.live import main\n"
                f"sys.exit(main({name!r}, {str(self.root)!r}, sys.argv[1:]))\n"
            )
            path.chmod(0o755)
        # sudo is the fake host's (its policy file is this root's state): the
        # namespace's user is root already, so it only runs the command
        from pytest_iris.sandbox._scripts import install_command

        install_command(self.bin_dir, self.root, "sudo")

    def _start_namespaces(self) -> None:
        from pytest_iris.sandbox import guard

        # nothing of the test's environment (PYTEST_IRIS_* ...) in the namespace's
        # processes (ps e): the supervisor gets its directory in argv, the processes it
        # starts the fake host's environment (_role._spawn)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        python = os.path.realpath(sys.executable)
        with guard.bypass():
            # --kill-child: unshare's death kills the namespace's PID 1 (and so all
            # of it); PDEATHSIG: this process's death kills unshare. No orphans.
            self._unshare = subprocess.Popen(
                [*UNSHARE, "--kill-child", python, str(self.live_dir / "role.py"), "supervisor",
                 str(self.live_dir)],
                env=env, stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        self._wait_for("supervisor")
        children = _children(self._unshare.pid)
        if not children:
            raise SandboxError("live sandbox: the namespace's PID 1 is missing")
        write_atomic(
            self.live_dir / "ns.json",
            json.dumps({"supervisor": children[0], "unshare": self._unshare.pid}),
            durable=False,
        )

    def _wait_for(self, *names: str, prefix: str | None = None, count: int = 0) -> None:
        deadline = time.monotonic() + _TIMEOUT
        up = self.live_dir / "up"
        while time.monotonic() < deadline:
            present = set(os.listdir(up))
            if all(n in present for n in names) and (
                prefix is None or sum(1 for p in present if p.startswith(prefix)) >= count
            ):
                return
            if self._unshare is not None and self._unshare.poll() is not None:
                raise SandboxError(
                    f"live sandbox: the namespaces ended (status {self._unshare.returncode})"
                )
            time.sleep(0.01)
        raise SandboxError(f"live sandbox: timed out waiting for {names or prefix}")

    def _send(self, line: str) -> None:
        with open(self.live_dir / "ctl", "w", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def _shutdown(self) -> None:
        proc = self._unshare
        if proc is None:
            return
        from pytest_iris.sandbox import guard

        with guard.bypass():
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, 9)  # PID 1 of the namespace dies: the kernel ends the rest
            proc.wait(timeout=10)
        self._unshare = None

    # -- looking -------------------------------------------------------------

    def pids(self, name: str | None = None) -> dict[str, list[int]]:
        """The namespace's processes by role, as host PIDs (what psutil shows)."""
        roles: dict[str, list[int]] = {}
        stack = [self.supervisor]
        while stack:
            pid = stack.pop()
            roles.setdefault(_role(_cmdline(pid)), []).append(pid)
            stack += _children(pid)
        for pids in roles.values():
            pids.sort()
        helpers = roles.pop("write_daemon_helper", [])
        for n, pid in enumerate(helpers, 1):
            roles[f"write_daemon_helper_{n}"] = [pid]
        return roles

    def status(self, name: str | None = None) -> str:
        return load_state(self.root).instances[name or self.instance_name].status

    def health(self, name: str | None = None) -> str:
        return load_state(self.root).instances[name or self.instance_name].health

    def processes(self) -> dict[int, tuple[str, str]]:
        """The namespace's processes: host pid -> (comm, role)."""
        out: dict[int, tuple[str, str]] = {}
        for role, pids in self.pids().items():
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
                        out[pid] = (fh.read().strip(), role)
                except OSError:
                    continue
        return out

    def hugepages_free(self) -> int:
        """The real host's (huge pages are not namespaced)."""
        with open("/proc/meminfo", encoding="ascii") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("HugePages_Free"))

    # -- the clock -------------------------------------------------------------

    def clock(self) -> float:
        return load_state(self.root).clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def advance(self, seconds: float) -> None:
        with locked_state(self.root) as state:
            state.advance(seconds)

    @property
    def total_ram_mb(self) -> int:
        return load_state(self.root).total_ram_mb

    def connections(self, name: str | None = None) -> int:
        """Established connections to 1972/52773, read from the namespace's /proc/net/tcp{,6}."""
        count = 0
        for table in ("tcp", "tcp6"):
            with open(f"/proc/{self.supervisor}/net/{table}", encoding="ascii") as fh:
                next(fh)
                for line in fh:
                    fields = line.split()
                    port = int(fields[1].rsplit(":", 1)[1], 16)
                    if fields[3] == "01" and port in (1972, 52773):
                        count += 1
        return count

    def log_text(self) -> str:
        return self.messages_log.read_text(encoding="utf-8")

    @contextlib.contextmanager
    def procfs(self) -> Iterator[None]:
        """Point psutil at the namespaces (links to /proc/<pid> and the namespace's net)."""
        from pytest_iris.sandbox import _psutil

        self.refresh_procfs()
        with _psutil.pointed_at(self, real=True):
            yield

    def refresh_procfs(self) -> None:
        view = self.proc
        for entry in os.listdir(view):
            os.unlink(view / entry)
        pids = [pid for group in self.pids().values() for pid in group]
        for pid in pids:
            os.symlink(f"/proc/{pid}", view / str(pid))
        os.symlink(f"/proc/{self.supervisor}/net", view / "net")
        for name in ("stat", "meminfo", "uptime", "loadavg", "cpuinfo", "vmstat"):
            os.symlink(f"/proc/{name}", view / name)

    # -- acting ----------------------------------------------------------------

    def sysctl(self, *args: str) -> Outcome:
        """The real ``sysctl`` in the namespace's user and IPC namespaces.

        Writes are limited to IPC-namespace keys: the namespace's root maps to
        the real root (the namespaces were made by root), so a write to a
        global tunable such as ``vm.nr_hugepages`` would reach the real host.
        Such writes, and loading files (``-p``/``--system``), are refused with
        procps' permission-denied text before sysctl runs.
        """
        from pytest_iris.sandbox import guard

        for arg in args:
            if arg.startswith("-") and "=" not in arg:
                if set(arg.lstrip("-")) - set("neqaAXNwb") or arg.startswith("--"):
                    return Outcome(
                        1, "", f"sysctl: option {arg} is not available in the live sandbox\n"
                    )
            elif "=" in arg:
                key = arg.split("=", 1)[0].strip().replace("/", ".")
                if key not in IPC_KEYS:
                    return Outcome(1, "", f'sysctl: permission denied on key "{key}"\n')
        argv = [*NSENTER, f"--target={self.supervisor}", "--user", "--ipc", "--", SYSCTL, *args]
        with guard.bypass():
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return Outcome(done.returncode, done.stdout, done.stderr)

    def set_sysctl(self, key: str, value: object) -> None:
        """Set an IPC-namespace tunable with the real ``sysctl -w`` in the namespace."""
        out = self.sysctl("-w", f"{key}={value}")
        if out.status:
            raise SandboxError(f"sysctl -w {key}={value}: {out.stderr.strip()}")

    def read_sysctl(self, key: str) -> str:
        out = self.sysctl("-n", key)
        if out.status:
            raise SandboxError(f"sysctl {key}: {out.stderr.strip()}")
        return out.stdout.rstrip("\n")

    def run(self, argv: Sequence[str] | str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("cwd", self.root)
        kwargs.setdefault("env", self.env)
        return subprocess.run(argv if isinstance(argv, str) else list(argv), check=False, **kwargs)

    def run_with_procfs(
        self, argv: Sequence[str], **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """``argv`` inside the namespaces, whose ``/proc`` is the namespace's own (real) one."""
        from pytest_iris.sandbox import guard
        from pytest_iris.sandbox.procview import TOOLS_PATH, refuse_guarded

        refuse_guarded(argv)
        env = dict(kwargs.pop("env", None) or os.environ)
        env["PATH"] = TOOLS_PATH
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("cwd", self.root)
        command = [*NSENTER, f"--target={self.supervisor}", "--user", "--pid", "--mount",
                   "--ipc", "--net", "--", *argv]  # fmt: skip
        with guard.bypass():
            return subprocess.run(command, env=env, check=False, **kwargs)

    def signal(self, pid: int, sig: int) -> None:
        """A real signal to one of the namespace's processes (others are refused)."""
        from pytest_iris.sandbox import guard

        if pid not in self.processes():
            raise SandboxError(f"pid {pid} is not a process of this live sandbox")
        with guard.bypass():
            os.kill(pid, sig)

    def disconnect(self, users: int | None = None) -> int:
        """Superserver clients log off: their job processes end (all when ``users`` is None)."""
        import signal as signals

        jobs = self.pids().get("user_job", [])
        gone = jobs if users is None else jobs[:users]
        for pid in gone:
            self.signal(pid, signals.SIGTERM)
        deadline = time.monotonic() + _TIMEOUT
        while any(os.path.exists(f"/proc/{pid}/cmdline") and _cmdline(pid) for pid in gone):
            if time.monotonic() > deadline:
                raise SandboxError(f"live sandbox: jobs {gone} did not end")
            time.sleep(0.01)
        with locked_state(self.root) as state:
            inst = state.instances[self.instance_name]
            inst.users = max(0, inst.users - len(gone))
        return len(gone)

    def connect(self, users: int = 1, web_users: int = 0) -> None:
        """Real clients connect from inside the namespace.

        Each superserver client gets a ``%SYS.BINDSRV`` job, each web user a
        ``%SYS.cspServer3`` job (httpd reaches the superserver for it), as on the fake host.
        """
        up = os.listdir(self.live_dir / "up")
        jobs = sum(1 for p in up if p.startswith("job-"))
        gateway_jobs = sum(1 for p in up if p.startswith("gw-"))
        clients = sum(1 for p in up if p.startswith("clients-"))
        self._send(f"clients {users} {web_users}")
        self._wait_for(prefix="clients-", count=clients + 1)
        self._wait_for(prefix="job-", count=jobs + users)
        self._wait_for(prefix="gw-", count=gateway_jobs + web_users)
        with locked_state(self.root) as state:
            state.instances[self.instance_name].users += users
            state.instances[self.instance_name].web_users += web_users

    def iris(self, *args: str) -> Outcome:
        """``iris list|qlist|all|start|stop`` for the live instance."""
        from pytest_iris.sandbox.live._iris import iris_command

        return iris_command(self, list(args))

    def snapshot(self) -> Snapshot:
        """Kernel (the namespace's), processes, ports, connections, CPF and log now."""
        from pytest_iris.sandbox.snapshot import take

        return take(self)

    def state(self) -> HostState:
        """The bookkeeping of the live host (instance status, clock)."""
        return load_state(self.root)

    def listening(self) -> tuple[int, ...]:
        """Ports with a listening socket in the namespace."""
        ports: set[int] = set()
        for table in ("tcp", "tcp6"):
            with open(f"/proc/{self.supervisor}/net/{table}", encoding="ascii") as fh:
                next(fh)
                for line in fh:
                    fields = line.split()
                    if fields[3] == "0A":
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        return tuple(sorted(ports))


def main(name: str, root: str, argv: list[str]) -> int:
    """Entry of the live sandbox's ``bin/iris`` and ``bin/sysctl`` (the commands: :mod:`._iris`)."""
    from pytest_iris.sandbox.live._iris import iris_command

    host = LiveSandbox.__new__(LiveSandbox)
    host.root, host._unshare = Path(root), None
    host.instance_name = next(iter(load_state(host.root).instances))
    out = host.sysctl(*argv) if name == "sysctl" else iris_command(host, argv)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    return out.status


__all__ = ["LiveSandbox", "main", "namespaces_available"]
