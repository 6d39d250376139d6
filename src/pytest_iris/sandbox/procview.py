"""Real tools reading a sandbox's procfs: ``/proc`` bound over in a private mount namespace.

procps (``ps``, ``top``, ``free``, ``vmstat``, ``sysctl``, ``pgrep``),
util-linux's ``ipcs``, psmisc's ``pstree`` and net-tools' ``netstat`` read
``/proc`` and nothing else, so ``unshare --mount --propagation private``
followed by ``mount --bind <sandbox>/proc /proc`` makes them report the
sandbox (docs/sources/baselines.md, "Things learned while measuring"). The mount
is private to that one command: the real ``/proc`` of every other process,
this one included, is untouched. ``ss`` reads netlink, not ``/proc``, and
cannot be fooled this way: the live sandbox has real sockets for it.

The command runs with the system's PATH (the real tools, not the
sandbox's ``bin/``): a real ``sysctl -w`` inside writes the sandbox's
``/proc/sys`` files, which are all that is mounted there. The host
commands that reach beyond ``/proc`` (``iris``, ``sudo``, ``kill`` ...) are
refused: run them with ``host.run``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pytest_iris.errors import SandboxError

#: what the command finds on PATH: the real tools
TOOLS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: commands that read or write only ``/proc`` (the rest of the guarded ones act on the real host)
_PROC_ONLY = frozenset({"sysctl"})
#: in a new PID namespace (the shell is its PID 1) with its own /proc mounted: keep
#: ns_last_pid open, bind the sandbox's tree over /proc, then fork the command so that it
#: gets the pid the sandbox's ``/proc/self`` names (procps looks itself up by pid)
#: (``$3``/``$4``: the host's passwd and group files, bound over /etc's so that the
#: tools show user names; ``-`` when the host has none)
_BIND = (
    # the braces keep 2>/dev/null to the open: `exec 3>F 2>/dev/null` silenced the command's stderr
    '{ command exec 3>/proc/sys/kernel/ns_last_pid; } 2>/dev/null; mount --bind "$1" /proc || exit 125; '
    'if [ "$3" != - ]; then mount --bind "$3" /etc/passwd && mount --bind "$4" /etc/group '
    "|| exit 125; fi; "
    'if [ "$2" -gt 1 ]; then echo $(($2 - 1)) >&3; fi 2>/dev/null; exec 3>&-; shift 4; "$@"'
)


def _prefix() -> list[str]:
    prefix = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    return prefix


@cache
def unavailable() -> str:
    """'' when a command can run with another ``/proc`` here, else why not (for ``pytest.skip``)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare/mount (util-linux) not installed"
    from pytest_iris.sandbox import guard

    with guard.bypass():
        try:
            done = subprocess.run(
                [*_prefix(), "--", "/bin/sh", "-c", _BIND, "sh", "/proc", "0", "-", "-", "true"],
                capture_output=True, text=True, timeout=20, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unshare failed: {exc}"
    if done.returncode != 0:
        why = done.stderr.strip() or f"status {done.returncode}"
        return f"a private mount namespace is not permitted here: {why}"
    return ""


def refuse_guarded(argv: Sequence[str]) -> None:
    """SandboxError unless ``argv`` is a list naming a command that only reads or writes /proc."""
    from pytest_iris.sandbox import guard

    if isinstance(argv, str) or not argv:
        raise SandboxError(
            f"run_with_procfs: argv must be a non-empty list of strings, not {argv!r}"
        )
    name = os.path.basename(argv[0])
    if name in guard.GUARDED_COMMANDS and name not in _PROC_ONLY:
        raise SandboxError(
            f"run_with_procfs: {name!r} acts beyond /proc on the real host; "
            "run the sandbox's own with host.run([...])"
        )


def run_with_procfs(
    proc: str | os.PathLike[str],
    argv: Sequence[str],
    *,
    self_pid: int = 0,
    etc: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with ``proc`` bound over ``/proc`` (as ``subprocess.run``: text, captured).

    ``self_pid``: the pid the command gets in its PID namespace, the one the
    tree's ``self`` names (0: whatever comes next). ``etc``: a directory whose
    ``passwd`` and ``group`` are bound over ``/etc``'s in the same private
    namespace, so ``ps``/``top`` show the host's user names.
    """
    from pytest_iris.sandbox import guard

    refuse_guarded(argv)
    reason = unavailable()
    if reason:
        raise SandboxError(f"run_with_procfs needs a private mount namespace: {reason}")
    root = Path(proc).absolute()
    env = dict(kwargs.pop("env", None) or os.environ)
    env["PATH"] = TOOLS_PATH
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 60)
    files = ["-", "-"]
    if etc is not None and (Path(etc) / "passwd").is_file() and (Path(etc) / "group").is_file():
        files = [str(Path(etc, "passwd").absolute()), str(Path(etc, "group").absolute())]
    command = [*_prefix(), "--", "/bin/sh", "-c", _BIND, "sh", str(root), str(self_pid), *files,
               *argv]  # fmt: skip
    with guard.bypass():
        return subprocess.run(command, env=env, check=False, **kwargs)


__all__ = ["TOOLS_PATH", "refuse_guarded", "run_with_procfs", "unavailable"]
