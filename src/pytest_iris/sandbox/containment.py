"""OS-level containment of the child processes a test starts while a sandbox is active.

The audit hook in :mod:`pytest_iris.sandbox.guard` sees what *this* process
does; it cannot see what a child does (``sh -c 'echo 1 > /proc/sys/...'``,
``awk 'BEGIN{system(...)}'``, a renamed copy of ``sysctl``, a script read
from stdin, a multiprocessing ``spawn`` child ...). So every child started
while a sandbox is active goes through ``_posixsubprocess.fork_exec`` (which
``subprocess``, ``os.system`` here and multiprocessing's ``spawn`` all use)
and is started in one of two modes:

``namespaces``
    The child runs in a private mount namespace in which ``/proc/sys``,
    ``/proc/sysrq-trigger``, ``/sys``, ``/etc/sysctl.d`` and
    ``/etc/sysctl.conf`` (and every mount below them) are bound read-only,
    and it loses the power to undo that: run as real root, its capabilities
    are cut to file ownership, setuid and kill (no ``CAP_SYS_ADMIN``: no
    mount, unmount or remount; no module loading, raw I/O, ptrace, clock or
    network changes); run as another user, it goes on in a user namespace
    below, where the kernel locks inherited mounts. A Landlock signal scope
    (Linux 6.12+) stops it and its descendants from signalling any process
    outside them (``kill``, ``pidfd_send_signal``, psutil). The child is the
    real process: its pid, ``$$``, psutil and ``terminate()`` behave as
    without a sandbox. Where Landlock cannot scope signals, the child gets
    a PID namespace of its own instead (then ``$$`` is 1 inside).

    As root, the namespace is built once per process (and again when this
    process's mounts change) by a holder process, and each child joins it
    in a ``preexec_fn`` (``setns``, capability drop, Landlock): a few
    syscalls instead of a launcher per child (``bench/containment.py``).
    Otherwise a launcher (``unshare`` + a shell script doing the binds) runs
    per child. Either way the read-only state is checked before any
    command runs, and the command is refused otherwise.
    The sandbox's own ``iris``, ``sysctl`` and ``kill`` (files that only act
    on the fake host) start directly; its ``sudo`` is contained like any
    other program, so whatever it runs "as root" is contained too.
``refuse``
    Where user namespaces are not permitted, only the sandbox's own commands
    start; anything else raises :class:`~pytest_iris.errors.ContainmentError`
    (also when the sandbox's ``sudo`` would run it).

:func:`mode` probes once per process and caches (children are told the mode
in their environment); ``PYTEST_IRIS_CONTAINMENT=refuse`` forces the strict
mode. The pytest report header names the mode (:mod:`._mode`, no probe).
"""

from __future__ import annotations

import _posixsubprocess
import atexit
import ctypes
import functools
import hashlib
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

from pytest_iris.errors import ContainmentError
from pytest_iris.sandbox._mode import MODE_ENV, MODES, describe, expected_mode
from pytest_iris.sandbox._unwrap import unwrap

__all__ = ["MODES", "MODE_ENV", "decide", "describe", "expected_mode", "install", "mode"]

#: what the launcher binds read-only (with every mount below)
READ_ONLY: Final = ("/proc/sys", "/proc/sysrq-trigger", "/sys", "/etc/sysctl.d",
                     "/etc/sysctl.conf")  # fmt: skip
#: capabilities a contained root child keeps: act on files and its own processes as root;
#: no mount, module, raw I/O, ptrace, clock, network or reboot powers
KEPT_CAPS: Final = (
    "-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+net_bind_service"
)
#: the same, as capability numbers (linux/capability.h)
_KEPT_CAP_NUMBERS: Final = frozenset({0, 1, 3, 4, 5, 6, 7, 10})
#: files the launcher proves unwritable before it runs the command
_PROBES: Final = ("/proc/sys/kernel/shmmax", "/proc/sys/vm/nr_hugepages", "/proc/sysrq-trigger", "/sys/kernel",
                  "/etc/sysctl.d", "/etc/sysctl.conf")  # fmt: skip
#: exit status of a launcher that could not contain its command
REFUSED_STATUS: Final = 126

