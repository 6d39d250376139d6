"""The built-in rule-based remediator: the reference every other remediator is compared to.

It classifies each messages.log entry into an incident, then answers with
the commands an IRIS administrator would run, in order. The rules, and why:

* **shared memory** (``Failed to allocate NMB shared memory: ...`` severity
  2, or a reduced ``Allocated`` at severity 1): the kernel limits are below
  what the CPF asks for. Raise ``kernel.shmmax``/``shmall`` for the CPF's
  total, then start (or restart) the instance. The CPF is left alone: the
  configuration is what the administrator wanted.
* **huge pages** (``Failed to allocate ... using Huge Pages`` or
  ``Insufficient Huge Pages configured``): raise ``vm.nr_hugepages`` above
  the total, then restart so the instance takes them.
* **lock table** (System Monitor warnings/alerts about the lock table, or
  ``LOCK TABLE FULL``): double ``locksiz`` (live, no restart); when
  ``locksiz`` is 0 the table is bounded by ``gmheap``, which is raised by half
  (needs a restart; the kernel limits are raised first when the bigger heap
  would not fit in ``kernel.shmmax``).
* **write daemon** (``Daemon WRTDMN ... died. Freezing system``,
  ``System Process 'WRTDMN' terminated abnormally``, ``CP: Pausing users``):
  the instance is frozen and its users are already hung, so this is the one
  case where the restart is forced.
* **journal space** (journal space warning/alert): nothing the tools can
  fix (they free no disk space) and a restart would make it worse. No command.
* **license limit** (``License limit exceeded``): nothing the tools can fix;
  a restart would only drop the users who hold licenses. No command.
* **global buffers too small** (database cache pressure under load): raise
  ``globals`` by half, but never past what ``kernel.shmmax`` holds (raising
  the kernel first when the host's memory allows), then restart.

A restart is never forced while users are connected, except when frozen:
the restart tool then refuses, which is the right answer. Each incident is
handled once per life of the instance (the ``memory`` of the context; a life
ends at each completed start, ``Enabling logons``), so a burst of lines about
one failure leads to one fix, and the same failure after a restart to another.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from pytest_iris.chaos.remediator import RemediationContext
from pytest_iris.models import IRISMessage, RemediationCommand

MIB = 1 << 20
_FAILED_SHM = re.compile(r"^Failed to allocate (\d+)MB shared memory(?!.*Huge Pages)")
_FAILED_HUGE = re.compile(r"^Failed to allocate (\d+)MB shared memory using Huge Pages")
_INSUFFICIENT_HUGE = re.compile(r"^Insufficient Huge Pages configured")
_LOCK_TABLE = re.compile(r"(?i)lock ?table")
_WRITE_DAEMON = re.compile(
    r"Daemon WRTDMN \(pid \d+\) died|System Process 'WRTDMN' terminated abnormally|"
    r"Pausing users because the Write Daemon"
)
_JOURNAL_SPACE = re.compile(r"(?i)journal.*(space|disk)|(space|disk).*journal")
_LICENSE = re.compile(r"(?i)license limit exceeded|LMF Error")
_CACHE_PRESSURE = re.compile(
    r"(?i)global buffers? (too small|pressure)|database cache|cache efficiency"
)


def classify(message: IRISMessage) -> str | None:
    """The incident a message belongs to, or None for the ordinary traffic."""
    text = message.text
    if (message.severity >= 1 and _FAILED_HUGE.search(text)) or _INSUFFICIENT_HUGE.search(text):
        return "huge_pages"
    if message.severity >= 2 and _FAILED_SHM.search(text):
        return "shared_memory"
    if message.severity == 1 and text.startswith("Allocated ") and "shared memory" in text:
        return "shared_memory_reduced"
    if _WRITE_DAEMON.search(text):
        return "write_daemon"
    if message.severity == 0:
        return None
    if _LOCK_TABLE.search(text):
        return "lock_table"
    if _JOURNAL_SPACE.search(text):
        return "journal_space"
    if _LICENSE.search(text):
        return "license"
    if _CACHE_PRESSURE.search(text):
        return "global_buffers"
    return None


#: the last line of a completed start (messages_real.log lines 44 and 66)
_STARTED = "Enabling logons"


def _starts(context: RemediationContext) -> int:
    """Completed starts of the instance among the messages delivered so far.

    An incident is answered once per life of the instance: the lines of one
    failure come from one life, and the same failure after a restart is a
    new incident (found by the property-based search: a second write-daemon
    death, or a second failed start, went unanswered when incidents were
    handled once per run).
    """
    memory = context.memory
    seen, count = memory.get("starts_seen", 0), memory.get("starts", 0)
    count += sum(1 for m in context.history[seen:] if m.text == _STARTED)
    memory["starts_seen"], memory["starts"] = len(context.history), count
    return int(count)


def _plan_with(context: RemediationContext, key: str, value: str) -> Any:
    """The shared memory plan of the CPF as it is, with ``[config] key`` set to ``value``."""
    from pytest_iris.tools.cpf import CpfFile, shared_memory_plan

    cpf = CpfFile.read(context.cpf_path)
    cpf.set("config", key, value)
    return shared_memory_plan(cpf, context.host.total_ram_mb)


class RuleBasedRemediator:
    """``remediator(message, context) -> list[RemediationCommand]``, one fix per incident."""

    def __init__(self, *, apply: bool = True) -> None:
        #: commands apply for real (on the sandbox host); False makes every command a dry run
        self.apply = apply
        self._handlers: dict[
            str, Callable[[IRISMessage, RemediationContext], list[RemediationCommand]]
        ] = {
            "shared_memory": self._shared_memory,
            "shared_memory_reduced": self._shared_memory,
            "huge_pages": self._huge_pages,
            "lock_table": self._lock_table,
            "write_daemon": self._write_daemon,
            "journal_space": self._journal_space,
            "license": self._license,
            "global_buffers": self._global_buffers,
        }

    def __call__(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        incident = classify(message)
        if incident is None:
            return []
        handled: set[tuple[str, int]] = context.memory.setdefault("handled", set())
        key = "shared_memory" if incident == "shared_memory_reduced" else incident
        if (key, _starts(context)) in handled:
            return []
        handled.add((key, _starts(context)))
        context.memory.setdefault("incidents", []).append((key, message.text))
        return self._handlers[incident](message, context)

    # -- commands ----------------------------------------------------------------

    def _cmd(
        self, tool: Literal["cpf", "kernel", "restart"], action: str, **parameters: Any
    ) -> RemediationCommand:
        return RemediationCommand(
            tool=tool,
            action=action,
            parameters=parameters,
            dry_run=not self.apply,
        )

    def _restart(self, context: RemediationContext, *, force: bool = False) -> RemediationCommand:
        if context.host.status() != "running":
            return self._cmd("restart", "start")
        return self._cmd("restart", "restart", force=force)

    # -- incidents -----------------------------------------------------------------

    def _shared_memory(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        total_mb = context.shared_memory_plan().total_mb
        return [
            self._cmd("kernel", "apply", shared_memory_mb=total_mb, huge_pages=False),
            self._restart(context),
        ]

    def _huge_pages(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        match = _FAILED_HUGE.search(message.text)
        total_mb = int(match.group(1)) if match else context.shared_memory_plan().total_mb
        return [
            self._cmd("kernel", "apply", shared_memory_mb=total_mb, huge_pages=True),
            self._restart(context),
        ]

    def _lock_table(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        locksiz = int(context.cpf_value("config", "locksiz") or 0)
        if locksiz > 0:
            wanted = -(-(locksiz * 2) // 65536) * 65536  # rounded up to 64 KB, as IRIS does
            return [self._cmd("cpf", "set", changes={"config.locksiz": str(wanted)})]
        gmheap_kb = (
            int(context.cpf_value("config", "gmheap") or 0)
            or context.shared_memory_plan().heap_mb * 1024
        )
        wanted_kb = -(-(gmheap_kb * 3 // 2) // 64) * 64
        commands = []
        # a bigger heap is more shared memory at the next start: the kernel must hold it
        # first, or IRIS comes back with 1/8-reduced buffers and needs a second restart
        # (found by the property-based search: lock table alert with shmmax just fitting)
        total_mb = _plan_with(context, "gmheap", str(wanted_kb)).total_mb
        shmmax = int(context.host.read_sysctl("kernel.shmmax").split()[0])
        if total_mb * MIB > shmmax:
            commands.append(
                self._cmd("kernel", "apply", shared_memory_mb=total_mb, huge_pages=False)
            )
        return [
            *commands,
            self._cmd("cpf", "set", changes={"config.gmheap": str(wanted_kb)}),
            self._restart(context),
        ]

    def _write_daemon(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        return [self._restart(context, force=True)]

    def _journal_space(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        # no tool frees disk space and a restart needs journal space itself
        return []

    def _license(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        return []

    def _global_buffers(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        plan = context.shared_memory_plan()
        shmmax = int(context.host.read_sysctl("kernel.shmmax").split()[0])
        wanted = plan.global_buffers_mb * 3 // 2
        # never ask for more than half of the RAM for shared memory
        ceiling_mb = context.host.total_ram_mb // 2
        extra = wanted - plan.global_buffers_mb
        if plan.total_mb + extra > ceiling_mb:
            wanted = max(
                plan.global_buffers_mb, plan.global_buffers_mb + ceiling_mb - plan.total_mb
            )
        if wanted <= plan.global_buffers_mb:
            return []
        commands = []
        # what the next start needs with the new globals, heap and descriptors included
        # (an estimate of "+64MB of heap" fell short with large globals: found by the
        # property-based search, globals 2569MB -> 3853MB needed 4870MB, the kernel got 4737MB)
        new_total = _plan_with(context, "globals", f"0,0,{wanted},0,0,0").total_mb
        if new_total * MIB > shmmax:
            commands.append(
                self._cmd("kernel", "apply", shared_memory_mb=new_total, huge_pages=False)
            )
        commands.append(self._cmd("cpf", "set", changes={"config.globals": f"0,0,{wanted},0,0,0"}))
        commands.append(self._restart(context))
        return commands
