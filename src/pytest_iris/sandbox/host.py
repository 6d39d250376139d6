"""``SandboxHost``: a whole fake Linux host running IRIS, in one directory.

Layout under ``root``::

    proc/                 procfs in the real format (psutil.PROCFS_PATH target)
      sys/kernel/shmmax   ... the tunables sysctl reads and writes
      meminfo stat net/tcp net/tcp6 <pid>/{stat,status,cmdline,fd/...}
    usr/irissys/          the instance's install dir: iris.cpf, mgr/messages.log
    bin/                  iris, sysctl, sudo, kill (executables; ``host.env`` PATH)
    .sandbox/state.json   process table, sockets, instance registry, clock

Python and the ``bin/`` commands (separate processes) share the host through
these files, so ``subprocess.run(["iris", "stop", "IRIS", "quietly"],
env=host.env)`` and ``host.iris("stop", "IRIS", "quietly")`` do the same.

Typical use::

    with SandboxHost(tmp_path / "host", cpf={"config": {"globals": "0,0,600,0,0,0"}},
                     kernel={"kernel.shmmax": 1 << 30}, users=2) as host:
        with host.procfs():            # psutil now reads host.proc
            psutil.pids()
        host.run(["iris", "list"])     # the sandbox's iris on its own PATH

Entering the host (``with``) builds it if needed and turns on the
containment guard (see :mod:`pytest_iris.sandbox.guard`).
"""

from __future__ import annotations

import contextlib
import copy
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_iris import defaults
from pytest_iris.errors import SandboxError
from pytest_iris.host import Outcome
from pytest_iris.sandbox import _commands, _iris, _procfs, _scripts, _versions
from pytest_iris.sandbox._state import (
    STATE_DIR,
    HostState,
    Instance,
    load_state,
    locked_state,
    peek_state,
    save_state,
)
from pytest_iris.sandbox.layout import (
    DEFAULT_START,
    CpfValues,
    HostLayout,
    write_install,
)
from pytest_iris.sandbox.procview import run_with_procfs

if TYPE_CHECKING:
    from pytest_iris.sandbox.snapshot import Snapshot


