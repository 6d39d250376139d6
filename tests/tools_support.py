"""Shared helpers of the tools tests: a minimal procfs tree and stand-in commands."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

MEMINFO = """MemTotal:       16303420 kB
MemFree:         9130932 kB
HugePages_Total:       0
HugePages_Free:        0
HugePages_Rsvd:        0
HugePages_Surp:        0
Hugepagesize:       2048 kB
"""

# A stand-in for procps sysctl: `sysctl -w key=value` writes the file under
# $FAKE_PROCFS/sys and prints what procps prints; FAKE_DENY makes the kernel
# refuse keys matching it, with procps's message; FAKE_SLOW=SECONDS delays each write.
FAKE_SYSCTL = """#!/bin/sh
[ "$1" = "-w" ] || { echo "usage: sysctl -w key=value" >&2; exit 2; }
key=${2%%=*}; value=${2#*=}
[ -n "$FAKE_SLOW" ] && sleep "$FAKE_SLOW"
case "$key" in $FAKE_DENY) echo "sysctl: permission denied on key \\"$key\\"" >&2; exit 1;; esac
set -f; IFS=.; set -- $key; IFS=/; file="$FAKE_PROCFS/sys/$*"  # builtins only: PATH may be bare
[ -f "$file" ] || { echo "sysctl: cannot stat $file: No such file or directory" >&2; exit 255; }
printf '%s\\n' "$value" > "$file"
echo "$key = $value"
"""


def make_procfs(root: Path, **values: str) -> Path:
    """A minimal procfs: the five tunables and meminfo (values override defaults)."""
    defaults = {
        "kernel.shmmax": "33554432",
        "kernel.shmall": "2097152",
        "kernel.sem": "32000\t1024000000\t500\t32000",
        "kernel.msgmni": "32000",
        "vm.nr_hugepages": "0",
    }
    defaults.update(values)
    for key, value in defaults.items():
        path = root / "sys" / Path(*key.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    (root / "meminfo").write_text(MEMINFO)
    return root


SCRIPTS = {"sysctl": FAKE_SYSCTL}


def install(bin_dir: Path, name: str, text: str | None = None) -> Path:
    """Write an executable ``name`` (a stand-in from SCRIPTS, or ``text``) into ``bin_dir``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / name
    script.write_text(SCRIPTS[name] if text is None else text)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


# --- Code run as another user -------------------------------------------------
#
# A child dropped to ``nobody`` cannot enter a checkout under a private directory
# (``mktemp -d`` is 0700, Ubuntu homes are 0750, CI workspaces are private), so it
# must not import from the checkout or from a virtualenv inside it. ``NobodyPython``
# gives it an interpreter nobody can run and a world-readable copy of exactly the
# top-level packages the child imports; when that is impossible, ``Unavailable``
# carries a reason naming the cause, for ``pytest.skip``.

NOBODY_UID = 65534
NOBODY = ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups"]
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

_PROBE_VERSION = "import sys; print(sys.version_info[:2])"
_PROBE_IMPORTS = """
import importlib, json, os, sys
roots = sorted({os.path.abspath(p) for p in sys.argv[2:]}, key=len, reverse=True)  # most specific first
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
found = {}
for module in list(sys.modules.values()):
    origin = os.path.abspath(getattr(module, "__file__", None) or "/")
    for root in roots:
        if origin.startswith(root + os.sep):
            top = os.path.relpath(origin, root).split(os.sep)[0]
            found.setdefault(top, os.path.join(root, top))
            break
print(json.dumps(sorted(found.values())))
"""


class Unavailable(Exception):
    """Running as nobody is impossible here; the message names the cause."""


def _others_can_enter(path: Path) -> bool:
    """True when a user with no relation to ``path``'s owners can traverse to it."""
    return all(part.stat().st_mode & stat.S_IXOTH for part in (path, *path.parents))


def _run_as_nobody(argv: list[str], cwd: str = "/") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NOBODY, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": SYSTEM_PATH, "LC_ALL": "C"},
        timeout=60,
        check=False,
    )


