"""messages.log lines the sandbox's instance writes, stamped by the host clock.

The texts of whole sequences (startup, shutdown) belong to the log
generator (:mod:`pytest_iris.generation`, ``render_sequence``); this module
asks it for them when it is installed and only stamps, orders and appends.
The shared-memory lines come from :mod:`pytest_iris.memory`.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pytest_iris.grammar import format_message
from pytest_iris.models import IRISMessage, Severity
from pytest_iris.sandbox._state import HostState, Instance


class Writer:
    """Collects messages at the host clock, advancing a few ms per line."""

    def __init__(self, state: HostState, pid: int) -> None:
        self.state = state
        self.pid = pid
        self.messages: list[IRISMessage] = []

    def now(self) -> datetime:
        return datetime(1970, 1, 1) + timedelta(milliseconds=round(self.state.clock * 1000))

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
        if not same_stamp:
            self.state.advance(step)
        self.messages.append(
            IRISMessage(
                timestamp=self.now(),
                pid=self.pid if pid is None else pid,
                severity=Severity(severity),
                category=category,
                text=text,
                continuation=continuation,
            )
        )

    def extend(self, messages: list[IRISMessage]) -> None:
        self.messages.extend(messages)

    def write(self, path: Path) -> None:
        if not self.messages:
            return
        text = "".join(format_message(m) + "\n" for m in self.messages)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())


def _sequence(
    name: str, writer: Writer, inst: Instance, roles: dict[str, int], **extra: Any
) -> bool:
    """Append the generator's ``name`` sequence when the generator offers it."""
    try:
        from pytest_iris import generation
    except ImportError:
        return False
    render = getattr(generation, "render_sequence", None)
    context_cls = getattr(generation, "SequenceContext", None)
    if render is None or context_cls is None:
        return False
    context = context_cls(
        install_dir=inst.directory,
        instance=inst.name,
        pids=dict(roles),
        start=writer.now(),
        **extra,
    )
    writer.extend(list(render(name, context)))
    return True


def startup_tail(writer: Writer, inst: Instance, roles: dict[str, int]) -> None:
    """What follows the allocation lines of a successful start."""
    if _sequence("startup", writer, inst, roles):
        return
    # Temporary bridge until the generator's "startup" sequence lands: real lines
    # from shared/iris/messages_real.log (IRIS 2023.1 on RHEL 8), in their order.
    mgr = f"{inst.directory}/mgr"
    writer.add(
        0, "Crypto.IntelSandyBridgeAESNI", "Intel Sandy Bridge AES-NI instructions detected."
    )
    writer.add(0, "WriteDaemon.UsingWIJFile", f"Using WIJ file: {mgr}/IRIS.WIJ", step=0.07)
    banner = (
        "Startup of InterSystems IRIS [IRIS for UNIX (Red Hat Enterprise Linux 8 for x86-64) "
        "2023.1 (Build 235.1) Fri Jun 2 2023 13:26:47 EDT]",
        "        in ../bin/",
        f"        with mgr: {mgr}",
        f"        with wij: {mgr}/IRIS.WIJ",
        f"        from: {mgr}/",
        "  System Initialized.",
    )
    writer.add(0, "Generic.Event", "", continuation=banner, step=0.2)
    writer.add(
        0, "WriteDaemon.Started", "Write daemon started.", pid=roles["write_daemon"], step=0.03
    )
    writer.add(
        0,
        "Database.MountedRW",
        f"Mounted database {mgr}/ (SFN 0) read-write.",
        pid=roles["journal_daemon"],
        step=0.15,
    )
    writer.add(
        0,
        "Utility.Event",
        f"Private webserver started on {inst.web_port}",
        pid=roles["web_server"],
        step=0.8,
    )
    writer.add(0, "Utility.Event", "Enabling logons", step=0.8)


def shutdown(writer: Writer, inst: Instance, roles: dict[str, int], *, users: int) -> None:
    """Lines of a clean shutdown (``users`` = connections IRIS had to close)."""
    if _sequence("shutdown", writer, inst, roles, users=users):
        return
    # Temporary bridge: no real shutdown line is known (facts.md §4.4); until the
    # generator's "shutdown" sequence lands, one line marks where it happens.
    writer.add(
        0, "Utility.Event", f"Shutting down InterSystems IRIS instance {inst.name}", step=0.5
    )
