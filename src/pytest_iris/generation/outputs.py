"""Writing generated logs to disk: atomically, into a fake install directory.

A half-written messages.log would read as a truncated last line to every
tailer under test, so whole files are written to a temporary file in the
same directory, fsynced and renamed into place.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_iris.atomic import write_atomic as _write_atomic


def write_atomic(path: str | os.PathLike[str], chunks: Iterable[str]) -> Path:
    """Write text ``chunks`` to ``path`` atomically, creating its directory; returns the path."""
    return _write_atomic(path, chunks, make_parents=True)


def messages_log_path(root: str | os.PathLike[str], version: str | None = None) -> Path:
    """``<root>/mgr/messages.log`` (``cconsole.log`` for Caché): where the instance keeps it."""
    from pytest_iris.log.versions import profile

    return Path(root) / "mgr" / profile(version).log_name


def write_messages_log(root: str | os.PathLike[str], stream: Any = None, **options: Any) -> Path:
    """Write a stream as ``<root>/mgr/messages.log``; returns the file's path.

    ``stream`` is a :class:`~pytest_iris.generation.stream.LogStream`; when
    it is omitted one is made from ``options`` (``seed``, ``count``,
    ``sequences`` ...). The paths inside the log name ``install_dir``
    (default ``/usr/irissys``, the real default), not ``root``: the same
    seed gives the same bytes wherever the file lands.
    """
    if stream is None:
        from pytest_iris.generation.stream import LogStream

        stream = LogStream(**options)
    elif options:
        from pytest_iris.errors import ConfigError

        raise ConfigError("write_messages_log: pass either a stream or options, not both")
    return write_atomic(messages_log_path(root, stream.context.profile), stream.chunks())


#: Beside messages.log: what the Log Monitor copies (severity 2 and up).
ALERTS_LOG = "alerts.log"
#: The structured log's file name is set in ^LOGDMN; this one is invented.
STRUCTURED_LOG = "messages.json"


def write_alerts_log(root: str | os.PathLike[str], stream: Any) -> Path:
    """``<root>/mgr/alerts.log``: the stream's entries of severity 2 and up, same line format."""
    from pytest_iris.generation.entries import format_entry
    from pytest_iris.log.structured import is_alert

    chunks = (format_entry(e) + "\n" for e in stream.entries() if is_alert(e.severity))
    return write_atomic(Path(root) / "mgr" / ALERTS_LOG, chunks)


def write_structured_log(root: str | os.PathLike[str], stream: Any) -> Path:
    """``<root>/mgr/messages.json``: the same entries as ^LOGDMN JSON lines (see log.structured)."""
    from pytest_iris.generation.entries import from_ms
    from pytest_iris.log.structured import format_structured

    chunks = (
        format_structured(from_ms(e.ms), e.pid, e.severity, e.category, e.text, e.continuation)
        + "\n"
        for e in stream.entries()
        if e.severity >= 0  # the WIJ recovery block is messages.log-only output
    )
    return write_atomic(Path(root) / "mgr" / STRUCTURED_LOG, chunks)
