"""The containment guard: code under test must not reach the real host.

A Python audit hook (:func:`sys.addaudithook`) watches, while a sandbox is
active, the events through which code escapes:

* ``open`` (``open()``, ``Path.write_text``, ``os.open`` ...) for writing
  under the real ``/proc/sys``, ``/sys`` or ``/proc/sysrq-trigger``
  (symlinks resolved), and ``os.truncate``/``chmod``/``chown``/``remove`` there;
* ``subprocess.Popen``, ``os.system``, ``os.exec*``, ``os.posix_spawn``
  running ``sudo``, ``sysctl``, ``iris``, ``systemctl``, ``kill`` (and their
  kin) that do not resolve to the sandbox's own ``bin/`` — also behind
  ``sh -c``, ``env``, ``timeout``, ``nohup``, ``unshare`` ...;
* ``os.kill`` / ``os.killpg`` (which psutil's ``send_signal``/``terminate``/
  ``kill`` use) aimed at a process the sandbox does not own. Owned: the
  test process and its descendants, and PIDs a sandbox registered (the live
  sandbox's). Fake PIDs are reached through :meth:`SandboxHost.procfs`,
  which routes ``os.kill`` to the fake kernel; a raw signal to one would hit
  a real process and is refused.

Each refusal raises :class:`~pytest_iris.errors.ContainmentError` naming
what was tried and what to do instead. Audit hooks cannot be removed, so
the hook is installed once and does nothing while no sandbox is active.
Not covered by the hook: C code that calls the kernel without an audit
event (ctypes; psutil's ``nice``/``cpu_affinity``/``ionice``/``rlimit``, which
:meth:`SandboxHost.procfs` replaces by stand-ins while psutil reads a fake
host), and ``os.open`` with ``dir_fd``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_iris.errors import ContainmentError
from pytest_iris.host import Host
from pytest_iris.sandbox._unwrap import unwrap as _unwrap

#: programs that change the host when they run for real
GUARDED_COMMANDS = frozenset({
    "sudo", "sysctl", "iris", "ccontrol", "systemctl", "kill", "pkill", "killall", "reboot",
    "shutdown", "halt", "poweroff", "init", "telinit", "service",
})  # fmt: skip
#: programs that run the command given in their arguments
_WRAPPERS = frozenset({"env", "nohup", "timeout", "nice", "ionice", "stdbuf", "setsid", "time",
                       "command", "exec", "unshare", "nsenter", "chroot", "xargs", "doas", "su",
                       "runuser", "setpriv", "flock", "busybox", "chrt", "taskset"})  # fmt: skip
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "fish"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_PROTECTED = ("/proc/sys/", "/sys/", "/proc/sysrq-trigger")


@dataclass
class Scope:
    """One active sandbox as the guard sees it."""

    root: Path
    bin_dir: str
    owned: set[int] = field(default_factory=set)

    def fake_pids(self) -> set[int]:
        from pytest_iris.sandbox._state import load_state

        try:
            return set(load_state(self.root).processes)
        except Exception:
            return set()


_SCOPES: list[Scope] = []
_local = threading.local()
_installed = False
_install_lock = threading.Lock()


def active() -> bool:
    """True while at least one sandbox guard is on."""
    return bool(_SCOPES)


@contextlib.contextmanager
def contained(host: Host) -> Iterator[Scope]:
    """Turn the guard on for ``host`` until the block ends."""
    _install()
    scope = Scope(root=host.root, bin_dir=str(host.bin_dir.resolve()))
    _SCOPES.append(scope)
    try:
        yield scope
    finally:
        _SCOPES.remove(scope)


def own(pid: int) -> None:
    """Let the active sandboxes signal ``pid`` (a real process they started)."""
    for scope in _SCOPES:
        scope.owned.add(pid)


@contextlib.contextmanager
def bypass() -> Iterator[None]:
    """The sandbox's own machinery (this thread only) is not checked."""
    previous = getattr(_local, "bypass", False)
    _local.bypass = True
    try:
        yield
    finally:
        _local.bypass = previous


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            sys.addaudithook(_hook)
            from pytest_iris.sandbox import containment

            containment.mode()  # probe (cached) before any child is guarded
            containment.policy = _child_policy
            containment.install()
            _install_pidfd_check()
            _installed = True


