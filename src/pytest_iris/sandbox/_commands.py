"""The sandbox's commands: ``iris``, ``sysctl``, ``sudo`` and ``kill``.

Each ``*_command`` function takes the host root and argv, acts on the host's
files under its lock, and returns an :class:`~pytest_iris.sandbox._iris.Outcome`
(stdout, stderr, status). The executables in ``bin/`` are thin scripts that
call :func:`main`; :class:`SandboxHost` calls the same functions in-process.

Privilege: the sandbox's user is ``root`` or a login (``irisowner``); ``sudo``
runs its command with ``PYTEST_IRIS_SANDBOX_EUID=0`` when the sandbox's sudo
policy allows it. ``sysctl -w`` needs that effective root, as on Linux.
Output texts are procps-ng 4.0.2's (checked against the real ``sysctl`` in a
private IPC namespace) and sudo's.
"""

from __future__ import annotations

import os
import shutil
import signal as _signal
import sys
from collections.abc import Mapping
from pathlib import Path

from pytest_iris.errors import SandboxError
from pytest_iris.sandbox import _iris, _procfs
from pytest_iris.sandbox._state import (
    HostState,
    Instance,
    host_lock,
    load_state,
    locked_state,
    save_state,
)

EUID_ENV = "PYTEST_IRIS_SANDBOX_EUID"
#: commands sudo must never reach on the real host
GUARDED = frozenset({"sudo", "sysctl", "iris", "ccontrol", "systemctl", "kill", "pkill", "killall",
                     "reboot", "shutdown", "halt", "poweroff", "init", "telinit"})  # fmt: skip
Outcome = _iris.Outcome


def _euid(state: HostState, env: Mapping[str, str]) -> int:
    raw = env.get(EUID_ENV)
    if raw is not None and raw.isdigit():
        return int(raw)
    return state.uid


def _proc_root(root: Path) -> Path:
    return root / "proc"


# -- sysctl ---------------------------------------------------------------


def _normalize(key: str) -> str:
    return key.strip().replace("/", ".")


def _all_keys(proc_root: Path) -> list[str]:
    base = proc_root / "sys"
    keys = []
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            if not name.startswith("."):
                rel = Path(dirpath, name).relative_to(base)
                keys.append(".".join(rel.parts))
    return sorted(keys)


