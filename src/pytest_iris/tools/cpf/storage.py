"""Atomic writes (:mod:`pytest_iris.atomic`) and dated backups of a CPF file.

Backups follow IRIS's naming: real install directories hold
``iris.cpf_20220406`` next to ``iris.cpf`` (a file named after the date the
configuration was changed). facts.md does not say what IRIS does on a second
change the same day, so a second backup that day gets ``.2``, then ``.3``:
nothing already saved is overwritten.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import date
from pathlib import Path

from pytest_iris.atomic import real_target, write_atomic

# Whole-file writes are the project's one atomic writer (see its docstring).
__all__ = ["backups", "make_backup", "next_backup_path", "real_target", "write_atomic"]


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
