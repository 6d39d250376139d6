"""Atomic file replacement: the one way pytest-iris writes a whole file.

A CPF, a cassette, a generated messages.log or a report that is half-written
would be read as a broken file by whatever reads it next. So every whole-file
write goes to a temporary file in the same directory, is flushed and
fsynced, gets the original file's mode (and owner, when permitted), and is
renamed over the target; the directory is fsynced after. A process killed at
any point leaves the old file or the new one, never a torn one; at worst a
``.<name>.<pid>.*.tmp`` file stays behind, and the next write of the same
file removes those whose process is gone. A symlink is written through.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

#: mode of a file written where none existed
NEW_FILE_MODE = 0o644


def real_target(path: str | os.PathLike[str]) -> Path:
    """The file a write must replace: ``path`` with symlinks resolved."""
    return Path(os.path.realpath(path))


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes | str | Iterable[str],
    *,
    mode: int | None = None,
    make_parents: bool = False,
    durable: bool = True,
) -> Path:
    """Replace ``path`` with ``data`` atomically, keeping its mode; returns the file written.

    ``data`` is bytes, text (written as UTF-8) or an iterable of text chunks
    (streamed, for large generated files). ``mode`` applies to a file that
    does not exist yet (default 0o644). ``make_parents`` creates missing
    directories; otherwise a missing directory is an error. ``durable=False``
    skips the fsyncs and the sweep of stale temporaries, for files a crash
    throws away with their tree (a sandbox's state and procfs): still whole
    for every reader and racing writer, just not on disk after a power loss.
    """
    target = real_target(path)
    directory = target.parent
    if make_parents:
        directory.mkdir(parents=True, exist_ok=True)
    try:
        original: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        original = None
    if durable:
        _remove_stale_temporaries(target)
    # The name is chosen before the file exists, and the file is made inside
    # the try: an interrupt (the CLI turns SIGTERM/SIGINT into an exception)
    # that lands between the open and the name reaching this frame, as one
    # inside tempfile.mkstemp could, still finds the file to remove.
    temporary = temporary_name(target)
    try:
        with fresh_temporary(temporary) as fd:
            _write_whole(fd, data, original, mode, durable)
            os.replace(temporary, target)
    except OSError as error:
        if error.filename == temporary:
            raise _naming(error, target) from error
        raise
    if durable:
        fsync_directory(directory)
    return target


def _write_whole(
    fd: int,
    data: bytes | str | Iterable[str],
    original: os.stat_result | None,
    mode: int | None,
    durable: bool,
) -> None:
    """Write ``data`` to the temporary ``fd`` and give it the original file's mode."""
    with os.fdopen(fd, "wb") as handle:
        if isinstance(data, bytes):
            handle.write(data)
        elif isinstance(data, str):
            handle.write(data.encode("utf-8"))
        else:
            for chunk in data:
                handle.write(chunk.encode("utf-8"))
        handle.flush()
        if original is not None:
            os.fchmod(handle.fileno(), stat.S_IMODE(original.st_mode))
            with contextlib.suppress(PermissionError):
                os.fchown(handle.fileno(), original.st_uid, original.st_gid)
        else:
            os.fchmod(handle.fileno(), NEW_FILE_MODE if mode is None else mode)
        if durable:
            os.fsync(handle.fileno())


def temporary_name(target: Path) -> str:
    """A fresh ``.<name>.<pid>.<random>.tmp`` beside ``target`` (what stale-file removal knows)."""
    return os.fspath(target.parent / f".{target.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")


@contextlib.contextmanager
def fresh_temporary(temporary: str) -> Iterator[int]:
    """Create ``temporary`` (a :func:`temporary_name`): a descriptor open for writing.

    Whatever still bears the name on the way out is removed (a rename has
    taken it on success), also after an interrupt that lands just after the
    file was made; a name another writer held (``O_EXCL`` refused it) is that
    writer's file and stays. The caller closes the descriptor.
    """
    ours = True
    try:
        try:
            fd = create_temporary(temporary)
        except FileExistsError:
            ours = False
            raise
        yield fd
    finally:
        if ours:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def create_temporary(temporary: str) -> int:
    """Create ``temporary`` (a :func:`temporary_name`) for writing, only if it does not exist.

    Called inside the ``try`` whose handler removes the file, with the name
    chosen before it: an interrupt that lands after the file exists always
    finds its name, which ``tempfile.mkstemp`` (naming it on return) cannot give.
    """
    return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may write less than it is given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _naming(error: OSError, target: Path) -> OSError:
    """The same error about the file the caller asked for, not our hidden temporary file.

    A user who gave ``-o /proc/x.log`` or ``--json /etc`` must read that path
    in the one-line error, not ``/proc/.x.log.1234.tmp``.
    """
    if error.errno is None:
        return error
    return OSError(error.errno, error.strerror, str(target))


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` survive a crash."""
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