def nobody_interpreter() -> str:
    """An interpreter of this Python version that ``nobody`` can run, or Unavailable."""
    if shutil.which("setpriv") is None:
        raise Unavailable("setpriv (util-linux) is not installed")
    done = _run_as_nobody(["true"])
    if done.returncode != 0:
        need = "" if os.geteuid() == 0 else " (switching users needs root)"
        raise Unavailable(f"cannot switch to uid {NOBODY_UID}{need}: {done.stderr.strip()}")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    tried = []
    candidates = (
        os.path.realpath(sys.executable),
        shutil.which(f"python{version}", path=SYSTEM_PATH),
    )
    for candidate in dict.fromkeys(c for c in candidates if c):
        try:
            # through sh, as the tests start it: exec from a shell resolves the path as nobody
            done = _run_as_nobody(
                ["sh", "-c", 'exec "$@"', "sh", candidate, "-S", "-c", _PROBE_VERSION]
            )
        except OSError as error:
            tried.append(f"{candidate} ({error})")
            continue
        if done.returncode == 0 and done.stdout.strip() == str(sys.version_info[:2]):
            return candidate
        tried.append(
            f"{candidate} ({done.stderr.strip().splitlines()[-1:] or done.stdout.strip()})"
        )
    raise Unavailable(
        f"no Python {version} that uid {NOBODY_UID} can run: tried " + "; ".join(tried)
    )


def world_readable_dir() -> Path:
    """A new 0755 directory that every user can enter (TMPDIR when it allows, else /tmp ...)."""
    tried = []
    for base in dict.fromkeys([tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]):
        where = Path(base)
        if not where.is_dir() or not os.access(where, os.W_OK | os.X_OK):
            tried.append(f"{base} (missing or not writable)")
            continue
        if not _others_can_enter(where):
            tried.append(f"{base} (inside a directory other users cannot enter)")
            continue
        made = Path(tempfile.mkdtemp(prefix="pytest-iris-nobody-", dir=where))
        made.chmod(0o755)
        return made
    raise Unavailable("no temporary directory that other users can enter: " + "; ".join(tried))


def _make_readable(root: Path) -> None:
    """Every directory under ``root`` 0755, every file 0644 (0755 if executable): umask-proof."""
    for folder, _dirs, files in os.walk(root):
        Path(folder).chmod(0o755)
        for name in files:
            path = Path(folder, name)
            path.chmod(0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644)


@dataclass
class NobodyPython:
    """Python code run as ``nobody`` with a world-readable copy of what it imports.

    ``python`` is an interpreter nobody can run; ``root`` holds the copies and is
    the child's PYTHONPATH and working directory. ``close()`` removes the copies.
    """

    python: str
    root: Path

    @classmethod
    def prepare(cls, imports: list[str]) -> NobodyPython:
        """Find an interpreter, then copy the top-level packages that ``imports`` load."""
        python = nobody_interpreter()
        here = [p for p in sys.path if p and Path(p).is_dir() and not _is_stdlib(p)]
        probe = subprocess.run(
            [python, "-S", "-c", _PROBE_IMPORTS, json.dumps(imports), *here],
            capture_output=True,
            text=True,
            env={"PATH": SYSTEM_PATH, "LC_ALL": "C", "PYTHONPATH": os.pathsep.join(here)},
            cwd="/",
            timeout=60,
            check=False,
        )
        if probe.returncode != 0:  # the project's own import is broken: a failure, not a skip
            raise RuntimeError(f"{python} cannot import {imports}: {probe.stderr.strip()}")
        root = world_readable_dir()
        try:
            for entry in map(Path, json.loads(probe.stdout)):
                if entry.is_dir():
                    ignore = shutil.ignore_patterns("__pycache__")
                    shutil.copytree(entry, root / entry.name, ignore=ignore)
                else:
                    shutil.copyfile(entry, root / entry.name)
                    shutil.copymode(entry, root / entry.name)
            # Import once here so the copies carry bytecode: nobody cannot write it, and
            # without it each child spends seconds compiling pydantic.
            warm = "import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]"
            subprocess.run(
                [python, "-S", "-c", warm, *imports],
                env={"PATH": SYSTEM_PATH, "LC_ALL": "C", "PYTHONPATH": str(root)},
                cwd=root,
                capture_output=True,
                timeout=120,
                check=True,
            )
            _make_readable(root)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cls(python, root)

    def run(
        self, prefix: list[str], code: str, *args: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run ``prefix python -S -c code args`` (prefix drops to nobody) from ``root``."""
        env = {"PATH": SYSTEM_PATH, "PYTHONPATH": str(self.root), "LC_ALL": "C"}
        argv = [*prefix, self.python, "-S", "-c", code, *args]
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.root,
            timeout=timeout,
            check=False,
        )

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _is_stdlib(path: str) -> bool:
    real = os.path.realpath(path)
    stdlib = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")}
    return (
        any(real == s or real.startswith(s + os.sep) for s in stdlib)
        and "site-packages" not in real
    )
