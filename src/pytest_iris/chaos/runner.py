"""Play one scenario against a remediator on a sandbox host and keep the journal.

The run, like a Chaos Toolkit experiment: build the sandbox host in its
starting state, check the steady state, inject the faults in host-clock
order, hand every new messages.log entry to the remediator (directly or
through the HTTP transport and the mock endpoint), execute the commands it
answers with through the tools' dispatcher, check what the remediation
achieved and the steady state again, and always run the rollbacks. Time is
the sandbox host's clock, so a run takes milliseconds and is the same on
every machine and xdist worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pytest_iris.chaos import checks
from pytest_iris.chaos.delivery import DirectPath
from pytest_iris.chaos.faults import FaultInjector, clock_of, host_time
from pytest_iris.chaos.journal import Event, Journal
from pytest_iris.chaos.remediator import RemediationContext, Remediator, ask, resolve_remediator
from pytest_iris.chaos.schema import Fault, Scenario
from pytest_iris.errors import InstanceError, ScenarioError
from pytest_iris.log.reader import LogEntry, parse_text
from pytest_iris.models import IRISMessage, RemediationCommand, ToolResult, ToolStatus
from pytest_iris.registry import Registry
from pytest_iris.tracing import trace

if TYPE_CHECKING:
    from pytest_iris.host import Host
    from pytest_iris.settings import IrisSettings
    from pytest_iris.transport.endpoint.mock import MockEndpoint

#: Rounds of messages -> commands -> new messages after one fault before giving up.
MAX_ROUNDS = 12
#: Host seconds a remediator takes to react to a message (keeps the timeline readable).
REACTION_S = 0.5


class ScenarioRunner:
    """Runs one :class:`Scenario`; ``run()`` returns the :class:`Journal`.

    ``root`` is where the sandbox host is built (a temporary directory,
    removed afterwards, when omitted). ``remediator`` is ``module:callable``
    or a registered name (default: the ``chaos.remediator`` setting);
    ``registry`` resolves names, sequences and tools; ``settings`` are the
    run's (:meth:`IrisSettings.defaults` when not given: the library never
    loads them itself).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        remediator: str | None = None,
        root: str | os.PathLike[str] | None = None,
        registry: Registry | None = None,
        source: str = "",
        seed: int | None = None,
        llm: Any = None,
        settings: IrisSettings | None = None,
    ) -> None:
        self.scenario = scenario
        if settings is None:
            from pytest_iris.settings import IrisSettings

            settings = IrisSettings.defaults()
        self.settings = settings
        #: the LLMGenerator for ``llm`` faults (from the llm settings when not given)
        self.llm = llm
        self.registry = registry or Registry.standalone()
        self.remediator_spec = remediator or self.settings.chaos.remediator
        self.root = Path(root) if root is not None else None
        self.seed = scenario.seed if seed is None else seed
        self.journal = Journal(
            scenario=scenario.name,
            title=scenario.title,
            remediator=self.remediator_spec,
            seed=self.seed,
            source=source,
        )
        self._host: Host | None = None
        #: how messages reach the remediator (set by open(); one class per ``transport:``)
        self.path: DirectPath = DirectPath(self._note)
        self._offset = 0
        self._t0 = 0.0
        self._first_fault: float | None = None
        self._last_fix: float | None = None
        self._calls: list[tuple[float, RemediationCommand, ToolResult | None]] = []
        self._messages: list[IRISMessage] = []
        self._dispatcher: Any = None
        self._faults: FaultInjector = cast(FaultInjector, None)  # set by open()
        self._stack = contextlib.AsyncExitStack()
        self.context: RemediationContext | None = None
        self.before: dict[str, Any] = {}
        self.kernel_at_start: dict[str, str] = {}
        self.cpf_at_start: dict[tuple[str, str], str] = {}

    # -- entry points ------------------------------------------------------------

    def run(self) -> Journal:
        return asyncio.run(self.run_async())

    async def run_async(self, remediator: Remediator | None = None) -> Journal:
        """The whole experiment: open, play, close; errors of the harness end in the journal."""
        started = time.perf_counter()
        with contextlib.ExitStack() as stack:
            root = self.root
            if root is None:
                tmp = tempfile.mkdtemp(prefix=f"iris-chaos-{self.scenario.name}-")
                stack.callback(shutil.rmtree, tmp, ignore_errors=True)
                root = Path(tmp)
            try:
                await self.open(root / "host")
                try:
                    await self.play(remediator)
                finally:
                    await self.close()
            except InstanceError as error:
                self.journal.status = "error"
                self.journal.failures.append(f"{type(error).__name__}: {error}")
        self.journal.wall_s = time.perf_counter() - started
        return self.journal

    # -- the experiment, step by step ------------------------------------------------

    async def open(self, root: Path) -> None:
        """Build the sandbox host in the scenario's starting state; start the transport."""
        from pytest_iris.sandbox import SandboxHost

        spec = self.scenario.host
        host = self._host = SandboxHost(
            root,
            instance=self.settings.instance,
            running=spec.instance == "running",
            cpf={s: dict(v) for s, v in spec.cpf.items()},
            kernel={str(k): v for k, v in spec.kernel.items()},
            users=spec.users,
            web_users=spec.web_users,
            sudo=spec.sudo,
            seed=self.seed,
            total_ram_mb=spec.total_ram_mb or self.settings.sandbox.total_ram_mb,
        )
        self._stack = contextlib.AsyncExitStack()
        self._stack.enter_context(host)
        self._t0 = self._clock()
        self._offset = self.host.messages_log.stat().st_size
        self._messages = [e.message for e in host.messages() if isinstance(e, LogEntry)]
        self._dispatcher = self._make_dispatcher()
        self.context = RemediationContext(
            host=self.host, instance=self.host.instance_name, dispatch=self.dispatch
        )
        self._faults = FaultInjector(
            self.host,
            self.registry,
            scenario=self.scenario.name,
            seed=self.seed,
            llm=self.llm,
            llm_settings=self.settings.llm,
        )
        self.path = self._make_path()
        await self._stack.enter_async_context(self.path)
        self.before = {
            "control": self._faults.control_pid(),
            "users": self.host.connections(),
        }
        self.kernel_at_start = {key: self.host.read_sysctl(key).strip() for key in _KERNEL_KEYS}
        from pytest_iris.tools.cpf import CpfFile

        self.cpf_at_start = {
            (e.section or "", e.key): e.value for e in CpfFile.read(self.host.cpf_path).entries()
        }

    async def play(self, remediator: Remediator | None = None) -> None:
        """Steady state, faults with the remediator reacting, expectations, steady state."""
        if remediator is None:
            remediator = resolve_remediator(
                self.remediator_spec, self.registry, settings=self.settings
            )()
        self.journal.steady_before = self._probe()
        broken = [p for p in self.journal.steady_before if not p.ok]
        if broken:
            self.journal.failures.append(
                "steady state did not hold before the faults: "
                + "; ".join(p.detail for p in broken)
            )
            return
        await self.inject(remediator)
        self.verify()
        self._verdict()

    def _verdict(self) -> None:
        if self.journal.status != "error":
            self.journal.status = "failed" if self.journal.failures else "passed"

    async def inject(self, remediator: Remediator | None) -> list[IRISMessage]:
        """Inject every fault in time order; the remediator (if any) reacts after each."""
        start = len(self._messages)
        # a discrete-event loop on the host clock: faults, and the lines of the
        # sequences they start, each written at its time, the remediator
        # reacting after each one
        agenda: list[tuple[float, int, Fault | tuple[int | None, list[IRISMessage]]]] = [
            (self._t0 + f.at, n, f) for n, f in enumerate(self.scenario.faults)
        ]
        counter = len(agenda)
        heapq.heapify(agenda)
        while agenda:
            when, _, item = heapq.heappop(agenda)
            self._advance_to(when)
            if isinstance(item, Fault):
                if self._first_fault is None:
                    self._first_fault = self._clock()
                writer = self._control_pid()
                for batch in await self._inject(item, "fault"):
                    counter += 1
                    heapq.heappush(agenda, (clock_of(batch[0].timestamp), counter, (writer, batch)))
            else:
                writer, batch = item
                if writer is not None and self._control_pid() != writer:
                    # the instance that was writing this sequence is gone (restarted or down)
                    self._event(
                        "note",
                        f"dropped {len(batch)} line(s) of a sequence: the instance "
                        f"that was writing it (control process {writer}) is gone",
                    )
                else:
                    self._write(batch)
            if remediator is not None:
                await self._react(remediator, self._context())
            else:  # the test's own code is the consumer: still publish through the transport
                await self.path.deliver(self._read_new())
        if remediator is not None:
            await self._settle(remediator, self._context())
        return self._messages[start:]

    def verify(self) -> None:
        """Check the expectations and the steady state after the remediation."""
        self._check(self.before)
        self.journal.steady_after = self._probe()
        broken = [p for p in self.journal.steady_after if not p.ok]
        if broken:
            self.journal.failures.append(
                "steady state did not hold after the remediation: "
                + "; ".join(p.detail for p in broken)
            )

    async def close(self) -> None:
        """Run the rollbacks (always), stop the transport, leave the host; set the verdict."""
        try:
            await self._rollbacks()
        finally:
            self.journal.duration_s = round(self._clock() - self._t0, 3)
            await self._stack.aclose()
        self._verdict()

    @property
    def host(self) -> Host:
        """The scenario's sandbox host (once :meth:`open` built it)."""
        if self._host is None:
            raise ScenarioError("the scenario host is not open")
        return self._host

    @property
    def endpoint(self) -> MockEndpoint | None:
        """The mock endpoint of a ``transport: http`` scenario (None otherwise)."""
        return self.path.endpoint

    def _context(self) -> RemediationContext:
        if self.context is None:
            raise ScenarioError("the scenario host is not open")
        return self.context

    @property
    def calls(self) -> list[tuple[float, RemediationCommand, ToolResult | None]]:
        """Every command dispatched so far: (host time, command, result)."""
        return list(self._calls)

    @property
    def messages(self) -> list[IRISMessage]:
        return list(self._messages)

    async def _rollbacks(self) -> None:
        for fault in self.scenario.rollbacks:
            try:
                for batch in await self._inject(fault, "rollback"):
                    self._write(batch)
            except InstanceError as error:
                self._event("error", f"rollback {fault.describe()} failed: {error}", ok=False)
        if self.scenario.steady_state.after_rollbacks:
            self.journal.steady_after_rollbacks = self._probe()
            broken = [p for p in self.journal.steady_after_rollbacks if not p.ok]
            if broken:
                self.journal.failures.append(
                    "steady state did not hold after the rollbacks: "
                    + "; ".join(p.detail for p in broken)
                )

    def _probe(self) -> list[Any]:
        self._read_new()
        return checks.probe_steady_state(
            self.scenario.steady_state, self.host, self._messages, host_time(self._clock())
        )

    # -- the clock ---------------------------------------------------------------

    def _clock(self) -> float:
        return self.host.clock()

    def _now(self) -> float:
        return round(self._clock() - self._t0, 3)

    def _advance_to(self, clock: float) -> None:
        gap = clock - self._clock()
        if gap > 0:
            self.host.advance(round(gap, 3))

    def _event(self, kind: Any, summary: str, **fields: Any) -> Event:
        return self.journal.add(Event(t=self._now(), kind=kind, summary=summary, **fields))

    def _note(self, summary: str) -> None:
        """The delivery path's callback: what it did, on the timeline."""
        self._event("note", summary)

    # -- faults --------------------------------------------------------------------

    async def _inject(self, fault: Fault, kind: str) -> list[list[IRISMessage]]:
        """Apply one fault; a sequence is returned as batches of lines to write at their times."""
        self._event(kind, fault.describe(), data={"action": fault.action, "at": fault.at})
        if fault.endpoint is not None:
            await self.path.set_endpoint(fault.endpoint == "down")
            return []
        return await self._faults.apply(fault)

    def _write(self, messages: list[IRISMessage]) -> None:
        self._faults.write(messages)

    def _control_pid(self) -> int | None:
        return self._faults.control_pid()

    # -- reacting -----------------------------------------------------------------

    def _read_new(self) -> list[IRISMessage]:
        """Entries appended to messages.log since the last read (whole lines only)."""
        with open(self.host.messages_log, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        if end == 0:
            return []
        self._offset += end
        new = [
            item.message
            for item in parse_text(data[:end].decode("utf-8", errors="replace"))
            if isinstance(item, LogEntry)
        ]
        for message in new:
            self._messages.append(message)
            self.journal.add(
                Event(
                    t=round((message.timestamp - host_time(self._t0)).total_seconds(), 3),
                    kind="message",
                    summary=(f"[{message.category}] " if message.category else "") + message.text,
                    severity=int(message.severity),
                    data={"pid": message.pid},
                )
            )
        return new

    async def _react(self, remediator: Remediator, context: RemediationContext) -> None:
        for _ in range(MAX_ROUNDS):
            new = self._read_new()
            delivered = await self.path.deliver(new)
            if not new and not delivered:
                return
            for message in delivered:
                context.history.append(message)
                with trace():
                    try:
                        commands = await ask(remediator, message, context)
                    except Exception as error:  # the code under test may raise anything
                        self._event(
                            "error", f"remediator raised {type(error).__name__}: {error}", ok=False
                        )
                        self.journal.failures.append(
                            f"remediator raised {type(error).__name__} on message "
                            f"{message.text!r}: {error}"
                        )
                        continue
                    for command in commands:
                        await self._command(command, context)
        self._event("note", f"still reacting after {MAX_ROUNDS} rounds; stopped")

    async def _settle(self, remediator: Remediator, context: RemediationContext) -> None:
        """After the last fault: deliver what is still queued (an outbox after an outage)."""
        await self._react(remediator, context)

    async def _command(self, command: RemediationCommand, context: RemediationContext) -> None:
        self.host.advance(REACTION_S)
        command = await self.path.through(command)
        result = await self.dispatch(command)
        context.results.append(result)

    async def dispatch(self, command: RemediationCommand) -> ToolResult:
        """Run one command through the tools' dispatcher and journal both ends."""
        when = self._now()
        self._event("command", checks.describe_command(command), data=command.model_dump())
        result: ToolResult = await self._dispatcher.dispatch(command)
        self._calls.append((when, command, result))
        changed = any(c.applied for c in result.changes)
        if result.status is ToolStatus.SUCCESS and (changed or command.tool == "restart"):
            self._last_fix = self._clock()
        self._event(
            "result",
            # paths as seen on the host (its root is a temporary directory)
            f"{result.tool}.{result.action}: {result.status.value}: "
            + result.message.replace(str(self.host.root), ""),
            ok=result.ok,
            data={
                "changes": [c.model_dump() for c in result.changes],
                "confirmations": list(result.confirmations),
            },
        )
        return result

    def _make_dispatcher(self) -> Any:
        from pytest_iris.tools.dispatch import Dispatcher

        return Dispatcher.for_sandbox(
            self.host,
            total_ram_mb=self.host.total_ram_mb,
            tools=self.registry.tools,  # built-ins and those plugins add by the hook
        )

    # -- delivery ------------------------------------------------------------------

    def _make_path(self) -> DirectPath:
        """The scenario's delivery path, reporting to the journal through :meth:`_note`."""
        kind = self.scenario.transport
        work = self.host.root.parent
        if kind == "http":
            from pytest_iris.chaos._http import HttpPath

            return HttpPath(work / "outbox", self._note, seed=self.seed)
        if kind == "file":
            from pytest_iris.chaos._file import FilePath

            return FilePath(work / "transport", self._note)
        return DirectPath(self._note)

    # -- the verdict -------------------------------------------------------------------

    def _check(self, before: dict[str, Any]) -> None:
        expect = self.scenario.expect
        after_first = [
            m
            for m in self._messages
            if self._first_fault is None or m.timestamp >= host_time(self._first_fault)
        ]
        kernel_now = {key: self.host.read_sysctl(key) for key in _KERNEL_KEYS}
        shm = None
        if expect.shm_fits is not None:
            plan = self._context().shared_memory_plan()
            shm = (plan.total_bytes, int(kernel_now["kernel.shmmax"].split()[0]))
        problems = checks.check_expectations(
            expect,
            host=self.host,
            journal=self.journal,
            calls=self._calls,
            messages_after=after_first,
            before=before,
            kernel_now=kernel_now,
            cpf_value=lambda s, k: self._context().cpf_value(s, k) or "",
            shm=shm,
        )
        counts = self.path.endpoint_counts()
        if expect.endpoint is not None and counts is not None:
            problems += checks.endpoint_problems(expect.endpoint, counts)
        if self._last_fix is not None and self._first_fault is not None:
            ttr = round(self._last_fix - self._first_fault, 3)
            self.journal.time_to_remediate_s = ttr
            late = checks.deadline_problem(ttr, expect.within_s)
            if late:
                problems.append(late)
        self.journal.failures.extend(problems)
        for problem in problems:
            self._event("error", problem, ok=False)


_KERNEL_KEYS = ("kernel.shmmax", "kernel.shmall", "vm.nr_hugepages", "kernel.msgmni")


def run_scenario(
    scenario: Scenario | str | os.PathLike[str],
    *,
    remediator: str | None = None,
    registry: Registry | None = None,
    root: str | os.PathLike[str] | None = None,
    settings: IrisSettings | None = None,
) -> Journal:
    """Run a scenario (a model, a file, or a registered name) and return its journal."""
    registry = registry or Registry.standalone()
    source = ""
    if not isinstance(scenario, Scenario):
        from pytest_iris.chaos.loader import load_scenario

        path = registry.scenario_paths.get(str(scenario)) or Path(scenario)
        source = str(path)
        scenario = load_scenario(path)
    return ScenarioRunner(
        scenario,
        remediator=remediator,
        registry=registry,
        root=root,
        source=source,
        settings=settings,
    ).run()


__all__ = ["ScenarioRunner", "host_time", "run_scenario"]
