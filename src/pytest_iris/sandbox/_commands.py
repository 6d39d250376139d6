"""The sandbox's commands: ``kill`` and ``sudo`` here, and the entry point of ``bin/``.

Each ``*_command`` function (``iris`` in :mod:`._iriscmd`, ``sysctl`` in
:mod:`._sysctl`) takes the host root and argv, acts on the host's files under
its lock, and returns an :class:`~pytest_iris.host.Outcome` (stdout,
stderr, status). The executables in ``bin/`` are thin scripts that call
:func:`main`; :class:`SandboxHost` calls the same functions in-process.

Privilege: the sandbox's user is ``root`` or a login (``irisowner``); ``sudo``
runs its command with ``PYTEST_IRIS_SANDBOX_EUID=0`` when the sandbox's sudo
policy allows it. ``sysctl -w`` needs that effective root, as on Linux.
"""

from __future__ import annotations

import os
import signal as _signal
import sys
from collections.abc import Mapping
from pathlib import Path

from pytest_iris.errors import ContainmentError, SandboxError
from pytest_iris.host import Outcome
from pytest_iris.sandbox import _procfs
from pytest_iris.sandbox._cmdbase import EUID_ENV
from pytest_iris.sandbox._cmdbase import euid as _euid
from pytest_iris.sandbox._cmdbase import proc_root as _proc_root
from pytest_iris.sandbox._state import load_state, locked_state
from pytest_iris.sandbox._sysctl import sysctl_command, write_sysctl


def iris_command(root: Path, argv: list[str], *, env: Mapping[str, str] | None = None) -> Outcome:
    """``iris ...`` on the sandbox host: :func:`._iriscmd.iris_command`, imported when first used
    (the bin/ scripts import this module: ``sysctl`` and ``sudo`` need none of ``iris``)."""
    from pytest_iris.sandbox._iriscmd import iris_command as run

    return run(root, argv, env=env)


# -- signals and kill -----------------------------------------------------

_STOP = {_signal.SIGSTOP, _signal.SIGTSTP, _signal.SIGTTIN, _signal.SIGTTOU}
_HARMLESS = {_signal.SIGCHLD, _signal.SIGURG, _signal.SIGWINCH, _signal.SIGCONT}


def deliver_signal(root: Path, pid: int, sig: int, *, env: Mapping[str, str] | None = None) -> None:
    """``kill(pid, sig)`` against the fake process table.

    Raises ProcessLookupError / PermissionError as ``os.kill`` does. A killed
    control process takes its instance down (abnormally: the next start logs
    it); a killed write daemon freezes the instance (its state becomes
    ``alert``); a killed user job drops its connection.
    """
    env = os.environ if env is None else env
    with locked_state(root) as state:
        proc = state.processes.get(pid)
        if proc is None or pid <= 0:
            raise ProcessLookupError(3, "No such process")
        euid = _euid(state, env)
        if euid != 0 and proc.uid != euid:
            raise PermissionError(1, "Operation not permitted")
        if sig == 0 or sig in _HARMLESS:
            if sig == _signal.SIGCONT:
                proc.state = "S"
        elif sig in _STOP:
            proc.state = "T"
        else:
            from pytest_iris.sandbox import _iris

            _iris.process_killed(state, proc)
        _procfs.render(_proc_root(root), state)


def kill_command(root: Path, argv: list[str], *, env: Mapping[str, str] | None = None) -> Outcome:
    """procps ``kill [-s SIG | -SIG] pid...`` for the fake processes."""
    out = Outcome()
    sig = int(_signal.SIGTERM)
    pids: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            pids.extend(args)
            break
        if arg == "-s" and args:
            arg = "-" + args.pop(0)
        if arg.startswith("-") and len(arg) > 1 and not pids:
            name = arg[1:].upper()
            try:
                sig = (
                    int(name)
                    if name.isdigit()
                    else _signal.Signals[name if name.startswith("SIG") else "SIG" + name]
                )
            except KeyError:
                return Outcome(status=1, stderr=f"kill: unknown signal: {arg[1:]}\n")
        else:
            pids.append(arg)
    if not pids:
        return Outcome(status=1, stderr="kill: not enough arguments\n")
    for raw in pids:
        try:
            deliver_signal(root, int(raw), int(sig), env=env)
        except ValueError:
            out.stderr += f"kill: failed to parse argument: '{raw}'\n"
            out.status = 1
        except ProcessLookupError:
            out.stderr += f"kill: ({raw}): No such process\n"
            out.status = 1
        except PermissionError:
            out.stderr += f"kill: ({raw}): Operation not permitted\n"
            out.status = 1
    return out