#: the binds, made read-only, then a check that every target is unwritable
_SETUP = """set -e
mounts() {{ {awk} -v t="$*" 'BEGIN {{ n = split(t, p, " ") }}
  {{ for (i = 1; i <= n; i++) if ($5 == p[i] || index($5, p[i] "/") == 1) print $5 }}' \
  /proc/self/mountinfo | {sort} -u; }}
for p in {read_only}; do
  [ -e "$p" ] && {mount} --rbind "$p" "$p"
done
for m in $(mounts {read_only}); do  # one pass over every mount below the targets
  {mount} -o remount,bind,ro "$m" 2>/dev/null \
    || {mount} -o remount,bind,ro,nosuid,nodev,noexec "$m" 2>/dev/null || true
done
for p in {probes} $(mounts {read_only}); do
  if [ -e "$p" ] && [ -w "$p" ]; then
    echo "pytest-iris containment: $p is still writable; refusing to run $1" >&2
    exit {refused}
  fi
done
"""
#: per child (launcher): the last step when the test runs as real root: drop the powers
_AS_ROOT = "{setpriv} --bounding-set {caps} --inh-caps -all --"
#: ... and otherwise: a user namespace below, in which the binds are locked by the kernel
_AS_USER = "{unshare} --user --map-root-user --mount --"
#: the holder (root): set up once, say so, then live until this process closes its stdin
_HOLD = "echo ready\nread -r _ || true\n"

_real_fork_exec: Callable[..., int] = _posixsubprocess.fork_exec
_lock = threading.Lock()
_local = threading.local()


@functools.cache
def _tools() -> dict[str, str] | None:
    """Absolute paths of what the launcher runs (None: one is missing)."""
    found = {name: shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin") for name in
             ("unshare", "mount", "awk", "sort", "sh", "setpriv")}  # fmt: skip
    if any(path is None for path in found.values()):
        return None
    return {name: str(path) for name, path in found.items()}


def _setup(tools: dict[str, str]) -> str:
    return _SETUP.format(
        read_only=" ".join(READ_ONLY), probes=" ".join(_PROBES), refused=REFUSED_STATUS,
        **tools,
    )  # fmt: skip


def _script(tools: dict[str, str], as_root: bool) -> str:
    final = (_AS_ROOT if as_root else _AS_USER).format(caps=KEPT_CAPS, **tools)
    return _setup(tools) + f'exec {final} "$@"\n'


# --- Landlock signal scope (linux/landlock.h) -------------------------------------

_SYS_LANDLOCK_CREATE_RULESET: Final = 444  # the same number on every architecture
_SYS_LANDLOCK_RESTRICT_SELF: Final = 446
_LANDLOCK_SCOPE_SIGNAL: Final = 1 << 1  # ABI 6
_PR_SET_NO_NEW_PRIVS: Final = 38
_PR_CAPBSET_DROP: Final = 24
_PR_CAP_AMBIENT: Final = 47
_PR_CAP_AMBIENT_CLEAR_ALL: Final = 4
_CLONE_NEWNS: Final = 0x00020000


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


#: struct landlock_ruleset_attr {handled_access_fs, handled_access_net, scoped}
_RULESET = ctypes.create_string_buffer(struct.pack("QQQ", 0, 0, _LANDLOCK_SCOPE_SIGNAL), 24)


