"""Atomic writes (:mod:`pytest_iris.atomic`), the write lock, and dated backups of a CPF.

Backups follow IRIS's naming: real install directories hold
``iris.cpf_20220406`` next to ``iris.cpf`` (a file named after the date the
configuration was changed). facts.md does not say what IRIS does on a second
change the same day, so a second backup that day gets ``.2``, then ``.3``
(invented): nothing already saved is overwritten. The date comes from the
caller's clock (a sandbox passes its host clock), and a backup is created
with ``link()`` so two writers can never take the same name.

Every read-modify-write of a CPF holds :func:`locked`: an exclusive
``fcntl.flock`` on the CPF's directory. Not on the CPF itself, which is
replaced by rename (a writer waiting on the old inode and one arriving on
the new would both proceed), and not on a lock file, which would be one
more file left in the install directory.
:class:`BackupRetention` bounds how many backups pile up (count and age).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pytest_iris.atomic import (
    fresh_temporary,
    fsync_directory,
    real_target,
    temporary_name,
    write_atomic,
)
from pytest_iris.errors import ValidationError

# Whole-file writes are the project's one atomic writer (see its docstring).
__all__ = [
    "BackupRetention",
    "backups",
    "locked",
    "make_backup",
    "next_backup_path",
    "prune_backups",
    "real_target",
    "write_atomic",
]

#: upper bounds for the retention settings (a typo must not keep 10**9 files)
MAX_KEEP = 10_000
MAX_AGE_DAYS = 36_500


@dataclass(frozen=True, slots=True)
class BackupRetention:
    """How many backups to keep (``keep``, newest first) and for how long (``max_age_days``).

    ``None`` disables a bound. The backup just made is never pruned. The age
    of a backup is the date in its name against the caller's clock, so a
    sandbox's host clock ages backups the same way it names them.
    """

    keep: int | None = 50
    max_age_days: int | None = 365

    def __post_init__(self) -> None:
        if self.keep is not None and not 1 <= self.keep <= MAX_KEEP:
            raise ValidationError(f"backup retention keep={self.keep}: allowed 1..{MAX_KEEP}")
        if self.max_age_days is not None and not 0 <= self.max_age_days <= MAX_AGE_DAYS:
            raise ValidationError(
                f"backup retention max_age_days={self.max_age_days}: allowed 0..{MAX_AGE_DAYS}"
            )


# --- the lock ------------------------------------------------------------------


@contextlib.contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive write lock of the CPF at ``path`` (blocks until it is free)."""
    fd = os.open(real_target(path).parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# --- backups -------------------------------------------------------------------


def _pattern(target: Path) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(target.name)}_(\d{{8}})(?:\.(\d+))?$")


def backups(path: str | os.PathLike[str]) -> list[Path]:
    """Backups of ``path``, oldest first (``iris.cpf_YYYYMMDD``, then ``.2``, ``.3`` ...)."""
    target = real_target(path)
    pattern = _pattern(target)
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
    """Where the next backup of ``path`` made on ``day`` goes (a name not yet taken)."""
    target = real_target(path)
    base = target.parent / f"{target.name}_{day:%Y%m%d}"
    candidate, number = base, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = base.with_name(f"{base.name}.{number}")
    return candidate


def make_backup(path: str | os.PathLike[str], day: date) -> Path | None:
    """Save the current content of ``path`` as a dated backup (``None`` if there is no file).

    The copy is written and fsynced under a temporary name, then linked to
    the first free dated name; ``link`` fails if the name exists, so a
    backup is never overwritten even by a writer that ignores the lock.
    """
    target = real_target(path)
    try:
        data = target.read_bytes()
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return None
    temporary = temporary_name(target)
    with fresh_temporary(temporary) as fd:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        while True:
            destination = next_backup_path(target, day)
            try:
                os.link(temporary, destination)
            except FileExistsError:
                continue
            break
    fsync_directory(target.parent)
    return destination


def prune_backups(
    path: str | os.PathLike[str],
    retention: BackupRetention,
    now: datetime,
    *,
    keep_also: Path | None = None,
) -> list[Path]:
    """Delete backups beyond ``retention`` (oldest first); returns what was removed."""
    target = real_target(path)
    pattern = _pattern(target)
    existing = backups(target)
    doomed: list[Path] = []
    if retention.keep is not None and len(existing) > retention.keep:
        doomed += existing[: len(existing) - retention.keep]
    if retention.max_age_days is not None:
        for backup in existing:
            match = pattern.match(backup.name)
            assert match is not None
            try:
                made = datetime.strptime(match.group(1), "%Y%m%d").date()
            except ValueError:  # not a real date: not one of ours, leave it
                continue
            if (now.date() - made).days > retention.max_age_days and backup not in doomed:
                doomed.append(backup)
    removed = []
    for backup in doomed:
        if keep_also is not None and backup == keep_also:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(backup)
            removed.append(backup)
    return removed
