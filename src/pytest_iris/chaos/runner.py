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
import dataclasses
import heapq
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pytest_iris.chaos import checks
from pytest_iris.chaos.delivery import DirectPath
from pytest_iris.chaos.faults import FaultInjector, clock_of, host_time
from pytest_iris.chaos.journal import Event, Journal, Probe
from pytest_iris.chaos.remediator import (
    RemediationContext,
    Remediator,
    ask,
    remediator_name,
    resolve_remediator,
)
from pytest_iris.chaos.schema import Fault, Scenario
from pytest_iris.chaos.timeline import InstanceTimeline
from pytest_iris.errors import InstanceError, ScenarioError
from pytest_iris.log.reader import LogEntry, parse_text
from pytest_iris.models import IRISMessage, RemediationCommand, ToolResult, ToolStatus
from pytest_iris.registry import Registry
from pytest_iris.tracing import trace

if TYPE_CHECKING:
    from pytest_iris.host import Host
    from pytest_iris.sandbox.template import HostTemplates
    from pytest_iris.settings import IrisSettings
    from pytest_iris.transport.endpoint.mock import MockEndpoint

#: Rounds of messages -> commands -> new messages after one fault before giving up.
MAX_ROUNDS = 12
#: Host seconds past its time after which a fault is journaled as applied late.
LATE_S = 0.01
#: Host seconds a remediator takes to react to a message (keeps the timeline readable).
REACTION_S = 0.5


def scratch_directory(
    stack: contextlib.ExitStack, prefix: str, parent: str | os.PathLike[str] | None = None
) -> Path:
    """A new private directory under ``parent`` (the temp dir), removed when ``stack`` closes.

    Its removal is registered before it exists: the CLI turns SIGTERM/SIGINT
    into an exception between any two bytecodes, and one landing after
    ``tempfile.mkdtemp`` made the directory but before a callback was
    registered left the whole directory behind. A name someone else holds
    (``FileExistsError``, a 1 in 2**48 chance) is not removed.
    """
    path = Path(parent or tempfile.gettempdir()) / f"{prefix}{os.urandom(6).hex()}"
    ours = [True]

    def remove() -> None:
        if ours[0]:
            shutil.rmtree(path, ignore_errors=True)

    stack.callback(remove)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        ours[0] = False
        raise
    return path


