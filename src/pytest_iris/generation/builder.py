"""The tool sequences write with: a clock, the instance's PIDs and the catalog.

A sequence is a short program (``startup``, ``write_daemon_death`` ...) that
calls :meth:`Builder.emit` for each line. The builder keeps the time moving
forward, resolves PIDs by role (a role the context does not name gets a PID
derived from the seed, the same one every time it is asked for) and fills
the values every template may use (install directory, journal file ...), so
that what must agree across a stream does.
"""

from __future__ import annotations

import random
from typing import Any

from pytest_iris.generation.catalog import Catalog
from pytest_iris.generation.context import SequenceContext
from pytest_iris.generation.entries import END_MS, Entry, from_ms, to_ms


class Builder:
    """Collects the entries of one sequence, in time order."""

    def __init__(
        self,
        context: SequenceContext,
        rng: random.Random,
        catalog: Catalog,
        *,
        next_pid: int | None = None,
    ) -> None:
        self.context = context
        self.rng = rng
        self.catalog = catalog
        self.ms = to_ms(context.start)
        self.entries: list[Entry] = []
        self.pids: dict[str, int] = dict(context.pids)
        known = max(self.pids.values(), default=0)
        # Not drawn from rng: a sequence must make the same draws whoever gives the PIDs.
        self.next_pid = next_pid or (known + 23 if known else 300 + context.seed % 90_000)
        # PIDs draw from their own generator: whether a role's PID was given must
        # not shift the draws that decide a sequence's lines.
        self._pid_rng = random.Random(rng.getrandbits(64))
        self.journal_number = context.journal_number
        self.journal_day = context.journal_day or context.start.date()
        base = context
        self.values: dict[str, Any] = {
            "install_dir": base.root,
            "instance": base.instance,
            "mgr": base.mgr,
            "wij": base.wij,
            "cpf": base.cpf,
            "journal_dir": base.journal_directory,
            "nodename": base.nodename,
            "platform": base.platform,
            "version": base.version,
            "build": base.build,
            "build_date": base.build_date,
            "os_version": base.os_version,
            "os_release": base.os_release,
            "mirror": base.mirror_name,
            "merge_file": base.merge_file,
        }

    # -- PIDs --------------------------------------------------------------

    def new_pid(self) -> int:
        """A fresh PID, above every PID handed out so far (Linux counts up)."""
        pid = self.next_pid
        self.next_pid += self._pid_rng.randint(1, 37)
        return pid

    def pid(self, role: str) -> int:
        """The PID of ``role``: the context's, or one made up once and kept."""
        pid = self.pids.get(role)
        if pid is None:
            pid = self.pids[role] = self.new_pid()
        return pid

    # -- time --------------------------------------------------------------

    def wait(self, low_ms: int, high_ms: int | None = None) -> None:
        """Move the clock forward by ``low_ms`` (or a draw in ``[low_ms, high_ms]``)."""
        self.ms += low_ms if high_ms is None else self.rng.randint(low_ms, high_ms)

    def journal_file(self, *, prefix: str = "", advance: bool = False) -> str:
        """The journal file of today: ``<journal dir>/[prefix]YYYYMMDD.NNN``.

        IRIS starts a new file each day (``.001``) and on every switch
        (``advance=True``, e.g. a backup).
        """
        day = from_ms(self.ms).date()
        if day != self.journal_day:
            self.journal_day, self.journal_number = day, 1
        if advance:
            self.journal_number += 1
        return (
            f"{self.context.journal_directory}/{prefix}"
            f"{day.year:04d}{day.month:02d}{day.day:02d}.{self.journal_number:03d}"
        )

    # -- lines -------------------------------------------------------------

    def block(self, lines: tuple[str, ...], *, after: tuple[int, int] | int = 0) -> Entry:
        """Write lines another program writes without a stamp (see ``entries.BLOCK``)."""
        from pytest_iris.generation.entries import BLOCK

        if self.entries:
            self.wait(after) if isinstance(after, int) else self.wait(*after)
        entry = Entry(self.ms, 0, BLOCK, None, lines[0], tuple(lines[1:]), "wij.recovery_block")
        self.entries.append(entry)
        return entry

    def emit(
        self,
        template_id: str,
        *,
        role: str = "control",
        pid: int | None = None,
        after: tuple[int, int] | int = (1, 4),
        same: bool = False,
        **values: Any,
    ) -> Entry:
        """Write one entry of ``template_id``; ``after`` ms after the previous one.

        The first entry of a builder is stamped at the context's start.
        ``same=True`` keeps the previous timestamp (IRIS writes the two
        allocation lines in the same millisecond).
        """
        template = self.catalog[template_id]
        if not same and self.entries:  # a sequence's first line is at the context's start
            if isinstance(after, int):
                self.wait(after)
            else:
                self.wait(*after)
        if self.ms >= END_MS:
            from pytest_iris.errors import ConfigError

            raise ConfigError(
                "generated timestamps ran past 12/31/99 (messages.log years are 2000-2099)"
            )
        merged = {**self.values, **values}
        text, continuation = template.render(merged)
        entry = Entry(
            self.ms,
            self.pid(role) if pid is None else pid,
            template.severity,
            template.category,
            text,
            continuation,
            template.id,
        )
        self.entries.append(entry)
        return entry