def write_sysctl(root: Path, key: str, value: str) -> str:
    """Write a tunable as the kernel would store it; returns the stored value."""
    proc_root = _proc_root(root)
    key = _normalize(key)
    path = _procfs.key_path(proc_root, key)
    if not path.is_file():
        raise FileNotFoundError(f"/proc/sys/{key.replace('.', '/')}")
    fields = value.split()
    numeric = bool(fields) and all(f.lstrip("-").isdigit() for f in fields)
    if not numeric and key not in ("kernel.hostname", "kernel.domainname"):
        raise ValueError(value)
    stored = "\t".join(fields) if len(fields) > 1 else value.strip()
    with host_lock(root):
        state = load_state(root)
        if key == "vm.nr_hugepages":
            # the kernel allocates what contiguous memory allows (keep 1 GB for the rest)
            limit = max((state.total_ram_mb - 1024) * 1024 // state.hugepagesize_kb, 0)
            stored = str(min(int(stored), limit))
        _procfs.write_file(path, stored + "\n")
        _procfs.render(proc_root, state)
    return stored


def _load_conf(root: Path, names: list[str], *, missing_ok: bool = False) -> list[str] | None:
    """``key=value`` targets from sysctl.conf-format files (``#``/``;`` comments)."""
    targets: list[str] = []
    for name in names:
        path = Path(name)
        if not str(path).startswith(str(root)):
            path = root / str(path).lstrip("/")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            if missing_ok:
                continue
            return None
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith(("#", ";")) and "=" in line:
                key, value = line.split("=", 1)
                targets.append(f"{key.strip().lstrip('-')}={value.strip()}")
    return targets


def sysctl_command(
    root: Path,
    argv: list[str],
    *,
    as_root: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """procps ``sysctl``: read ``key``, write ``key=value`` / ``-w``, ``-n``, ``-a``, ``-q``, ``-e``.

    ``-p [FILE]`` loads ``key = value`` lines from FILE (default the host's
    ``<root>/etc/sysctl.conf``); ``--system`` loads ``<root>/etc/sysctl.d/*.conf``
    then ``<root>/etc/sysctl.conf``. Absolute paths inside the host root are
    taken as they are; others are read from the host root (``/etc/...`` ->
    ``<root>/etc/...``), since the sandbox's /etc is there.
    """
    env = os.environ if env is None else env
    out = Outcome()
    proc_root = _proc_root(root)
    names_only = quiet = ignore = show_all = False
    targets: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-p", "--load") or arg.startswith("--load="):
            name = (
                arg.split("=", 1)[1]
                if "=" in arg
                else (args.pop(0) if args and not args[0].startswith("-") else "/etc/sysctl.conf")
            )
            loaded = _load_conf(root, [name])
            if loaded is None:
                return Outcome(1, "", f'sysctl: cannot open "{name}": No such file or directory\n')
            targets += loaded
            continue
        if arg == "--system":
            conf_d = root / "etc" / "sysctl.d"
            names = sorted(str(p) for p in conf_d.glob("*.conf")) if conf_d.is_dir() else []
            for name in names:
                out.stdout += f"* Applying {name} ...\n"
            targets += (
                _load_conf(root, [*names, str(root / "etc" / "sysctl.conf")], missing_ok=True) or []
            )
            continue
        if arg.startswith("-") and "=" not in arg and len(arg) > 1:
            for flag in arg[1:]:
                if flag == "n":
                    names_only = True
                elif flag == "q":
                    quiet = True
                elif flag == "e":
                    ignore = True
                elif flag in "aAX":
                    show_all = True
                elif flag == "w":
                    pass
                else:
                    out.stderr += f"sysctl: invalid option -- '{flag}'\n"
                    out.status = 1
                    return out
        else:
            targets.append(arg)
    if show_all:
        targets = _all_keys(proc_root)
    if not targets:
        out.stderr = "sysctl: no variables specified\nTry `sysctl --help' for more information.\n"
        out.status = 1
        return out
    state = load_state(root)
    euid = 0 if as_root else _euid(state, env)
    for target in targets:
        if "=" in target:
            key, value = target.split("=", 1)
            key = _normalize(key)
            if euid != 0:
                out.stderr += f'sysctl: permission denied on key "{key}"\n'
                out.status = 1
                continue
            try:
                stored = write_sysctl(root, key, value)
            except FileNotFoundError as exc:
                if not ignore:
                    out.stderr += f"sysctl: cannot stat {exc.args[0]}: No such file or directory\n"
                    out.status = 1
                continue
            except ValueError:
                out.stderr += f'sysctl: setting key "{key}": Invalid argument\n'
                out.status = 1
                continue
            if not quiet:
                out.stdout += f"{key} = {stored}\n"
            continue
        key = _normalize(target)
        try:
            value = _procfs.read_key(proc_root, key)
        except (OSError, SandboxError):
            if not ignore:
                out.stderr += f"sysctl: cannot stat /proc/sys/{key.replace('.', '/')}: No such file or directory\n"
                out.status = 1
            continue
        out.stdout += f"{value}\n" if names_only else f"{key} = {value}\n"
    return out


# -- iris -----------------------------------------------------------------

_USAGE = """usage:
       iris start <instance> [<cpf_file>] [quietly]
       iris stop <instance> [quietly] [restart]
       iris force <instance>
       iris merge <instance> <merge_file> [<cpf_file>]
       iris list [<instance>]
       iris qlist [<instance>]
       iris all
"""


def _list_entry(inst: Instance) -> str:
    head = f"Configuration '{inst.name}'" + ("   (default)" if inst.default else "")
    if inst.status == "running":
        status = f"running, since {_iris.ctime(inst.since)}"
    else:
        status = f"down, last used {_iris.ctime(inst.since)}"
    lines = [
        head,
        f"    directory:    {inst.directory}",
        f"    versionid:    {inst.version}",
        f"    datadir:      {inst.directory}",
        f"    conf file:    {Path(inst.cpf).name}  (SuperServer port = {inst.superserver_port}, "
        f"WebServer = {inst.web_port})",
        f"    status:       {status}",
    ]
    if inst.status == "running":
        lines.append(f"    state:        {inst.health}")
    lines.append(f"    product:      {inst.product}")
    return "\n".join(lines) + "\n"


def _qlist_entry(inst: Instance) -> str:
    # Fields 1-4 are known from real scripts (facts.md §4.2); the rest follow
    # the order of `iris list` (conf file, ports, state, product, datadir).
    if inst.status == "running":
        status = f"running, since {_iris.ctime(inst.since)}"
        health = inst.health
    else:
        status = f"down, last used {_iris.ctime(inst.since)}"
        health = ""
    fields = [inst.name, inst.directory, inst.version, status, Path(inst.cpf).name,
              str(inst.superserver_port), str(inst.web_port), "0", health, inst.product,
              "", "", inst.directory]  # fmt: skip
    return "^".join(fields) + "\n"


def _all_table(state: HostState) -> str:
    rows = [
        "    Instance          Version ID        Port   Directory",
        "    -------------     ----------        ----   ---------",
    ]
    for inst in state.instances.values():
        up = "up  " if inst.status == "running" else "dn  "
        version = inst.version.removesuffix("com")
        rows.append(f"{up}{inst.name:<18}{version:<18}{inst.superserver_port:<7}{inst.directory}")
    return "\n".join(rows) + "\n"


def iris_command(root: Path, argv: list[str], *, env: Mapping[str, str] | None = None) -> Outcome:
    """``iris list|qlist|all|start|stop|force|merge`` acting on the sandbox host."""
    env = os.environ if env is None else env
    if not argv or argv[0] in ("help", "-h", "--help"):
        return Outcome(status=0 if argv else 1, stdout=_USAGE)
    sub, rest = argv[0].lower(), argv[1:]
    words = [a for a in rest if a.lower() not in ("quietly", "restart", "nostu")]
    flags = {a.lower() for a in rest} - {w.lower() for w in words}
    if sub in ("list", "qlist", "all", "allw"):
        state = load_state(root)
        chosen = [
            i for i in state.instances.values() if not words or i.name.upper() == words[0].upper()
        ]
        if words and not chosen:
            return Outcome(status=1, stderr=f"iris: unknown instance '{words[0]}'\n")
        if sub == "list":
            return Outcome(stdout="".join("\n" + _list_entry(i) for i in chosen))
        if sub == "qlist":
            return Outcome(stdout="".join(_qlist_entry(i) for i in chosen))
        return Outcome(stdout=_all_table(state))
    if sub not in ("start", "stop", "force", "merge", "startnostu"):
        return Outcome(status=1, stderr=f"iris: unknown command '{argv[0]}'\n" + _USAGE)
    if not words:
        return Outcome(status=1, stderr=_USAGE)
    with locked_state(root) as state:
        inst = next(
            (i for i in state.instances.values() if i.name.upper() == words[0].upper()), None
        )
        if inst is None:
            return Outcome(status=1, stderr=f"iris: unknown instance '{words[0]}'\n")
        euid = _euid(state, env)
        if euid not in (0, inst.owner_uid):
            return Outcome(
                status=1,
                stderr=f"iris: permission denied: {sub} {inst.name} needs root or the instance owner\n",
            )
        quietly = "quietly" in flags
        if sub in ("start", "startnostu"):
            merge = env.get("ISC_CPF_MERGE_FILE")
            if merge:
                from pytest_iris.sandbox import _merge

                _merge.merge(state, inst, Path(merge))
            if len(words) > 1:
                inst.cpf = str(Path(words[1]).absolute())
            out = _iris.start(state, _proc_root(root), inst, quietly=quietly)
        elif sub == "stop":
            out = _iris.stop(state, inst, quietly=quietly)
            if out.status == 0 and "restart" in flags:
                again = _iris.start(state, _proc_root(root), inst, quietly=quietly)
                out = Outcome(again.status, out.stdout + again.stdout, out.stderr + again.stderr,
                              out.messages + again.messages)  # fmt: skip
        elif sub == "force":
            out = _iris.force(state, inst)
        else:
            if len(words) < 2:
                return Outcome(status=1, stderr=_USAGE)
            from pytest_iris.sandbox import _merge

            out = _merge.merge(state, inst, Path(words[1]))
        _procfs.render(_proc_root(root), state)
    return out


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
    command = args[0]
    found = shutil.which(command, path=env.get("PATH", "")) if os.sep not in command else command
    if found is None:
        return Outcome(status=1, stderr=f"sudo: {command}: command not found\n")
    bin_dir = str((root / "bin").resolve())
    if Path(found).name in GUARDED and str(Path(found).resolve().parent) != bin_dir:
        return Outcome(
            status=1,
            stderr=f"sudo: refusing to run the real host's {found} from inside the sandbox\n",
        )
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
            child_env = dict(env)
            child_env[EUID_ENV] = "0"
            sys.stdout.flush()
            os.execve(decided[0], decided, child_env)
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


__all__ = ["iris_command", "kill_command", "main", "save_state", "sudo_command", "sysctl_command"]
