"""Atomic writes and dated backups of a CPF file.

A write goes to a temporary file in the same directory, is flushed and
fsynced, gets the original file's mode (and owner, when permitted), and is
renamed over the target; the directory is fsynced after. A process killed
at any point leaves the old file or the new one, never a torn one; at worst
a ``.iris.cpf.<pid>.*.tmp`` file stays behind, and the next write removes
those whose process is gone. A symlinked CPF is written through the link.

Backups follow IRIS's naming: real install directories hold
``iris.cpf_20220406`` next to ``iris.cpf`` (a file named after the date the
configuration was changed). facts.md does not say what IRIS does on a second
change the same day, so a second backup that day gets ``.2``, then ``.3``:
nothing already saved is overwritten.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from datetime import date
from pathlib import Path

#: mode of a CPF file written where none existed
NEW_FILE_MODE = 0o644


def real_target(path: str | os.PathLike[str]) -> Path:
    """The file a write must replace: ``path`` with symlinks resolved."""
    return Path(os.path.realpath(path))


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> Path:
    """Replace ``path`` with ``data`` atomically, keeping its mode; returns the file written.

    ``mode`` is used for a file that does not exist yet (default 0o644).
    """
    target = real_target(path)
    directory = target.parent
    try:
        original: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        original = None
    _remove_stale_temporaries(target)
    fd, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if original is not None:
                os.fchmod(handle.fileno(), stat.S_IMODE(original.st_mode))
                with contextlib.suppress(PermissionError):
                    os.fchown(handle.fileno(), original.st_uid, original.st_gid)
            else:
                os.fchmod(handle.fileno(), NEW_FILE_MODE if mode is None else mode)
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_temporaries(target: Path) -> None:
    """Delete temporaries left by writers that were killed (their pid no longer runs)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\..*\.tmp$")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        match = pattern.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(target.parent / name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- backups -------------------------------------------------------------------


def backups(path: str | os.PathLike[str]) -> list[Path]:
    """Backups of ``path``, oldest first (``iris.cpf_YYYYMMDD``, then ``.2``, ``.3`` ...)."""
    target = real_target(path)
    pattern = re.compile(rf"^{re.escape(target.name)}_(\d{{8}})(?:\.(\d+))?$")
    found: list[tuple[str, int, Path]] = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    for name in names:
        match = pattern.match(name)
        if match:
            found.append((match.group(1), int(match.group(2) or 1), target.parent / name))
    return [item[2] for item in sorted(found)]


def next_backup_path(path: str | os.PathLike[str], day: date) -> Path:
    """Where the next backup of ``path`` made on ``day`` goes."""
    target = real_target(path)
    base = target.parent / f"{target.name}_{day:%Y%m%d}"
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}.{number}")
    return candidate


def make_backup(path: str | os.PathLike[str], day: date) -> Path | None:
    """Save the current content of ``path`` as a dated backup (``None`` if there is no file)."""
    target = real_target(path)
    try:
        data = target.read_bytes()
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return None
    destination = next_backup_path(target, day)
    return write_atomic(destination, data, mode=mode)