@functools.cache
def signal_scope() -> bool:
    """Whether Landlock can keep a child's signals inside its own descendants (ABI >= 6)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        version = int(_libc().syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, 1))
    except (OSError, AttributeError):
        return False
    return version >= 6


def _scope_signals() -> None:
    """In the child, before exec: no signal may leave it and its descendants."""
    libc = _libc()
    if os.geteuid() != 0 and libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "containment: prctl(PR_SET_NO_NEW_PRIVS)")
    fd = int(libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, _RULESET, 24, 0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "containment: landlock_create_ruleset")
    try:
        if libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "containment: landlock_restrict_self")
    finally:
        os.close(fd)


@functools.cache
def _dropped_caps() -> tuple[int, ...]:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as handle:
            last = int(handle.read())
    except (OSError, ValueError):
        last = 40
    return tuple(c for c in range(last + 1) if c not in _KEPT_CAP_NUMBERS)


def _drop_caps() -> None:
    """In a root child, before exec: keep only :data:`KEPT_CAPS` (bounding, inheritable, ambient)."""
    libc = _libc()
    for cap in _dropped_caps():
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"containment: PR_CAPBSET_DROP {cap}")
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()
    if libc.capget(header, data) != 0:
        raise OSError(ctypes.get_errno(), "containment: capget")
    data[2] = data[5] = 0  # inheritable
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "containment: capset")


# --- the holder (root, Landlock): one namespace per process, joined by each child ----


class _Holder:
    """A process sitting in the contained mount namespace, so children can join it."""

    def __init__(self, tools: dict[str, str], key: bytes) -> None:
        self.key = key
        self.owner = os.getpid()  # a forked copy of this process must not reap it
        argv = [tools["unshare"], "--mount", "--propagation", "private", "--", tools["sh"],
                "-c", _setup(tools) + _HOLD, "pytest-iris-contain", "(holder)"]  # fmt: skip
        _local.probing = True  # the holder itself starts unguarded
        try:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        finally:
            _local.probing = False
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        if ready != b"ready\n":
            self.process.wait(timeout=30)
            error = (
                self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
            )
            raise ContainmentError(f"containment: the namespace holder failed: {error.strip()}")
        self.ns_fd = os.open(f"/proc/{self.process.pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)

    def close(self) -> None:
        if os.getpid() != self.owner:
            return
        os.close(self.ns_fd)
        if self.process.stdin is not None:
            self.process.stdin.close()  # its `read` ends: it exits
        self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


_holder: _Holder | None = None


def _mounts_key() -> bytes:
    with open("/proc/self/mountinfo", "rb") as handle:
        return hashlib.blake2b(handle.read(), digest_size=16).digest()


def _current_holder() -> _Holder:
    """The holder for this process's mounts as they are now (a new one after a change)."""
    global _holder
    key = _mounts_key()
    with _lock:
        if _holder is None or _holder.key != key or _holder.owner != os.getpid():
            tools = _tools()
            if tools is None:
                raise ContainmentError("containment: unshare, mount, awk or sort is missing")
            old, _holder = _holder, _Holder(tools, key)
            if old is not None:
                old.close()
        return _holder


@atexit.register
def _close_holder() -> None:
    if _holder is not None:
        _holder.close()


def _fast() -> bool:
    """Children join a held namespace in a preexec_fn (root with a Landlock signal scope)."""
    return os.geteuid() == 0 and signal_scope()


def _join(ns_fd: int, cwd: str) -> Callable[[], None]:
    _libc(), _dropped_caps()  # filled here, not in every child

    def join() -> None:  # runs in the child between fork and exec
        if _libc().setns(ns_fd, _CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "containment: setns(mount namespace)")
        os.chdir(cwd)  # setns moved it to the namespace's root
        _scope_signals()
        _drop_caps()

    return join


def _chain(first: Callable[[], None], then: Any) -> Callable[[], None]:
    if then is None:
        return first

    def both() -> None:
        first()
        then()

    return both


def launcher_argv(program: str, argv: Sequence[str], *, scoped: bool = False) -> list[str]:
    """The argv that runs ``program`` with ``argv[1:]`` contained by a launcher.

    A private mount namespace, the binds made read-only in it, then the
    command without the power to undo them; a PID namespace too unless the
    caller scopes the child's signals with Landlock (``scoped``).
    """
    tools = _tools()
    if tools is None:
        raise ContainmentError("containment: unshare, mount, awk or sort is missing")
    as_root = os.geteuid() == 0
    user = [] if as_root else ["--user", "--map-root-user"]
    pid = [] if scoped else ["--pid", "--fork", "--kill-child", "--mount-proc"]
    return [tools["unshare"], *user, "--mount", "--propagation", "private", *pid, "--",
            tools["sh"], "-c", _script(tools, as_root), "pytest-iris-contain", program,
            *argv[1:]]  # fmt: skip


