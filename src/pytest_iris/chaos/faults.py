"""Faults applied to a sandbox host: log lines, kernel and CPF changes, kills, clients, iris.

The runner decides *when* (host clock, agenda) and journals; this module
does *what*: it changes the host the way the incident would, and turns log
sequences, LLM output and raw lines into messages.log entries stamped by
the host clock.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pytest_iris.chaos.schema import Fault
from pytest_iris.errors import ScenarioError
from pytest_iris.host import Host
from pytest_iris.log.grammar import HEADER, format_message
from pytest_iris.log.model import IRISMessage, Severity
from pytest_iris.registry import Registry

if TYPE_CHECKING:
    from pytest_iris.llm.settings import LLMSettings

_EPOCH = datetime(1970, 1, 1)
_UNSTAMPED = re.compile(r"^([0-3]) (?:\[([^\]]+)\] )?(.*)$")


def host_time(clock: float) -> datetime:
    """The sandbox host's clock (epoch seconds, UTC) as messages.log stamps it."""
    return _EPOCH + timedelta(milliseconds=round(clock * 1000))


def clock_of(stamp: datetime) -> float:
    """The host clock value of a messages.log stamp."""
    return (stamp - _EPOCH).total_seconds()


def by_stamp(messages: list[IRISMessage]) -> list[list[IRISMessage]]:
    """Group consecutive lines that share a timestamp (written together, as IRIS does)."""
    batches: list[list[IRISMessage]] = []
    for message in messages:
        if batches and batches[-1][-1].timestamp == message.timestamp:
            batches[-1].append(message)
        else:
            batches.append([message])
    return batches