def _child_policy() -> list[str] | None:
    """For a child about to start: the sandbox bin dirs in force, None when unguarded."""
    if not _SCOPES or getattr(_local, "bypass", False):
        return None
    return [scope.bin_dir for scope in _SCOPES]


def _install_pidfd_check() -> None:
    """``signal.pidfd_send_signal`` has no audit event: check its pid like ``os.kill``'s."""
    import signal

    real = getattr(signal, "pidfd_send_signal", None)
    if real is None:
        return

    def pidfd_send_signal(pidfd: int, sig: int, siginfo: Any = None, flags: int = 0) -> None:
        if _SCOPES and not getattr(_local, "bypass", False):
            pid = _pid_of_pidfd(pidfd)
            if pid is None:
                raise ContainmentError(
                    f"sandbox containment: pidfd_send_signal({pidfd}, {sig}) refused: "
                    "not a pidfd of a live process"
                )
            _on_kill((pid, sig))
        real(pidfd, sig, siginfo, flags)

    signal.pidfd_send_signal = pidfd_send_signal


def _pid_of_pidfd(pidfd: int) -> int | None:
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as handle:
            for line in handle:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
    except (OSError, ValueError):
        return None
    return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _SCOPES:
        return
    handler = _HANDLERS.get(event)
    if handler is None or getattr(_local, "bypass", False):
        return
    _local.bypass = True  # our own checks open files and resolve paths
    try:
        handler(args)
    finally:
        _local.bypass = False


# -- open -----------------------------------------------------------------


def _on_open(args: tuple[Any, ...]) -> None:
    path, mode, flags = ((*tuple(args), None, None, None))[:3]
    if isinstance(path, int) or path is None:
        return
    writing = (
        any(c in mode for c in "wax+")
        if isinstance(mode, str)
        else isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
    )
    if writing:
        _refuse_protected(path, "opening {raw!r} for writing")


def _refuse_protected(path: Any, what: str) -> None:
    if isinstance(path, int) or path is None:
        return
    raw = os.fsdecode(path)
    resolved = os.path.realpath(raw)
    if any(resolved == p.rstrip("/") or resolved.startswith(p) for p in _PROTECTED):
        raise ContainmentError(
            f"sandbox containment: {what.format(raw=raw)} would change the real host "
            f"({resolved}); write the sandbox's procfs instead (host.proc / 'sys/...') or run "
            "the sandbox's sysctl (host.env PATH)"
        )


def _on_path_change(event: str) -> Callable[[tuple[Any, ...]], None]:
    def check(args: tuple[Any, ...]) -> None:
        _refuse_protected(args[0], f"{event}({{raw!r}})")

    return check


# -- commands -------------------------------------------------------------


def _in_sandbox_bin(found: str | None) -> bool:
    if found is None:
        return False
    parent = str(Path(found).resolve().parent)
    bins = getattr(_local, "bins", None) or [scope.bin_dir for scope in _SCOPES]
    return parent in bins


def check_command(argv: list[str], path_var: str | None, bin_dir: Path, how: str = "sudo") -> None:
    """Raise ContainmentError if ``argv`` would run a guarded real command.

    For code outside this process's guard, e.g. the sandbox's own ``sudo``,
    which runs its command in a process the audit hook does not watch.
    """
    _local.bins = [str(bin_dir.resolve())]
    try:
        _check_argv(argv, path_var, how)
    finally:
        _local.bins = None


#: shell builtins that act on the real host whatever PATH says
_SHELL_BUILTINS = frozenset({"kill"})


def _check_argv(argv: list[str], path_var: str | None, how: str, *, in_shell: bool = False) -> None:
    words = list(argv)
    while words:
        program = os.fsdecode(words[0])
        base = os.path.basename(program)
        if in_shell and program in _SHELL_BUILTINS:
            raise ContainmentError(
                f"sandbox containment: {how} would run the shell's builtin {program!r}, which "
                f"signals real processes whatever PATH says: {shlex.join(map(os.fsdecode, argv))}; "
                "call the sandbox's kill by its path (host.bin_dir / 'kill') or use host.signal()"
            )
        if base in _SHELLS:
            script = next((w for i, w in enumerate(words) if i and words[i - 1] == "-c"), None)
            if script is not None:
                _check_shell(os.fsdecode(script), path_var, how)
            return
        if base in GUARDED_COMMANDS:
            found = (
                program if os.sep in program else shutil.which(program, path=path_var or os.defpath)
            )
            if not _in_sandbox_bin(found):
                raise ContainmentError(
                    f"sandbox containment: {how} would run the real host's {base!r} "
                    f"({found or 'not on PATH, ' + repr(path_var)}): {shlex.join(map(os.fsdecode, argv))!s}; "
                    "run it with env=host.env so the sandbox's bin/ is found first"
                )
            if base != "sudo":
                return
            # the sandbox's sudo runs its command for real: check that command too
            words = _unwrap("sudo", words[1:])
            continue
        if base not in _WRAPPERS:
            return
        words = _unwrap(base, words[1:])