def _check_arguments(
    instance: str, kernel: Mapping[str, object], ram: int, users: int, web_users: int, sudo: str
) -> None:
    """Refuse a starting state no host could have, naming the argument."""
    if sudo not in ("nopasswd", "password", "denied"):
        raise SandboxError(
            f"SandboxHost(sudo=...) must be 'nopasswd', 'password' or 'denied', not {sudo!r}"
        )
    if not instance or not instance.replace("_", "").replace("-", "").isalnum():
        raise SandboxError(
            f"SandboxHost(instance=...) must be a name like 'IRIS', not {instance!r}"
        )
    from pytest_iris._limits import MAX_RAM_MB, MAX_USERS

    # the documented maximums (docs/limits.md): users=10**9 built processes until killed
    for name, value, low, high in (
        ("total_ram_mb", ram, 1, MAX_RAM_MB),
        ("users", users, 0, MAX_USERS),
        ("web_users", web_users, 0, MAX_USERS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SandboxError(
                f"SandboxHost({name}=...) must be an int in {low}..{high}, not {value!r}"
            )
    for key, setting in kernel.items():
        if key not in _procfs.KERNEL_DEFAULTS:
            known = ", ".join(sorted(_procfs.KERNEL_DEFAULTS))
            raise SandboxError(f"SandboxHost(kernel=...): unknown tunable {key!r}; known: {known}")
        text = str(setting)
        if key not in ("kernel.ostype", "kernel.osrelease", "kernel.hostname") and not all(
            part.isdigit() for part in text.split()
        ):
            raise SandboxError(
                f"SandboxHost(kernel=...): {key} must be a non-negative number, not {setting!r}"
            )


def _identity(version: str, timezone: str, mirror: tuple[str, str] | None) -> dict[str, Any]:
    """Check ``version``/``timezone``/``mirror`` and return what the state keeps of them."""
    from pytest_iris.sandbox._state import check_timezone

    if mirror is not None and (
        isinstance(mirror, str) or len(mirror) != 2 or not all(isinstance(m, str) for m in mirror)
    ):
        raise SandboxError(
            f"SandboxHost(mirror=...) must be (member type, status) such as "
            f"('Failover', 'Primary'), not {mirror!r}"
        )
    return {
        "versionid": _versions.versionid(version),
        "timezone": check_timezone(timezone),
        "mirror": tuple(mirror) if mirror else ("", ""),
    }


def _write_accounts(etc: Path, state: HostState) -> None:
    """The host's ``passwd``/``group``: root, the IRIS accounts and the sandbox user.

    ``irisowner`` (51773) owns the instance and ``irisusr`` (52773) is the
    effective user of its jobs (facts.md §4.5); ``run_with_procfs`` binds these
    over ``/etc`` so that ``ps -o user`` shows names.
    """
    users = {0: "root", 65534: "nobody", 51773: "irisowner", 52773: "irisusr"}
    users.setdefault(state.uid, state.user)
    etc.mkdir(exist_ok=True)
    homes = {0: "/root", 65534: "/nonexistent"}
    (etc / "passwd").write_text(
        "".join(
            f"{name}:x:{uid}:{uid}::{homes.get(uid, f'/home/{name}')}:"
            f"{'/usr/sbin/nologin' if uid == 65534 else '/bin/bash'}\n"
            for uid, name in sorted(users.items())
        ),
        encoding="utf-8",
    )
    groups = {**users, 65534: "nogroup"}
    (etc / "group").write_text(
        "".join(f"{name}:x:{gid}:\n" for gid, name in sorted(groups.items())), encoding="utf-8"
    )


def _check_extra(default: str, extra: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in extra.items():
        if name.upper() == default.upper():
            raise SandboxError(
                f"SandboxHost(instances=...): {name!r} is the default instance already"
            )
        unknown = set(spec) - {"running", "cpf", "users", "web_users"}
        if unknown:
            raise SandboxError(
                f"SandboxHost(instances={{{name!r}: ...}}): unknown keys {sorted(unknown)}"
            )
        _check_arguments(
            name, {}, 1, int(spec.get("users", 0)), int(spec.get("web_users", 0)), "nopasswd"
        )
        out[name] = dict(spec)
    return out


class SandboxHost(HostLayout):
    """A fake host with one IRIS instance, built under ``root``.

    Parameters (all optional) set the starting state:

    * ``instance``: instance name (``IRIS``); ``running``: up or down.
    * ``cpf``: ``{"config": {"globals": "0,0,600,0,0,0", ...}, "Startup": {...}}``
      written into the shipped real CPF; ``cpf_text``: a whole CPF instead.
    * ``kernel``: sysctl values, ``{"kernel.shmmax": 33554432, "vm.nr_hugepages": 400}``.
    * ``total_ram_mb``: physical memory (meminfo ``MemTotal``; auto globals = 25%).
    * ``users`` / ``web_users``: established client connections on the
      superserver / web port while running.
    * ``user``: ``"root"`` or a login such as ``"irisowner"``; ``sudo``:
      ``"nopasswd"`` (sudo works), ``"password"`` (needs a password, so fails
      non-interactively) or ``"denied"`` (not in sudoers).
    * ``seed``: varies PIDs and inodes; ``start``: the host clock.
    * ``version``: the IRIS release (``2020.4``, ``2021.1``, ``2022.1``,
      ``2023.1`` the default, ``2023.3``, ``2024.1``) or a full versionid:
      ``iris start`` prints that version's console lines and logs its
      allocation form (see ``sandbox/_versions.py``).
    * ``timezone``: the host's IANA time zone (``UTC``): messages.log stamps,
      ``iris list`` dates and the WIJ recovery block are local time, as on IRIS.
    * ``mirror``: ``("Failover", "Primary")`` makes the instance a mirror
      member (``iris list``'s ``mirroring:`` line, ``qlist`` fields 11-12).
    * ``instances``: more instances on the same host, by name, each
      ``{"running": bool, "cpf": {...}, "users": n, "web_users": n}``; the
      n-th is installed in ``opt/<name>`` with superserver port 51773 + n and
      web port 52773 + n (like the real second instance of facts.md §4.1),
      unless its ``cpf`` sets ``[Startup] DefaultPort``/``WebServerPort``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        instance: str = defaults.INSTANCE,
        running: bool = True,
        cpf: CpfValues | None = None,
        cpf_text: str | None = None,
        kernel: Mapping[str, object] | None = None,
        total_ram_mb: int = defaults.TOTAL_RAM_MB,
        users: int = 0,
        web_users: int = 0,
        user: str = "root",
        sudo: str = "nopasswd",
        seed: int = 0,
        start: datetime = DEFAULT_START,
        instances: Mapping[str, Mapping[str, Any]] | None = None,
        version: str = _versions.DEFAULT_RELEASE,
        timezone: str = "UTC",
        mirror: tuple[str, str] | None = None,
    ) -> None:
        self.root = Path(root).absolute()
        self.instance_name = instance
        self._extra = _check_extra(instance, instances or {})
        self._identity = _identity(version, timezone, mirror)
        self._config: dict[str, Any] = {
            "running": running, "cpf": cpf or {}, "cpf_text": cpf_text,
            "kernel": {k: str(v) for k, v in (kernel or {}).items()},
            "total_ram_mb": total_ram_mb, "users": users, "web_users": web_users,
            "user": user, "sudo": sudo, "seed": seed, "start": start,
        }  # fmt: skip
        _check_arguments(instance, kernel or {}, total_ram_mb, users, web_users, sudo)
        self._exit_stack: contextlib.ExitStack | None = None

    # -- paths ------------------------------------------------------------

    @property
    def proc(self) -> Path:
        """The procfs root (what ``psutil.PROCFS_PATH`` points at in :meth:`procfs`)."""
        return self.root / "proc"

    @property
    def env(self) -> dict[str, str]:
        """Environment for subprocesses: the sandbox's ``bin/`` first on PATH."""
        return _scripts.environment(self.root)

    @property
    def built(self) -> bool:
        return (self.root / STATE_DIR / "state.json").exists()

    # -- building ---------------------------------------------------------

    def template_key(self) -> str:
        """Everything the starting state is built from, as a stable string (not the root).

        Two hosts with equal keys build the same files, apart from the root
        each names: :class:`~pytest_iris.sandbox.template.HostTemplates` copies one for the other.
        """
        import json

        return json.dumps(
            [self.instance_name, self._extra, self._identity, self._config],
            sort_keys=True,
            default=str,  # the start datetime (isoformat), values given as objects
        )

    def relocated(self, root: str | os.PathLike[str]) -> SandboxHost:
        """The same starting host at another ``root`` (not built, not entered)."""
        twin = copy.copy(self)
        twin.root = Path(root).absolute()
        twin._exit_stack = None
        return twin

    def build(self) -> SandboxHost:
        """Create the host's files (idempotent: an existing host is reopened)."""
        if self.built:
            return self
        cfg = self._config
        start: datetime = cfg["start"]
        now = start.timestamp()
        (self.root / STATE_DIR).mkdir(parents=True, exist_ok=True)
        self.proc.mkdir(exist_ok=True)
        kernel = {"kernel.hostname": "iris-host", **cfg["kernel"]}
        _procfs.init_tree(self.proc, kernel)
        write_install(self.install_dir, cfg["cpf_text"], cfg["cpf"])
        _scripts.install(self.root)
        state = HostState(
            clock=now - 2 * 3600,
            boot_time=now - 3 * 86400,
            total_ram_mb=cfg["total_ram_mb"],
            user=cfg["user"],
            uid={"root": 0, "irisowner": 51773}.get(cfg["user"], 1000),
            sudo=cfg["sudo"],
            seed=cfg["seed"],
            next_pid=700 + cfg["seed"] % 200,
            timezone=self._identity["timezone"],
        )
        init = state.spawn("systemd", ["/usr/lib/systemd/systemd", "--switched-root", "--system"],
                           ppid=0, uid=0, pid=1, exe="/usr/lib/systemd/systemd")  # fmt: skip
        init.start_ticks = 0
        sshd = state.spawn("sshd", ["/usr/sbin/sshd", "-D"], ppid=1, uid=0, exe="/usr/sbin/sshd")
        # the operator's login shell: /proc/self, and the pid run_with_procfs's command gets
        home = "/root" if state.uid == 0 else f"/home/{cfg['user']}"
        state.spawn("bash", ["-bash"], ppid=sshd.pid, uid=state.uid, role="shell",
                    exe="/usr/bin/bash", cwd=home)  # fmt: skip
        _iris.spawn_agent(state)
        self._add_instance(state, self.instance_name, self.install_dir, cfg, default=True)
        for n, (name, spec) in enumerate(self._extra.items(), 1):
            directory = self.root / "opt" / name.lower()
            ports = {"DefaultPort": str(51773 + n - 1), "WebServerPort": str(52773 + n)}
            values = {
                **spec.get("cpf", {}),
                "Startup": {**ports, **spec.get("cpf", {}).get("Startup", {})},
            }
            write_install(directory, None, values)
            self._add_instance(state, name, directory, {**spec, "cpf": values}, default=False)
        state.clock = max(state.clock, now)
        _write_accounts(self.root / "etc", state)
        save_state(self.root, state, durable=False)
        _procfs.render(self.proc, state, fresh=True)
        return self

    def _add_instance(
        self,
        state: HostState,
        name: str,
        directory: Path,
        spec: Mapping[str, Any],
        *,
        default: bool,
    ) -> None:
        """Register an instance, start it if it is to be running, connect its users."""
        cpf = directory / "iris.cpf"
        inst = Instance(
            name=name, directory=str(directory), cpf=str(cpf), default=default, since=state.clock,
            version=self._identity["versionid"],
        )  # fmt: skip
        if default:
            inst.mirror_type, inst.mirror_status = self._identity["mirror"]
        state.instances[name] = inst
        if spec.get("running", True):
            outcome = _iris.start(state, self.proc, inst, quietly=True, durable=False)
            if outcome.status:
                raise SandboxError(
                    f"starting state is inconsistent: instance {name} is to be running but its "
                    f"startup fails with this CPF and kernel:\n{outcome.stdout}"
                )
            _iris.connect_users(
                state, inst, int(spec.get("users", 0)), int(spec.get("web_users", 0))
            )
        else:
            from pytest_iris.sandbox._cpfio import ports

            inst.superserver_port, inst.web_port = ports(cpf)

    # -- context management ----------------------------------------------

    def __enter__(self) -> SandboxHost:
        self.build()
        stack = contextlib.ExitStack()
        stack.enter_context(self.guard())
        self._exit_stack = stack
        return self

    def __exit__(self, *exc: object) -> None:
        if self._exit_stack is not None:
            self._exit_stack.close()
            self._exit_stack = None

    def guard(self) -> contextlib.AbstractContextManager[object]:
        """Fail with ContainmentError when code reaches the real host (see ``guard``)."""
        from pytest_iris.sandbox import guard

        return guard.contained(self)

    def procfs(self) -> contextlib.AbstractContextManager[None]:
        """Point the real psutil at this host's procfs (and route its signals here)."""
        from pytest_iris.sandbox import _psutil

        return _psutil.pointed_at(self)

    # -- acting on the host ----------------------------------------------

    def state(self) -> HostState:
        """A fresh copy of the host's state (read-only use)."""
        return load_state(self.root)

    @contextlib.contextmanager
    def _mutate(self) -> Iterator[HostState]:
        with locked_state(self.root) as state:
            yield state
            _procfs.render(self.proc, state)

    def run(self, argv: Sequence[str] | str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run a command with :attr:`env` in :attr:`root` (text, output captured unless given).

        A string runs through the shell when ``shell=True`` is passed, as with subprocess.
        """
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 60)
        kwargs.setdefault("cwd", self.root)
        kwargs.setdefault("env", self.env)
        args: Sequence[str] | str = argv if isinstance(argv, str) else list(argv)
        return subprocess.run(args, check=False, **kwargs)

    def run_with_procfs(
        self, argv: Sequence[str], **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """``argv`` with :attr:`proc` bound over ``/proc`` in a private mount namespace.

        Real ``ps``, ``top``, ``sysctl -a``, ``free`` ... then read this host.
        Raises SandboxError naming why when mount namespaces are not permitted
        (:func:`pytest_iris.sandbox.procview.unavailable` says so beforehand).
        """
        kwargs.setdefault("env", self.env)
        kwargs.setdefault("cwd", self.root)
        return run_with_procfs(
            self.proc, argv, self_pid=_procfs.shell_pid(self.state()), etc=self.root / "etc",
            **kwargs,
        )  # fmt: skip

    def iris(self, *args: str) -> Outcome:
        """The ``iris`` command run in-process (same code as ``bin/iris``)."""
        return _commands.iris_command(self.root, list(args))

    def sysctl(self, *args: str, root: bool = True) -> Outcome:
        """The ``sysctl`` command in-process; ``root=False`` runs it as the sandbox user."""
        return _commands.sysctl_command(self.root, list(args), as_root=root)

    def read_sysctl(self, key: str) -> str:
        return _procfs.read_key(self.proc, key)

    def set_sysctl(self, key: str, value: object) -> None:
        """Set a tunable directly, as the test's own setup (no privilege check)."""
        _commands.write_sysctl(self.root, key, str(value))

    def connect(self, users: int = 1, web_users: int = 0, name: str | None = None) -> None:
        """Clients connect to the running instance (the default one unless ``name``)."""
        from pytest_iris._limits import MAX_USERS

        with self._mutate() as state:
            inst = self._instance(state, name)
            if inst.status != "running":
                raise SandboxError(f"instance {inst.name} is down: clients cannot connect")
            for what, count in (("users", users), ("web_users", web_users)):
                # as a scenario's connect: (docs/limits.md); 10**9 built processes until killed
                if (
                    isinstance(count, bool)
                    or not isinstance(count, int)
                    or not 0 <= count <= MAX_USERS
                ):
                    raise SandboxError(
                        f"connect({what}=...) must be an int in 0..{MAX_USERS}, not {count!r}"
                    )
            _iris.connect_users(state, inst, users, web_users)

    def disconnect(self, users: int | None = None, name: str | None = None) -> int:
        """Superserver clients log off (all when ``users`` is None); returns how many."""
        with self._mutate() as state:
            inst = self._instance(state, name)
            jobs = [
                p.pid
                for p in state.processes.values()
                if p.instance == inst.name and p.role == "user_job"
            ]
            gone = jobs if users is None else jobs[:users]
            for pid in gone:
                state.exit(pid)
            inst.users -= len(gone)
            return len(gone)

    def signal(self, pid: int, sig: int) -> None:
        """Deliver a signal to a fake process (what ``kill`` and psutil do here)."""
        _commands.deliver_signal(self.root, pid, sig)

    def advance(self, seconds: float) -> None:
        """Move the host clock forward (process times and uptime follow)."""
        with self._mutate() as state:
            state.advance(seconds)

    def clock(self) -> float:
        """The host clock (epoch seconds)."""
        return peek_state(self.root).clock

    def now(self) -> datetime:
        """The host clock as an aware ``datetime`` in the host's time zone."""
        from pytest_iris.sandbox._state import zone

        state = peek_state(self.root)
        return datetime.fromtimestamp(state.clock, zone(state.timezone))

    @property
    def total_ram_mb(self) -> int:
        return peek_state(self.root).total_ram_mb

    def _instance(self, state: HostState, name: str | None = None) -> Instance:
        name = name or self.instance_name
        try:
            return state.instances[name]
        except KeyError:
            raise SandboxError(f"no IRIS instance {name!r} on this host") from None

    # -- looking at the host ----------------------------------------------

    def status(self, name: str | None = None) -> str:
        """``"running"`` or ``"down"``."""
        return self._instance(peek_state(self.root), name).status

    def health(self, name: str | None = None) -> str:
        return self._instance(peek_state(self.root), name).health

    def pids(self, name: str | None = None) -> dict[str, list[int]]:
        """The instance's PIDs by role (``control``, ``write_daemon``, ``user_job`` ...)."""
        state = peek_state(self.root)
        inst = self._instance(state, name)
        roles: dict[str, list[int]] = {}
        for proc in sorted(state.processes.values(), key=lambda p: p.pid):
            if proc.instance == inst.name:
                roles.setdefault(proc.role, []).append(proc.pid)
        return roles

    def processes(self) -> dict[int, tuple[str, str]]:
        """Every process of the host: pid -> (comm, role)."""
        return {p.pid: (p.comm, p.role) for p in peek_state(self.root).processes.values()}

    def listening(self) -> tuple[int, ...]:
        """Ports with a listening socket."""
        return tuple(
            sorted({s.lport for s in peek_state(self.root).sockets.values() if s.state == "LISTEN"})
        )

    def hugepages_free(self) -> int:
        """``HugePages_Free`` of the host's meminfo."""
        with open(self.proc / "meminfo", encoding="ascii") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("HugePages_Free"))

    def refresh_procfs(self) -> None:
        """Nothing to do: every change renders the procfs at once."""

    def connections(self, name: str | None = None) -> int:
        """Established client connections to the instance's superserver and web ports."""
        state = peek_state(self.root)
        return _iris.established(state, self._instance(state, name))

    def messages(self) -> list[Any]:
        """The instance's messages.log parsed (``LogEntry`` / ``LogProblem`` items)."""
        from pytest_iris.log.reader import read_log

        return list(read_log(self.messages_log))

    def log_text(self) -> str:
        return self.messages_log.read_text(encoding="utf-8")

    def snapshot(self) -> Snapshot:
        """Everything observable about the host now, for :func:`diff` assertions."""
        from pytest_iris.sandbox.snapshot import take

        return take(self)

    def __repr__(self) -> str:
        return f"SandboxHost({str(self.root)!r}, instance={self.instance_name!r})"