class FaultInjector:
    """Applies the faults of one scenario to one sandbox host."""

    def __init__(
        self,
        host: Host,
        registry: Registry,
        *,
        scenario: str,
        seed: int = 0,
        llm: Any = None,
        llm_settings: LLMSettings | None = None,
    ) -> None:
        self.host = host
        self.registry = registry
        self.scenario = scenario
        self.seed = seed
        #: the LLMGenerator for ``llm`` faults (built from ``llm_settings`` when not given)
        self.llm = llm
        self.llm_settings = llm_settings
        #: daemons this scenario killed, by role, while their instance still runs
        #: (a sequence about their death names their pid, not a new one)
        self.killed: dict[str, int] = {}
        self._killed_in: int | None = None

    def clock(self) -> float:
        return self.host.clock()

    async def apply(self, fault: Fault) -> list[list[IRISMessage]]:
        """Apply ``fault`` (not ``endpoint``: the transport's); lines to write come back in batches."""
        action = fault.action
        host = self.host
        if fault.sequence is not None:
            return by_stamp(self.render(fault.sequence, fault.params))
        if fault.llm is not None:
            return by_stamp(await self.generate(fault.llm.incident, fault.llm.count))
        if fault.lines is not None:
            self.append("".join(self.stamp(line) + "\n" for line in fault.lines))
        elif fault.kernel is not None:
            for key, value in fault.kernel.items():
                host.set_sysctl(key, value)
        elif fault.cpf is not None:
            self.set_cpf(fault.cpf)
        elif fault.kill is not None:
            self.kill(fault.kill)
        elif fault.connect is not None:
            host.connect(fault.connect)
        elif fault.disconnect is not None:
            host.disconnect(fault.disconnect)
        elif fault.iris is not None:
            name = host.instance_name
            if fault.iris in ("stop", "restart") and host.status() == "running":
                host.iris("stop", name, "quietly")
            if fault.iris in ("start", "restart"):
                host.iris("start", name, "quietly")
        else:
            raise ScenarioError(f"scenario {self.scenario}: fault {action!r} needs a transport")
        return []

    def kill(self, role: str) -> None:
        pids = self.host.pids().get(role)
        if not pids:
            raise ScenarioError(
                f"scenario {self.scenario}: no process with role {role!r} to kill "
                f"(roles: {', '.join(sorted(self.host.pids()))})"
            )
        for pid in pids:
            self.host.signal(pid, signal.SIGKILL)
        if self._killed_in != self.control_pid():
            self.killed.clear()
        self._killed_in = self.control_pid()
        self.killed[role] = pids[0]

    def render(self, name: str, params: dict[str, Any]) -> list[IRISMessage]:
        sequences = self.registry.sequences
        if name not in sequences:
            raise ScenarioError(
                f"scenario {self.scenario}: unknown log sequence {name!r} "
                f"(registered: {', '.join(sorted(sequences)) or 'none'})"
            )
        return list(sequences[name](self.sequence_context(), **params))

    async def generate(self, incident: str, count: int) -> list[IRISMessage]:
        """An LLM's lines for ``incident``, moved to start now on the host clock."""
        if self.llm is None:
            from pytest_iris.llm.generator import LLMGenerator
            from pytest_iris.llm.settings import LLMSettings

            self.llm = LLMGenerator.from_settings(self.llm_settings or LLMSettings())
        # on the generator's own event loop, where its HTTP client lives
        generation = await asyncio.to_thread(self.llm.generate_sync, incident, count)
        messages: list[IRISMessage] = list(generation.messages)
        if not messages:
            return []
        shift = host_time(self.clock() + 0.001) - messages[0].timestamp
        return [m.model_copy(update={"timestamp": m.timestamp + shift}) for m in messages]

    def sequence_context(self) -> Any:
        from pytest_iris import generation
        from pytest_iris.tools.cpf import CpfFile, shared_memory_plan

        ram_mb = self.host.total_ram_mb
        roles = {role: pids[0] for role, pids in self.host.pids().items() if pids}
        if self._killed_in == self.control_pid():  # the instance the kills were aimed at
            roles = {**self.killed, **roles}
        return generation.SequenceContext(
            install_dir=str(self.host.install_dir),
            instance=self.host.instance_name,
            pids=roles,
            start=host_time(self.clock() + 0.001),
            plan=shared_memory_plan(CpfFile.read(self.host.cpf_path), ram_mb),
            seed=self.seed,
            users=self.host.connections(),
            total_ram_mb=ram_mb,
        )

    def write(self, messages: list[IRISMessage]) -> None:
        """Append lines stamped at one instant; late ones (the clock moved on) are restamped."""
        if not messages:
            return
        now = host_time(self.clock())
        if messages[0].timestamp < now:
            messages = [m.model_copy(update={"timestamp": now}) for m in messages]
        # the host already logged this very line (a killed daemon's death): IRIS says it once
        seen = self._recent(now - timedelta(seconds=1))
        messages = [m for m in messages if (m.pid, m.text) not in seen]
        if messages:
            self.append("".join(format_message(m) + "\n" for m in messages))

    def _recent(self, since: datetime) -> set[tuple[int, str]]:
        """``(pid, text)`` of the entries at the end of messages.log stamped ``since`` or later."""
        from pytest_iris.log.reader import LogEntry, parse_text

        with open(self.host.messages_log, "rb") as fh:
            start = max(0, fh.seek(0, os.SEEK_END) - 4096)
            fh.seek(start)
            tail = fh.read().decode("utf-8", errors="replace")
        if start:
            tail = tail[tail.find("\n") + 1 :]  # a partial first line
        return {
            (item.message.pid, item.message.text)
            for item in parse_text(tail)
            if isinstance(item, LogEntry) and item.message.timestamp >= since
        }

    def control_pid(self) -> int | None:
        if self.host.status() != "running":
            return None
        pids: list[int] = self.host.pids().get("control") or []
        return pids[0] if pids else None

    def stamp(self, line: str) -> str:
        """A raw messages.log line as given, or ``SEVERITY [Category] text`` stamped now."""
        line = line.rstrip("\n")
        if HEADER.match(line):
            return line
        match = _UNSTAMPED.match(line)
        if match is None:
            raise ScenarioError(
                f"scenario {self.scenario}: line {line!r} is neither a messages.log line "
                "nor 'SEVERITY [Category] text'"
            )
        message = IRISMessage(
            timestamp=host_time(self.clock()),
            pid=self.control_pid() or 0,
            severity=Severity(int(match.group(1))),
            category=match.group(2),
            text=match.group(3),
        )
        return format_message(message)

    def append(self, text: str) -> None:
        """Append whole lines to messages.log, durably (as IRIS's own writes reach the disk)."""
        with open(self.host.messages_log, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    def set_cpf(self, values: dict[str, dict[str, Any]]) -> None:
        """Someone edits the CPF: written atomically, untouched lines kept."""
        from pytest_iris.tools.cpf import CpfFile

        cpf = CpfFile.read(self.host.cpf_path)
        for section, items in values.items():
            for key, value in items.items():
                cpf.set(section, key, str(value))
        cpf.write()
