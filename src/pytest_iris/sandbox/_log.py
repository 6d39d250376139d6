"""messages.log lines the sandbox's instance writes, stamped by the host clock.

The texts of whole sequences (startup, shutdown) and single catalog lines
belong to the log generator (:mod:`pytest_iris.generation`); this module
hands it the host's PIDs, clock and ports, appends what it renders and moves
the host clock past it. The shared-memory lines, whose outcome the sandbox
decides step by step, come from :mod:`pytest_iris.memory`'s texts with the
catalog's severities.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_iris.sandbox._state import HostState, Instance

if TYPE_CHECKING:
    from pytest_iris.log.model import IRISMessage


#: milliseconds from the Unix epoch to the generator's EPOCH (2000-01-01)
_EPOCH_MS = 946_684_800_000


class Writer:
    """Collects entries at the host clock, advancing a few ms per line.

    Entries are the generator's ``Entry`` tuples (formatted with its
    ``format_entry``, byte-identical to ``format_message``); the pydantic
    models are built only when :attr:`messages` is read.
    """

    def __init__(self, state: HostState, pid: int) -> None:
        self.state = state
        self.pid = pid
        self.entries: list[Any] = []

    def now_ms(self) -> int:
        """The host's local time in the generator's unit: ms since its EPOCH (2000-01-01).

        IRIS stamps messages.log in local time, so the host's time zone applies.
        """
        local = self.state.clock + self.state.utc_offset()
        return round(local * 1000) - _EPOCH_MS

    def follow(self, ms: int) -> None:
        """Move the host clock to an entry's (local) time if that is later."""
        local = (ms + _EPOCH_MS) / 1000
        self.state.clock = max(self.state.clock, local - self.state.utc_offset(local))

    def now(self) -> datetime:
        """The host's local time, naive (what the generator stamps from)."""
        local = self.state.clock + self.state.utc_offset()
        return datetime(1970, 1, 1) + timedelta(milliseconds=round(local * 1000))

    def add(
        self,
        severity: int,
        category: str | None,
        text: str,
        *,
        pid: int | None = None,
        same_stamp: bool = False,
        continuation: tuple[str, ...] = (),
        step: float = 0.003,
    ) -> None:
        from pytest_iris.generation.entries import Entry

        if not same_stamp:
            self.state.advance(step)
        pid = self.pid if pid is None else pid
        self.entries.append(
            Entry(self.now_ms(), pid, severity, category, text, continuation, "sandbox")
        )

    def extend(self, entries: list[Any]) -> None:
        self.entries.extend(entries)

    @property
    def messages(self) -> list[IRISMessage]:
        from pytest_iris.generation.entries import to_message

        return [to_message(e) for e in self.entries]

    def write(self, path: Path, *, durable: bool = True) -> None:
        """Append the entries (fsync'd unless ``durable=False``, for a host being built)."""
        if not self.entries:
            return
        from pytest_iris.generation.entries import format_entry

        text = "".join(format_entry(e) + "\n" for e in self.entries)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())


def _context(writer: Writer, inst: Instance, roles: dict[str, int], **extra: Any) -> Any:
    from pytest_iris.generation.context import SequenceContext

    pids = {role: pid for role, pid in roles.items() if pid > 0}
    state = writer.state
    for transient in ("startup", "cleanup", "monitor"):
        pids.setdefault(transient, state.new_pid())  # short-lived jobs: logged, then gone
    return SequenceContext(
        install_dir=inst.directory,
        instance=inst.name,
        pids=pids,
        start=writer.now(),
        seed=(state.seed * 1_000_003 + int(state.clock)) % 2**32,
        total_ram_mb=state.total_ram_mb,
        superserver_port=inst.superserver_port,
        web_port=inst.web_port,
        nodename=state.nodename,
        **_version_fields(inst.version),
        **extra,
    )


def _version_fields(versionid: str) -> dict[str, Any]:
    """The startup banner's release and build (``2023.1`` / ``235.1`` of ``2023.1.0.235.1com``)."""
    parts = versionid.removesuffix("com").split(".")
    if len(parts) < 5:
        return {}
    return {"version": ".".join(parts[:2]), "build": ".".join(parts[3:5])}