def _check_shell(script: str, path_var: str | None, how: str) -> None:
    for sep in ("&&", "||", ";", "|", "&", "\n", "$(", "`", "(", ")"):
        script = script.replace(sep, "\0")
    for segment in script.split("\0"):
        try:
            words = shlex.split(segment)
        except ValueError:
            words = segment.split()
        while words and "=" in words[0] and not words[0].startswith("="):
            words.pop(0)
        if words:
            _check_argv(words, path_var, how, in_shell=True)


def _on_popen(args: tuple[Any, ...]) -> None:
    executable, argv, _cwd, env = args
    if isinstance(argv, (str, bytes)):
        argv = [argv]
    argv = [os.fsdecode(a) for a in argv]
    if executable is not None:
        argv = [os.fsdecode(executable), *argv[1:]]
    path_var = (env or {}).get("PATH") if env is not None else os.environ.get("PATH")
    if env is not None and isinstance(path_var, bytes):
        path_var = os.fsdecode(path_var)
    _check_argv(argv, path_var, "subprocess")


def _on_system(args: tuple[Any, ...]) -> None:
    _check_shell(os.fsdecode(args[0]), os.environ.get("PATH"), "os.system")


def _on_exec(args: tuple[Any, ...]) -> None:
    path, argv, env = args[:3]
    argv = [os.fsdecode(a) for a in argv] or [os.fsdecode(path)]
    path_var = (env or {}).get("PATH") if env is not None else os.environ.get("PATH")
    _check_argv([os.fsdecode(path), *argv[1:]], path_var, "exec")


# -- signals --------------------------------------------------------------


def _descends_from_us(pid: int) -> bool:
    me = os.getpid()
    seen = 0
    while pid > 1 and seen < 64:
        if pid == me:
            return True
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            return False
        pid = int(data[data.rfind(b")") + 2 :].split()[1])
        seen += 1
    return False


def may_signal(pid: int) -> bool:
    """Whether a real signal to ``pid`` is allowed (ours, a descendant, or owned)."""
    return pid == os.getpid() or (
        pid > 0 and (any(pid in s.owned for s in _SCOPES) or _descends_from_us(pid))
    )


def _on_kill(args: tuple[Any, ...], *, group: bool = False) -> None:
    pid, sig = int(args[0]), int(args[1])
    target = abs(pid)
    if target == os.getpid() and not group:
        return
    if pid > 0 and any(target in s.owned for s in _SCOPES):
        return
    if pid > 0 and _descends_from_us(target):
        return
    fake = any(target in s.fake_pids() for s in _SCOPES)
    call = "os.killpg" if group else "os.kill"
    hint = (
        f"pid {target} is a fake sandbox process: signal it inside host.procfs() "
        "(psutil/os.kill are routed there), with host.signal(), or the sandbox's kill"
        if fake
        else f"pid {target} is not a process this test or its sandbox started"
    )
    raise ContainmentError(f"sandbox containment: {call}({pid}, {sig}) refused: {hint}")


def _on_killpg(args: tuple[Any, ...]) -> None:
    _on_kill(args, group=True)


_HANDLERS: dict[str, Callable[[tuple[Any, ...]], None]] = {
    "open": _on_open,
    "subprocess.Popen": _on_popen,
    "os.system": _on_system,
    "os.exec": _on_exec,
    "os.posix_spawn": _on_exec,
    "os.kill": _on_kill,
    "os.killpg": _on_killpg,
    "os.truncate": _on_path_change("os.truncate"),
    "os.chmod": _on_path_change("os.chmod"),
    "os.chown": _on_path_change("os.chown"),
    "os.remove": _on_path_change("os.remove"),
}