class ScenarioRunner:
    """Runs one :class:`Scenario`; ``run()`` returns the :class:`Journal`.

    ``root`` is where the sandbox host is built (a temporary directory,
    removed afterwards, when omitted). ``remediator`` is ``module:callable``
    or a registered name (default: the ``chaos.remediator`` setting);
    ``registry`` resolves names, sequences and tools; ``settings`` are the
    run's (:meth:`IrisSettings.defaults` when not given: the library never
    loads them itself). ``templates`` (a
    :class:`~pytest_iris.sandbox.template.HostTemplates`) gives the host as a
    copy of a starting host built before, instead of building it again.
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
        templates: HostTemplates | None = None,
    ) -> None:
        self.scenario = scenario
        self.templates = templates
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
        #: which control process ran when (faults are aimed at the instance of their time)
        self.instances = InstanceTimeline()
        #: what is due when: (host clock, order, fault or (writing instance, lines))
        self._agenda: list[tuple[float, int, Fault | tuple[int | None, list[IRISMessage]]]] = []
        self._counter = 0
        self._first_fault: float | None = None
        self._last_fix: float | None = None
        self._calls: list[tuple[float, RemediationCommand, ToolResult | None]] = []
        self._messages: list[IRISMessage] = []
        self._dispatcher: Any = None
        self._faults: FaultInjector = cast(FaultInjector, None)  # set by open()
        self._stack = contextlib.AsyncExitStack()
        #: whether the expectations were checked (play() or verify()): only then a verdict
        self.verified = False
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
                root = scratch_directory(stack, f"iris-chaos-{self.scenario.name}-")
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
            version=spec.version or _default_version(),
        )
        if self.templates is not None:  # a copy of the same starting host built before
            self.templates.provide(host)
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
        self.instances.observe(self._clock(), self._faults.control_pid())
        self.before = {
            "control": self._faults.control_pid(),
            "users": self.host.connections(),
        }
        self.kernel_at_start = {key: self.host.read_sysctl(key).strip() for key in _KERNEL_KEYS}
        from pytest_iris.tools.cpf import CpfFile

        self.cpf_at_start = {
            (e.section or "", e.key): e.value for e in CpfFile.read(self.host.cpf_path).entries()
        }

    async def play(self, remediator: Remediator | None = None, *, name: str | None = None) -> None:
        """Steady state, faults with the remediator reacting, expectations, steady state.

        ``remediator`` is the test's own object (the configured one when None),
        ``name`` what the journal calls it (its ``module:qualname`` when None).
        """
        self.verified = True
        if remediator is None:
            remediator = resolve_remediator(
                self.remediator_spec, self.registry, settings=self.settings
            )()
        else:  # the test's own object: the journal names it, not the configured one
            self.journal.remediator = name or remediator_name(remediator)
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

    def settle_verdict(self) -> None:
        """Passed or failed now (after :meth:`verify` from outside :meth:`play`)."""
        self._verdict()

    def _verdict(self) -> None:
        """Passed or failed once the expectations were checked (a harness may never check)."""
        if self.journal.status != "error" and self.verified:
            self.journal.status = "failed" if self.journal.failures else "passed"

    async def inject(self, remediator: Remediator | None) -> list[IRISMessage]:
        """Inject every fault at its time; the remediator (if any) reacts between instants.

        A discrete-event loop on the host clock: faults, and the lines of the
        sequences they start, each happen at their time; everything due at one
        instant happens before the remediator reacts, and while it reacts
        (:data:`REACTION_S`) what is due meanwhile still happens.
        """
        start = len(self._messages)
        for n, fault in enumerate(self.scenario.faults):
            self._agenda.append((self._t0 + fault.at, n, fault))
        self._counter = len(self._agenda)
        heapq.heapify(self._agenda)
        while self._agenda:
            await self._run_due(self._agenda[0][0])
            if remediator is not None:
                await self._react(remediator, self._context())
            else:  # the test's own code is the consumer: still publish through the transport
                await self.path.deliver(self._read_new())
        if remediator is not None:
            await self._settle(remediator, self._context())
        return self._messages[start:]

    def verify(self) -> None:
        """Check the expectations and the steady state after the remediation."""
        self.verified = True
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

    async def _run_due(self, until: float) -> None:
        """Advance the clock to ``until``, making everything due by then happen at its time."""
        while self._agenda and self._agenda[0][0] <= until:
            when, _, item = heapq.heappop(self._agenda)
            self._advance_to(when)
            if isinstance(item, Fault):
                if self._first_fault is None:
                    self._first_fault = self._clock()
                for batch in await self._fault_due(item, when):
                    self._counter += 1
                    writer = self.instances.at(when)
                    heapq.heappush(
                        self._agenda, (clock_of(batch[0].timestamp), self._counter, (writer, batch))
                    )
                continue
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
        self._advance_to(until)

    async def _fault_due(self, fault: Fault, when: float) -> list[list[IRISMessage]]:
        """A fault at its scheduled clock ``when``, against the instance that ran then.

        The remediation may have kept the host busy past ``when`` (a restart
        takes host seconds): a fault aimed at the instance (its lines, its
        daemons) whose instance has since stopped or been replaced is skipped
        and journaled, never applied to the new one.
        """
        late = round(self._clock() - when, 3)
        if fault.action in _INSTANCE_FAULTS:
            gone = self.instances.gone_since(when, self._control_pid(), t0=self._t0)
            if gone is None and fault.kill is not None and self._control_pid() is None:
                gone = "the instance is down"
            if (
                gone is None
                and fault.kill in self._faults.killed
                and not self.host.pids().get(fault.kill)
            ):  # killed before in this life of the instance: nothing left to kill
                gone = f"its {fault.kill} is already dead"
            if gone is not None:
                self._event(
                    "note",
                    f"skipped fault {fault.describe()} scheduled at t={fault.at:g}s: {gone}",
                    data={"action": fault.action, "at": fault.at, "skipped": True},
                )
                return []
        if late > LATE_S and self._calls:
            self._event(
                "note",
                f"fault {fault.describe()} scheduled at t={fault.at:g}s applied {late:g}s late: "
                f"the remediation's command at t={self._calls[-1][0]:.1f}s kept the host busy",
            )
        batches = await self._inject(fault, "fault")
        self.instances.observe(self._clock(), self._control_pid())
        return batches

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
                            "error",
                            f"remediator raised {type(error).__name__}: {error}",
                            ok=False,
                            data={"traceback": user_traceback(error)},
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
        await self._run_due(self._clock() + REACTION_S)
        command = await self.path.through(command)
        result = await self.dispatch(command)
        context.results.append(result)

    async def dispatch(self, command: RemediationCommand) -> ToolResult:
        """Run one command through the tools' dispatcher and journal both ends."""
        when = self._now()
        self._event("command", checks.describe_command(command), data=command.model_dump())
        started, control = self._clock(), self._control_pid()
        result: ToolResult = await self._dispatcher.dispatch(command)
        if self._control_pid() != control:  # gone from the start of the command to its end
            self.instances.observe(started, None)
        self.instances.observe(self._clock(), self._control_pid())
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
        """The scenario's delivery path (``transport:`` by name, through the registry),
        reporting to the journal through :meth:`_note`."""
        from pytest_iris.chaos.paths import make_path

        return make_path(
            self.scenario.transport,
            self.registry,
            self.host.root.parent,
            self._note,
            seed=self.seed,
        )

    def _mark_expected_refusals(self) -> None:
        """A refusal the scenario expects reads as such in the journal, not as a failure."""
        expected = {
            id(result)
            for _, command, result in self._calls
            if result is not None and _expected_failure(self.scenario, command, result)
        }
        if not expected:
            return
        results = iter([r for _, _, r in self._calls])
        for n, event in enumerate(self.journal.events):
            if event.kind != "result":
                continue
            result = next(results, None)
            if result is not None and id(result) in expected:
                self.journal.events[n] = dataclasses.replace(
                    event, data={**event.data, "expected": True}
                )

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
        probes = checks.check_expectations(
            expect,
            host=self.host,
            journal=self.journal,
            calls=self._calls,
            messages_after=after_first,
            before=before,
            kernel_now=kernel_now,
            cpf_value=lambda s, k: self._context().cpf_value(s, k) or "",
            shm=shm,
            restarts=self.instances.restarts(),
        )
        counts = self.path.endpoint_counts()
        if expect.endpoint is not None and counts is not None:
            wrong = checks.endpoint_problems(expect.endpoint, counts)
            probes.append(
                Probe(
                    "endpoint received every message once",
                    not wrong,
                    "; ".join(wrong) or f"{counts.received} received, outbox empty",
                )
            )
        if self._last_fix is not None and self._first_fault is not None:
            ttr = round(self._last_fix - self._first_fault, 3)
            self.journal.time_to_remediate_s = ttr
            late = checks.deadline_problem(ttr, expect.within_s)
            probes.append(
                Probe(f"remediated within {expect.within_s:g}s", late is None, late or f"{ttr:g}s")
            )
        # paths as seen on the host, as the result lines show them (not its temporary root)
        root = str(self.host.root)
        probes = [dataclasses.replace(p, detail=p.detail.replace(root, "")) for p in probes]
        self.journal.checks = probes
        problems = [p.detail for p in probes if not p.ok]
        self._mark_expected_refusals()
        self.journal.failures.extend(problems)
        for problem in problems:
            self._event("error", problem, ok=False)


def _default_version() -> str:
    """The sandbox's default IRIS release (a scenario's ``host.version`` overrides it)."""
    from pytest_iris.sandbox._versions import DEFAULT_RELEASE

    return DEFAULT_RELEASE


#: faults aimed at the instance itself: its log lines and its processes
_INSTANCE_FAULTS = frozenset({"sequence", "llm", "lines", "kill"})


def user_traceback(error: BaseException) -> str:
    """The traceback of an exception from the user's code, from its first frame outside pytest-iris."""
    package = str(Path(__file__).resolve().parent.parent)
    tb = error.__traceback__
    while (
        tb is not None
        and tb.tb_next is not None
        and tb.tb_frame.f_code.co_filename.startswith(package)
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb)).rstrip()


def _expected_failure(scenario: Scenario, command: RemediationCommand, result: ToolResult) -> bool:
    """Whether the scenario expects this call to fail or be refused (``status: failure``)."""
    return any(
        want.status in ("failure", "partial") and checks.command_matches(want, command, result)
        for want in scenario.expect.tool_calls
    )


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