def _render(
    name: str, writer: Writer, inst: Instance, roles: dict[str, int], **params: Any
) -> None:
    """Append the generator's ``name`` sequence and move the host clock past it."""
    from pytest_iris.generation.sequences import render_entries

    users = params.pop("users", 0)
    entries = render_entries(name, _context(writer, inst, roles, users=users), **params)
    writer.extend(entries)
    if entries:
        writer.follow(entries[-1].ms)


def catalog_line(
    writer: Writer,
    inst: Instance,
    roles: dict[str, int],
    template: str,
    *,
    role: str | None = None,
    **fields: Any,
) -> None:
    """One line from the generator's template catalog (e.g. ``wd.died``)."""
    from pytest_iris.generation.builder import Builder
    from pytest_iris.generation.catalog import load_catalog
    from pytest_iris.seeds import derive_rng

    writer.state.advance(0.003)
    context = _context(writer, inst, roles)
    builder = Builder(context, derive_rng(context.seed, "sandbox", template), load_catalog())
    kwargs: dict[str, Any] = {"after": 0, **fields}
    if role is not None:
        kwargs["role"] = role
    builder.emit(template, **kwargs)
    writer.extend(builder.entries)


def wij_recovery(state: HostState, inst: Instance, path: Path, *, durable: bool = True) -> None:
    """The WIJ recovery program's unstamped block, written before the instance's own lines.

    Every line is the real one of ``docs/sources/messages_real.log`` lines
    111-122 (IRIS 2021.1 after an abnormal end), with this host's directories,
    its local time and a block count of our choosing (the real one compared 11
    blocks; nothing was pending, as after ``iris force``). The reader reads it
    back as a :class:`~pytest_iris.log.reader.LogBlock` of kind ``wij-recovery``.
    The blank line that opens it is left out when the log is empty (a first
    line that continues nothing would be a problem).
    """
    from pytest_iris.log.reader import LogBlock

    mgr = f"{inst.directory}/mgr"
    wij = f"{mgr}/IRIS.WIJ"
    started = time.asctime(state.local().timetuple())  # ctime: ``Wed Aug 11 06:12:30 2021``
    compared = 8 + (state.seed + int(state.clock)) % 24
    lines = (
        f"*** Recovery started at {started}",
        f"     Current default directory: {mgr}",
        f"     Log file directory: {mgr}/",
        f"     WIJ file spec: {wij}",
        f"Recovering local ({wij}) image journal file...",
        f"Starting WIJ recovery for '{wij}'.",
        "  0 blocks pending in this WIJ.",
        "WIJ pass # is 0.",
        "Starting fast WIJ compare",
        f"Finished comparing {compared} blocks in 0 seconds",
        "Exiting with status 3 (Success)",
    )
    empty = not path.exists() or path.stat().st_size == 0
    block = LogBlock(0, lines if empty else ("", *lines))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(block.format() + "\n")
        if durable:
            fh.flush()
            os.fsync(fh.fileno())


def startup_tail(writer: Writer, inst: Instance, roles: dict[str, int]) -> None:
    """What follows the allocation lines of a successful start (generator's ``startup``)."""
    _render("startup", writer, inst, roles)


def no_licence_key(writer: Writer, inst: Instance, roles: dict[str, int]) -> None:
    """The LMF error of a start without a license key, logged by the license monitor.

    commands.md §3.1/§3.2 print ``1 alert(s) during startup`` with ``Local license
    key file not found.``; the severity-2 line is documented_messages.md §4's.
    Its place after the startup lines is ours (no log of such a start is in the sources).
    """
    lmfmon = {**roles, "license": roles.get("license_monitor", 0)}
    catalog_line(writer, inst, lmfmon, "license.no_key", role="license")


def shutdown(writer: Writer, inst: Instance, roles: dict[str, int], *, users: int) -> None:
    """Lines of a clean shutdown (``users`` = connections IRIS had to close)."""
    _render("shutdown", writer, inst, roles, users=users)