# -- sudo -----------------------------------------------------------------


def sudo_command(root: Path, argv: list[str], *, env: Mapping[str, str]) -> Outcome | list[str]:
    """Decide a ``sudo`` call: an Outcome when refused, else the argv to exec as root."""
    args = list(argv)
    non_interactive = False
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt == "--":
            break
        if opt in ("-n", "--non-interactive"):
            non_interactive = True
        elif opt in ("-u", "-g") and args:
            user = args.pop(0)
            if opt == "-u" and user not in ("root", "0", "#0"):
                return Outcome(
                    status=1, stderr=f"sudo: the sandbox only knows root, not {user!r}\n"
                )
        elif opt in ("-E", "-H", "-S", "-k"):
            continue
        else:
            return Outcome(status=1, stderr=f"sudo: invalid option -- '{opt.lstrip('-')}'\n")
    if not args:
        return Outcome(status=1, stderr="usage: sudo [-n] [-u user] command [arg ...]\n")
    state = load_state(root)
    if _euid(state, env) != 0:
        if state.sudo == "denied":
            return Outcome(
                status=1,
                stderr=f"{state.user} is not in the sudoers file.  This incident will be reported.\n",
            )
        if state.sudo == "password":
            if non_interactive:
                return Outcome(status=1, stderr="sudo: a password is required\n")
            return Outcome(
                status=1,
                stderr="sudo: a terminal is required to read the password; either use the -S option "
                "to read from standard input or configure an askpass helper\n"
                "sudo: a password is required\n",
            )
    import shutil

    from pytest_iris.sandbox.guard import GUARDED_COMMANDS, check_command

    command = args[0]
    found = shutil.which(command, path=env.get("PATH", "")) if os.sep not in command else command
    if found is None:
        return Outcome(status=1, stderr=f"sudo: {command}: command not found\n")
    bin_dir = str((root / "bin").resolve())
    if Path(found).name in GUARDED_COMMANDS and str(Path(found).resolve().parent) != bin_dir:
        return Outcome(
            status=1,
            stderr=f"sudo: refusing to run the real host's {found} from inside the sandbox\n",
        )
    try:  # what the command itself would run (sh -c '...', env, timeout ...)
        check_command([found, *args[1:]], env.get("PATH"), root / "bin")
    except ContainmentError as exc:
        return Outcome(status=1, stderr=f"sudo: {exc}\n")
    return [found, *args[1:]]


# -- entry point of the bin/ scripts -------------------------------------


def main(name: str, root: str, argv: list[str]) -> int:
    """What ``bin/<name>`` runs: act, print, return the exit status."""
    host_root = Path(root)
    env = os.environ
    try:
        if name == "sudo":
            decided = sudo_command(host_root, argv, env=env)
            if isinstance(decided, Outcome):
                sys.stderr.write(decided.stderr)
                return decided.status
            from pytest_iris.sandbox.containment import check_sudo_target

            try:  # refuse mode: sudo runs only the sandbox's own commands
                check_sudo_target(decided[0], str((host_root / "bin").resolve()))
            except ContainmentError as error:
                sys.stderr.write(f"sudo: {error}\n")
                return 1
            child_env = dict(env)
            child_env[EUID_ENV] = "0"
            sys.stdout.flush()
            os.execve(decided[0], decided, child_env)
        if name in ("iris", "kill"):
            from pytest_iris.sandbox import _iris

            _iris.keep_messages = False  # this process prints; nobody reads the models
        if name == "iris":
            out = iris_command(host_root, argv, env=env)
        elif name == "sysctl":
            out = sysctl_command(host_root, argv, env=env)
        elif name == "kill":
            out = kill_command(host_root, argv, env=env)
        else:
            sys.stderr.write(f"{name}: not a sandbox command\n")
            return 127
    except SandboxError as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 1
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    return out.status


__all__ = [
    "EUID_ENV",
    "deliver_signal",
    "iris_command",
    "kill_command",
    "main",
    "sudo_command",
    "sysctl_command",
    "write_sysctl",
]
