"""Shared helpers of the tools tests: a minimal procfs tree and stand-in commands."""

from __future__ import annotations

import stat
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
