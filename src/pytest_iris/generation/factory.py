"""Generated logs for tests: a finished messages.log in a fake install directory.

:class:`LogFactory` is what the ``iris_log`` and ``iris_log_factory``
fixtures use; it works without pytest too. Each log gets its own install
root, and its seed is derived from the factory's seed and the log's number,
so two logs of one test differ and every run repeats them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pytest_iris.errors import ConfigError
from pytest_iris.generation.outputs import (
    messages_log_path,
    write_alerts_log,
    write_atomic,
    write_structured_log,
)
from pytest_iris.generation.stream import LogStream, Placement
from pytest_iris.log.model import IRISMessage
from pytest_iris.seeds import derive_seed


@dataclass(frozen=True)
class GeneratedLog:
    """A written ``<root>/mgr/messages.log`` and the stream that made it.

    Usable wherever a path is (``open(log)``, ``read_log(log)``).
    """

    root: Path
    path: Path
    seed: int
    stream: LogStream
    #: ``<root>/mgr/alerts.log`` when asked for (``alerts=True``), else ``None``.
    alerts_path: Path | None = None
    #: ``<root>/mgr/messages.json`` (the ^LOGDMN JSON log) when asked for (``structured=True``).
    structured_path: Path | None = None

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def messages(self) -> Iterator[IRISMessage]:
        """The file's messages as the project's parser reads them."""
        from pytest_iris.log.reader import iter_messages

        return iter_messages(self.path)

    @property
    def placements(self) -> list[Placement]:
        return self.stream.placements

    def placement(self, name: str) -> Placement:
        return self.stream.placement(name)

    def lines(self, name: str) -> list[str]:
        """The physical lines sequence ``name`` occupies in the file."""
        placed = self.placement(name)
        with open(self.path, encoding="utf-8") as handle:
            all_lines = handle.read().split("\n")
        return all_lines[placed.first_line - 1 : placed.last_line]


def parse_start(value: Any) -> datetime | None:
    """``None``, a naive ``datetime`` or an ISO 8601 string."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                f"start {value!r} is not an ISO 8601 time such as 2024-03-09T21:16:17"
            ) from None
    raise ConfigError(f"start must be a datetime or ISO string, got {value!r}")


#: Keyword options of :class:`LogStream` a factory call or marker may give.
_STREAM_OPTIONS = frozenset(
    {"count", "sequences", "start", "rate", "jitter", "install_dir", "instance", "total_ram_mb",
     "context", "catalog", "registry", "version"}
)  # fmt: skip


class LogFactory:
    """Makes :class:`GeneratedLog` files under ``base`` with seeds derived from ``seed``."""

    def __init__(self, base: str | os.PathLike[str], seed: int, **defaults: Any) -> None:
        self.base = Path(base)
        self.seed = seed
        self.defaults = defaults
        self.made: list[GeneratedLog] = []

    def __call__(
        self,
        *sequences: Any,
        seed: int | None = None,
        root: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> GeneratedLog:
        """Write one log. ``sequences`` default to the factory's (or ``("startup",)``)."""
        merged = {**self.defaults, **options}
        alerts = bool(merged.pop("alerts", False))
        structured = bool(merged.pop("structured", False))
        if sequences:
            merged["sequences"] = sequences
        if "start" in merged:
            merged["start"] = parse_start(merged["start"])
        number = len(self.made)
        log_seed = seed if seed is not None else derive_seed(self.seed, "log", number)
        install = Path(root) if root is not None else self.base / f"iris{number}"
        # The log names install_dir (default /usr/irissys), never the temporary
        # directory it lands in: same seed, same bytes on every machine.
        unknown = set(merged) - _STREAM_OPTIONS
        if unknown:
            raise ConfigError(
                f"unknown log option(s) {sorted(unknown)}; valid: {', '.join(sorted(_STREAM_OPTIONS | {'alerts', 'structured'}))}"
            )
        stream = LogStream(log_seed, **merged)
        path = write_atomic(messages_log_path(install, stream.context.profile), stream.chunks())
        log = GeneratedLog(
            install,
            path,
            log_seed,
            stream,
            write_alerts_log(install, stream) if alerts else None,
            write_structured_log(install, stream) if structured else None,
        )
        self.made.append(log)
        return log
