"""A writer killed at any point leaves the old file or the new one, never a torn one."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from cpf_support import real_or_synthetic
from pytest_iris.tools.cpf import CpfFile, CpfTool, backups, write_atomic
from pytest_iris.tools.cpf.storage import next_backup_path

FULL = "Fahima396-Intersystems-IRIS-iris.cpf"

#: The child: patches one step of the write to announce itself and stop there.
CHILD = r"""
import os, sys, time
from pytest_iris.tools.cpf import storage

where, path, source = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(source, "rb").read()

def stop():
    sys.stdout.write("stopped\n")
    sys.stdout.flush()
    time.sleep(120)

if where == "mid-data":
    real_fdopen = os.fdopen
    class Half:
        def __init__(self, handle): self.handle = handle
        def __enter__(self): return self
        def __exit__(self, *exc): return self.handle.__exit__(*exc)
        def fileno(self): return self.handle.fileno()
        def flush(self): self.handle.flush()
        def write(self, chunk):
            self.handle.write(chunk[: len(chunk) // 2]); self.handle.flush(); stop()
    os.fdopen = lambda fd, mode: Half(real_fdopen(fd, mode))
elif where == "before-fsync":
    real_fsync = os.fsync
    os.fsync = lambda fd: (stop(), real_fsync(fd))
elif where == "before-rename":
    real_replace = os.replace
    os.replace = lambda a, b: (stop(), real_replace(a, b))
elif where == "after-rename":
    real_replace = os.replace
    os.replace = lambda a, b: (real_replace(a, b), stop())
storage.write_atomic(path, data)
sys.stdout.write("done\n")
"""

#: The child for random kills: the real tool, toggling one parameter forever.
LOOP = r"""
import sys
from pytest_iris.tools.cpf import CpfTool
tool = CpfTool(sys.argv[1], total_ram_mb=8192)
values = ["0,0,64,0,0,0", "0,0,0,0,0,0"]
sys.stdout.write("running\n"); sys.stdout.flush()
i = 0
while True:
    tool.set({"globals": values[i % 2]}, apply=True)
    i += 1
"""


def _start(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def _kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    if child.stdout:
        child.stdout.close()


@pytest.mark.parametrize("where", ["mid-data", "before-fsync", "before-rename", "after-rename"])
def test_sigkill_mid_write_leaves_old_or_new(where: str, tmp_path: Path) -> None:
    path = real_or_synthetic(FULL, tmp_path)
    old = path.read_bytes()
    cpf = CpfFile.read(path)
    cpf.set("config", "globals", "0,0,4096,0,0,0")
    new = cpf.to_bytes()
    source = tmp_path / "new.bin"
    source.write_bytes(new)

    child = _start(CHILD, where, str(path), str(source))
    assert child.stdout is not None
    assert child.stdout.readline() == "stopped\n"  # the child is inside write_atomic
    _kill(child)

    expected = new if where == "after-rename" else old
    assert path.read_bytes() == expected
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == (0 if where == "after-rename" else 1)
    # the next write cleans up what the killed writer left
    write_atomic(path, new)
    assert path.read_bytes() == new
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_random_sigkills_of_the_real_tool_never_tear_the_file(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = real_or_synthetic(FULL, tmp_path)
    versions = set()
    for value in ("0,0,64,0,0,0", "0,0,0,0,0,0"):
        cpf = CpfFile.read(path)
        cpf.set("config", "globals", value)
        versions.add(cpf.to_bytes())
    rng = random.Random(f"20261126:{request.node.nodeid}")
    for _ in range(6):
        child = _start(LOOP, str(path))
        assert child.stdout is not None
        assert child.stdout.readline() == "running\n"
        time.sleep(rng.uniform(0.0, 0.05))
        _kill(child)
        assert path.read_bytes() in versions
        for backup in backups(path):
            assert backup.read_bytes() in versions


def test_mode_owner_kept_and_symlink_written_through(tmp_path: Path) -> None:
    real_dir = tmp_path / "durable"
    real_dir.mkdir()
    path = real_or_synthetic(FULL, real_dir)
    os.chmod(path, 0o640)
    link = tmp_path / "iris.cpf"
    link.symlink_to(path)
    result = CpfTool(link, today=lambda: date(2024, 3, 9)).set({"jrnbufs": 128}, apply=True)
    assert result.ok
    assert link.is_symlink()
    assert CpfFile.read(path).get("config", "jrnbufs") == "128"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    backup = real_dir / "iris.cpf_20240309"
    assert result.details["backup"] == str(backup)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o640


def test_backups_are_dated_and_never_overwritten(tmp_path: Path) -> None:
    path = real_or_synthetic(FULL, tmp_path)
    day = date(2025, 1, 15)
    tool = CpfTool(path, today=lambda: day)
    contents = [path.read_bytes()]
    for value in (32, 64, 128):
        tool.set({"globals": value}, apply=True)
        contents.append(path.read_bytes())
    names = [p.name for p in tool.backups()]
    assert names == ["iris.cpf_20250115", "iris.cpf_20250115.2", "iris.cpf_20250115.3"]
    assert [p.read_bytes() for p in tool.backups()] == contents[:3]
    assert next_backup_path(path, day).name == "iris.cpf_20250115.4"
    assert next_backup_path(path, date(2025, 1, 16)).name == "iris.cpf_20250116"


def test_temporaries_of_live_writers_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_bytes(b"[config]\n")
    live = tmp_path / f".iris.cpf.{os.getpid()}.abc.tmp"
    live.write_bytes(b"partial")
    dead_child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                                capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f".iris.cpf.{int(dead_child.stdout)}.abc.tmp"
    dead.write_bytes(b"partial")
    write_atomic(path, b"[config]\njrnbufs=64\n")
    assert live.exists() and not dead.exists()
    assert path.read_bytes() == b"[config]\njrnbufs=64\n"
