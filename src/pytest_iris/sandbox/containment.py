"""OS-level containment of the child processes a test starts while a sandbox is active.

The audit hook in :mod:`pytest_iris.sandbox.guard` sees what *this* process
does; it cannot see what a child does (``sh -c 'echo 1 > /proc/sys/...'``,
``awk 'BEGIN{system(...)}'``, a renamed copy of ``sysctl``, a script read
from stdin, a multiprocessing ``spawn`` child ...). So every child started
while a sandbox is active goes through ``_posixsubprocess.fork_exec`` (which
``subprocess``, ``os.system`` here and multiprocessing's ``spawn`` all use)
and is started in one of two modes:

``namespaces``
    The child runs in a new mount and PID namespace with a ``/proc`` of its
    own, in which ``/proc/sys``, ``/proc/sysrq-trigger``, ``/sys``,
    ``/etc/sysctl.d`` and ``/etc/sysctl.conf`` (and every mount below them)
    are bound read-only. Then it loses the power to undo that: run as real
    root, its capabilities are cut to file ownership, setuid and kill
    (no ``CAP_SYS_ADMIN``: no mount, unmount or remount; no module loading,
    raw I/O, ptrace, clock or network changes); run as another user, it
    goes on in a user namespace below, where the kernel locks inherited
    mounts. Either way it cannot make the targets writable, whatever program
    or shell form it uses. In its own PID namespace it cannot name, hence not
    signal (``kill``, ``pidfd_open``, psutil), any process outside. The launcher checks that the targets are really
    read-only before it runs the command, and refuses to run it otherwise.
    The sandbox's own ``iris``, ``sysctl`` and ``kill`` (files that only act
    on the fake host) start directly; its ``sudo`` is contained like any
    other program, so whatever it runs "as root" is contained too.
``refuse``
    Where user namespaces are not permitted, only the sandbox's own commands
    start; anything else raises :class:`~pytest_iris.errors.ContainmentError`
    (also when the sandbox's ``sudo`` would run it).

:func:`mode` probes once per process (about 0.3 s) and caches;
``PYTEST_IRIS_CONTAINMENT=refuse`` forces the strict mode. The pytest
report header names the active mode.
"""

from __future__ import annotations

import _posixsubprocess
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

from pytest_iris.errors import ContainmentError

#: environment variable forcing (or, in children, telling) the mode
MODE_ENV: Final = "PYTEST_IRIS_CONTAINMENT"
MODES: Final = ("namespaces", "refuse")
#: what the launcher binds read-only (with every mount below)
READ_ONLY: Final = ("/proc/sys", "/proc/sysrq-trigger", "/sys", "/etc/sysctl.d",
                     "/etc/sysctl.conf")  # fmt: skip
#: capabilities a contained root child keeps: act on files and its own processes as root;
#: no mount, module, raw I/O, ptrace, clock, network or reboot powers
KEPT_CAPS: Final = (
    "-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+net_bind_service"
)
#: files the launcher proves unwritable before it runs the command
_PROBES: Final = ("/proc/sys/kernel/shmmax", "/proc/sys/vm/nr_hugepages", "/proc/sysrq-trigger", "/sys/kernel",
                  "/etc/sysctl.d", "/etc/sysctl.conf")  # fmt: skip
#: exit status of a launcher that could not contain its command
REFUSED_STATUS: Final = 126

_LAUNCHER = """set -e
mounts() {{ {awk} -v p="$1" '$5 == p || index($5, p "/") == 1 {{print $5}}' /proc/self/mountinfo \
  | {sort} -u; }}
for p in {read_only}; do
  [ -e "$p" ] || continue
  {mount} --rbind "$p" "$p"
  for m in $(mounts "$p"); do  # a hidden one (under the new /proc) fails: checked below
    {mount} -o remount,bind,ro "$m" 2>/dev/null \
      || {mount} -o remount,bind,ro,nosuid,nodev,noexec "$m" 2>/dev/null || true
  done
done
for p in {probes} $(for r in {read_only}; do mounts "$r"; done); do
  if [ -e "$p" ] && [ -w "$p" ]; then
    echo "pytest-iris containment: $p is still writable; refusing to run $1" >&2
    exit {refused}
  fi
done
exec {final} "$@"
"""
#: the last step when the test runs as real root: drop the powers to undo the binds
_AS_ROOT = "{setpriv} --bounding-set {caps} --inh-caps -all --"
#: ... and otherwise: a user namespace below, in which the binds are locked by the kernel
_AS_USER = "{unshare} --user --map-root-user --mount --"

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


def _script(tools: dict[str, str], as_root: bool) -> str:
    final = (_AS_ROOT if as_root else _AS_USER).format(caps=KEPT_CAPS, **tools)
    return _LAUNCHER.format(
        read_only=" ".join(READ_ONLY), probes=" ".join(_PROBES), refused=REFUSED_STATUS,
        final=final, **tools,
    )  # fmt: skip