@functools.cache
def mode() -> str:
    """``namespaces`` when a contained ``true`` runs here, else ``refuse`` (or as forced)."""
    forced = os.environ.get(MODE_ENV)
    if forced in MODES:
        return forced
    if _tools() is None:
        return "refuse"
    if _fast():
        try:
            _current_holder()
        except (OSError, subprocess.SubprocessError, ContainmentError):
            return "refuse"
        return "namespaces"
    true = shutil.which("true") or "/bin/true"
    _local.probing = True  # the probe itself starts unguarded
    try:
        probe = subprocess.run(
            launcher_argv(true, [true], scoped=signal_scope()), capture_output=True, timeout=30, check=False,
            preexec_fn=_scope_signals if signal_scope() else None,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "refuse"
    finally:
        _local.probing = False
    return "namespaces" if probe.returncode == 0 else "refuse"


# --- the fork_exec wrapper -------------------------------------------------------


#: decides, for a child about to start: None (start it as is), or the sandbox bin dirs
#: in force; set by the guard
def _unguarded() -> list[str] | None:
    return None


policy: Callable[[], list[str] | None] = _unguarded


_real_system = os.system
_real_posix_spawn = os.posix_spawn
_real_posix_spawnp = os.posix_spawnp
_real_execv = os.execv
_real_execve = os.execve
_installed = False


def install() -> None:
    """Route this process's ways of starting a program through the policy (idempotent).

    ``subprocess`` and multiprocessing use ``_posixsubprocess.fork_exec``
    (subprocess's ``posix_spawn`` shortcut is turned off); ``os.system``,
    ``os.posix_spawn[p]`` and ``os.exec*`` (all of which end in ``execv`` or
    ``execve``) are wrapped too.
    """
    global _installed
    with _lock:
        if _installed:
            return
        patches: dict[tuple[Any, str], Any] = {
            (_posixsubprocess, "fork_exec"): _fork_exec,
            (subprocess, "_fork_exec"): _fork_exec,
            (subprocess, "_USE_POSIX_SPAWN"): False,
            (os, "system"): _system,
            (os, "posix_spawn"): functools.partial(_spawn, _real_posix_spawn, search=False),
            (os, "posix_spawnp"): functools.partial(_spawn, _real_posix_spawnp, search=True),
            (os, "execv"): _execv,
            (os, "execve"): _execve,
        }
        for (module, name), value in patches.items():
            setattr(module, name, value)
        subprocess.Popen.send_signal = _send_signal  # type: ignore[method-assign]
        _installed = True


#: pids of launchers with a PID namespace (``unshare --fork``, which blocks SIGTERM and SIGINT)
_contained: set[int] = set()
_real_send_signal = subprocess.Popen.send_signal


def _send_signal(self: subprocess.Popen[Any], sig: int) -> None:
    """``terminate()``/``send_signal()`` of a PID-namespace launcher end it (with SIGKILL).

    Only without a Landlock signal scope (otherwise the child is the real
    process and gets the signal as sent). Its launcher ignores SIGTERM/SIGINT until its child exits, and the child,
    init of its PID namespace, ignores signals it has no handler for; the
    launcher passes SIGKILL on to the child (``--kill-child``).
    """
    if self.pid in _contained and sig not in (0, signal.SIGKILL, signal.SIGSTOP, signal.SIGCONT):
        sig = signal.SIGKILL
    _real_send_signal(self, sig)


def _system(command: str) -> int:
    """``os.system`` through subprocess (so through the policy); returns a wait status."""
    if policy() is None:
        return _real_system(command)
    status = subprocess.call(["/bin/sh", "-c", command])
    return status << 8 if status >= 0 else -status


def _spawn(real: Callable[..., int], path: Any, argv: Any, env: Any, *, search: bool,
           **options: Any) -> int:  # fmt: skip
    bins = policy()
    program = os.fsdecode(path)
    if bins is not None:
        sys.audit("os.posix_spawn", path, argv, env)  # the guard checks what was asked for
        if search and os.sep not in program:
            program = shutil.which(program, path=(env or os.environ).get("PATH")) or program
        path_var = (env if env is not None else os.environ).get("PATH")
        replacement = decide(program, [os.fsdecode(a) for a in argv], bins, path=path_var)
        if isinstance(replacement, list):
            return _real_posix_spawn(replacement[0], replacement, env, **options)
    return real(path, argv, env, **options)


def _execv(path: Any, argv: Any) -> None:
    _execve(path, argv, os.environ)


def _execve(path: Any, argv: Any, env: Any) -> None:
    bins = policy()
    if bins is not None and not isinstance(path, int):
        sys.audit("os.exec", path, argv, env)  # the guard checks what was asked for
        path_var = (env if env is not None else os.environ).get("PATH")
        replacement = decide(os.fsdecode(path), [os.fsdecode(a) for a in argv], bins, path=path_var)
        if isinstance(replacement, list):
            _real_execve(replacement[0], replacement, env)
    _real_execve(path, argv, env)


def _resolve(executable_list: Sequence[bytes | str]) -> str:
    for candidate in executable_list:
        path = os.fsdecode(candidate)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return os.fsdecode(executable_list[0]) if executable_list else ""


def _in(bins: list[str], program: str) -> bool:
    return bool(program) and os.path.dirname(os.path.realpath(program)) in bins


#: :func:`decide`'s answer for a child that joins the held namespace in its preexec_fn
JOIN: Final = "join"


def _sandbox_sudo_of_own(
    program: str, argv: Sequence[str], bins: list[str], path: str | None
) -> bool:
    """The sandbox's ``sudo`` running one of the sandbox's own commands (not its sudo).

    Such a command acts on the fake (or live) host only, and the live
    sandbox's ``sysctl`` must ``nsenter`` its namespaces, which a contained
    child may not: started as is.
    """
    if not (_in(bins, program) and os.path.basename(program) == "sudo"):
        return False
    words = unwrap("sudo", [os.fsdecode(a) for a in argv[1:]])
    if not words:
        return False
    target = words[0] if os.sep in words[0] else shutil.which(words[0], path=path or os.defpath)
    return target is not None and os.path.basename(target) != "sudo" and _in(bins, target)


def decide(
    program: str,
    argv: Sequence[str],
    bins: list[str],
    *,
    preexec: bool = False,
    path: str | None = None,
) -> list[str] | str | None:
    """How to start a child: None (as is), :data:`JOIN`, or the argv to start instead.

    ``preexec``: the caller can run a preexec_fn in the child (fork_exec),
    so the child may join the held namespace or get a Landlock signal scope;
    otherwise (posix_spawn, exec) a launcher with a PID namespace contains it.
    Raises :class:`ContainmentError` when refused.
    """
    direct = _in(bins, program) and os.path.basename(program) != "sudo"
    if direct or _sandbox_sudo_of_own(program, argv, bins, path):
        return None
    if mode() == "namespaces":
        if preexec and _fast():
            return JOIN
        return launcher_argv(program, argv, scoped=preexec and signal_scope())
    if _in(bins, program):  # the sandbox's sudo: it checks its command itself
        return None
    raise ContainmentError(
        f"sandbox containment (mode refuse: no user namespaces here): {program!r} is not one of "
        f"the sandbox's own commands ({', '.join(bins)}); only those may start while a sandbox "
        "is active"
    )


def check_sudo_target(program: str, bin_dir: str) -> None:
    """In ``refuse`` mode the sandbox's sudo may only run the sandbox's own commands."""
    if os.environ.get(MODE_ENV) == "refuse" and not _in([bin_dir], program):
        raise ContainmentError(
            f"sandbox containment (mode refuse): sudo would run {program!r}, not one of the "
            "sandbox's own commands"
        )


#: index of preexec_fn in fork_exec's arguments after (args, executable_list) (3.11-3.13)
_PREEXEC: Final = 19


def _fork_exec(args: Any, executable_list: Any, *rest: Any) -> int:
    bins = None if getattr(_local, "probing", False) else policy()
    if bins is None or not args:
        return _real_fork_exec(args, executable_list, *rest)
    program = _resolve(executable_list)
    argv = [os.fsdecode(a) for a in args]
    rest_list = list(rest)
    env_index = 3  # close_fds, pass_fds, cwd, env ...
    env = rest_list[env_index]
    path_var = os.environ.get("PATH")
    if env is not None:
        path_var = next((os.fsdecode(e[5:]) for e in env if bytes(e).startswith(b"PATH=")), None)
    replacement = decide(program, argv, bins, preexec=len(rest) > _PREEXEC, path=path_var)
    marker = f"{MODE_ENV}={mode()}".encode()
    if env is None:
        env = [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in os.environ.items()]
    rest_list[env_index] = [e for e in env if not e.startswith(MODE_ENV.encode() + b"=")] + [marker]
    if replacement is None:
        return _real_fork_exec(args, executable_list, *rest_list)
    if replacement == JOIN:
        cwd = rest_list[2]
        holder = _current_holder()
        join = _join(holder.ns_fd, os.fsdecode(cwd) if cwd is not None else os.getcwd())
        rest_list[_PREEXEC] = _chain(join, rest_list[_PREEXEC])
        return _real_fork_exec(args, executable_list, *rest_list)
    assert isinstance(replacement, list)
    encoded = [os.fsencode(a) for a in replacement]
    scoped = signal_scope()
    if scoped:
        rest_list[_PREEXEC] = _chain(_scope_signals, rest_list[_PREEXEC])
    pid = _real_fork_exec(encoded, [encoded[0]], *rest_list)
    if not scoped:
        _contained.add(pid)
    return pid
