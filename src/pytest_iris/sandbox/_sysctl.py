"""The sandbox's ``sysctl`` (procps-ng 4.0.2 behaviour and texts).

Texts were checked against the real ``sysctl`` in a private IPC namespace:
``kernel.shmmax = N``, ``sysctl: permission denied on key "kernel.shmmax"``,
``sysctl: cannot stat /proc/sys/...: No such file or directory``, status 1;
``sysctl: setting key "kernel.shmmax": Invalid argument``, status 1, for a
value the kernel refuses (which values: :mod:`._kernelvalues`).
Writes need an effective root (the sandbox user is root, or sudo's child).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pytest_iris.errors import SandboxError
from pytest_iris.host import Outcome
from pytest_iris.sandbox import _procfs
from pytest_iris.sandbox._cmdbase import euid as _euid
from pytest_iris.sandbox._cmdbase import proc_root as _proc_root
from pytest_iris.sandbox._state import host_lock, load_state

_TEXT_KEYS = ("kernel.hostname", "kernel.domainname", "kernel.ostype", "kernel.osrelease")


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
    from pytest_iris.sandbox import _kernelvalues

    fields = value.split()
    numeric = bool(fields) and all(f.lstrip("-").isdigit() for f in fields)
    if key not in _kernelvalues.RULES and not numeric and key not in _TEXT_KEYS:
        raise _kernelvalues.Refused(value)
    stored = "\t".join(fields) if len(fields) > 1 else value.strip()
    with host_lock(root):
        try:
            # what the real kernel stores or refuses (_kernelvalues: measured in namespaces)
            stored = _kernelvalues.store(key, value, path.read_text(encoding="utf-8").strip())
        except _kernelvalues.Refused as exc:
            if exc.stored is not None:  # the kernel kept the numbers before the refused one
                _procfs.write_file(path, exc.stored + "\n")
            raise
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
    names_only = quiet = ignore = show_all = write_mode = False
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
                    write_mode = True
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
        if write_mode and "=" not in target:
            # procps 4.0.2, checked with the real sysctl: nothing is read or written
            out.stderr += "sysctl: command line(0): invalid syntax, continuing...\n"
            out.status = 1
            continue
        if "=" in target:
            key, value = target.split("=", 1)
            key = _normalize(key)
            if euid != 0:
                out.stderr += f'sysctl: permission denied on key "{key}"\n'
                out.status = 1
                continue
            try:
                write_sysctl(root, key, value)
            except FileNotFoundError as exc:
                if not ignore:
                    out.stderr += f"sysctl: cannot stat {exc.args[0]}: No such file or directory\n"
                    out.status = 1
                continue
            except ValueError as exc:
                # procps: 'setting key "K": <strerror>'; a read-only key exits 0 (_kernelvalues)
                text = getattr(exc, "errno_text", "Invalid argument")
                out.stderr += f'sysctl: setting key "{key}": {text}\n'
                out.status = max(out.status, getattr(exc, "status", 1))
                continue
            if not quiet:
                # procps echoes the value as given (not the kernel's tab-separated or
                # clamped one); -n prints the value alone, as on a read
                given = value.strip()
                out.stdout += f"{given}\n" if names_only else f"{key} = {given}\n"
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