def launcher_argv(program: str, argv: Sequence[str]) -> list[str]:
    """The argv that runs ``program`` with ``argv[1:]`` contained (namespaces mode)."""
    tools = _tools()
    if tools is None:
        raise ContainmentError("containment: unshare, mount, awk or sort is missing")
    as_root = os.geteuid() == 0
    user = [] if as_root else ["--user", "--map-root-user"]
    # a private mount and PID namespace with a /proc of its own (no host pid to name or
    # ptrace), the binds made read-only in it, then the command without the power to undo them
    return [tools["unshare"], *user, "--mount", "--propagation", "private", "--pid", "--fork",
            "--kill-child", "--mount-proc", "--", tools["sh"], "-c", _script(tools, as_root),
            "pytest-iris-contain", program, *argv[1:]]  # fmt: skip


@functools.cache
def mode() -> str:
    """``namespaces`` when a contained ``true`` runs here, else ``refuse`` (or as forced)."""
    forced = os.environ.get(MODE_ENV)
    if forced in MODES:
        return forced
    if _tools() is None:
        return "refuse"
    true = shutil.which("true") or "/bin/true"
    _local.probing = True  # the probe itself starts unguarded
    try:
        probe = subprocess.run(
            launcher_argv(true, [true]), capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "refuse"
    finally:
        _local.probing = False
    return "namespaces" if probe.returncode == 0 else "refuse"


def expected_mode() -> str:
    """The mode :func:`mode` will find, guessed without starting a process (report header)."""
    forced = os.environ.get(MODE_ENV)
    if forced in MODES:
        return forced
    try:
        with open("/proc/sys/user/max_user_namespaces") as handle:
            allowed = int(handle.read().strip() or 0) > 0
    except (OSError, ValueError):
        allowed = False
    return "namespaces" if allowed and _tools() is not None else "refuse"


def describe(current: str | None = None) -> str:
    """One line for the pytest report header."""
    if (current or expected_mode()) == "namespaces":
        return (
            "iris sandbox containment: namespaces (children run in their own mount and PID "
            "namespaces with /proc/sys, /sys and /etc/sysctl.d read-only, unable to undo it)"
        )
    return (
        "iris sandbox containment: refuse (user namespaces unavailable: only the sandbox's own "
        "commands may start while a sandbox is active)"
    )


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


#: pids of contained launchers (``unshare --fork``, which blocks SIGTERM and SIGINT)
_contained: set[int] = set()
_real_send_signal = subprocess.Popen.send_signal


def _send_signal(self: subprocess.Popen[Any], sig: int) -> None:
    """``terminate()``/``send_signal()`` of a contained child end it (with SIGKILL).

    Its launcher ignores SIGTERM/SIGINT until its child exits, and the child,
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
        replacement = decide(program, [os.fsdecode(a) for a in argv], bins)
        if replacement is not None:
            return _real_posix_spawn(replacement[0], replacement, env, **options)
    return real(path, argv, env, **options)


def _execv(path: Any, argv: Any) -> None:
    _execve(path, argv, os.environ)


def _execve(path: Any, argv: Any, env: Any) -> None:
    bins = policy()
    if bins is not None and not isinstance(path, int):
        sys.audit("os.exec", path, argv, env)  # the guard checks what was asked for
        replacement = decide(os.fsdecode(path), [os.fsdecode(a) for a in argv], bins)
        if replacement is not None:
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


def decide(program: str, argv: Sequence[str], bins: list[str]) -> list[str] | None:
    """The argv to start instead (contained), None to start as is; raises when refused."""
    direct = _in(bins, program) and os.path.basename(program) != "sudo"
    if direct:
        return None
    if mode() == "namespaces":
        return launcher_argv(program, argv)
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


def _fork_exec(args: Any, executable_list: Any, *rest: Any) -> int:
    bins = None if getattr(_local, "probing", False) else policy()
    if bins is None or not args:
        return _real_fork_exec(args, executable_list, *rest)
    program = _resolve(executable_list)
    argv = [os.fsdecode(a) for a in args]
    replacement = decide(program, argv, bins)
    rest_list = list(rest)
    env_index = 3  # close_fds, pass_fds, cwd, env ...
    env = rest_list[env_index]
    marker = f"{MODE_ENV}={mode()}".encode()
    if env is None:
        env = [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in os.environ.items()]
    rest_list[env_index] = [e for e in env if not e.startswith(MODE_ENV.encode() + b"=")] + [marker]
    if replacement is None:
        return _real_fork_exec(args, executable_list, *rest_list)
    encoded = [os.fsencode(a) for a in replacement]
    pid = _real_fork_exec(encoded, [encoded[0]], *rest_list)
    _contained.add(pid)
    return pid
