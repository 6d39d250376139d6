"""Property-based chaos: run generated scenarios, record what invariants need, search and shrink.

:class:`RecordingRunner` is the scenario runner plus a record of the host as
each command found and left it (connections, whether the instance served
them, shared memory in use, kernel limits, what the next start needs), and of
the messages written and delivered; that record is a :class:`ChaosResult`,
which :mod:`pytest_iris.testing`'s invariants read. :class:`ChaosLab` is what
the ``iris_chaos`` fixture gives a test without an ``iris_scenario`` marker:
``run(remediator, scenario)`` builds a fresh sandbox host per call, so the
examples Hypothesis draws never share state. :func:`explore` is the search
behind ``pytest-iris chaos --explore N``: Hypothesis draws scenarios, shrinks
every failing one, and each is written as an ``iris_chaos_*.yaml`` file.
Hypothesis is imported only by the search (it is the ``hypothesis`` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pytest_iris.chaos.journal import Journal
from pytest_iris.chaos.remediator import Remediator
from pytest_iris.chaos.runner import ScenarioRunner, scratch_directory
from pytest_iris.chaos.scenario_yaml import INVARIANTS_TAG, scenario_yaml
from pytest_iris.chaos.schema import Scenario
from pytest_iris.models import IRISMessage, RemediationCommand, ToolResult
from pytest_iris.registry import Registry

if TYPE_CHECKING:
    from pytest_iris.host import Host
    from pytest_iris.sandbox.template import HostTemplates
    from pytest_iris.settings import IrisSettings

#: bytes of one page of ``kernel.shmall`` (x86-64 Linux)
PAGE = 4096


@dataclass(frozen=True)
class HostView:
    """The host as a command found or left it: what the invariants compare."""

    status: str
    users: int
    #: the instance served its users (control process, write daemon, superserver alive)
    serving: bool
    #: bytes of shared memory the running instance holds (0 when down)
    shm_in_use: int
    kernel: dict[str, int]
    #: bytes of shared memory the CPF asks for at the next start
    plan_bytes: int
    cpf: dict[str, str]


@dataclass(frozen=True)
class CallRecord:
    """One command the remediation ran, with the host before and after it."""

    t: float
    command: RemediationCommand
    result: ToolResult | None
    before: HostView
    after: HostView


@dataclass
class ChaosResult:
    """One generated (or file) scenario played against one remediator: what the invariants read."""

    scenario: Scenario
    journal: Journal
    calls: list[CallRecord] = field(default_factory=list)
    #: messages.log entries written after the host was built, up to the checks
    written: list[IRISMessage] = field(default_factory=list)
    #: the messages the remediator was handed, in order
    delivered: list[IRISMessage] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """The scenario's own expectations and steady state (not the invariants)."""
        return self.journal.passed

    @property
    def failures(self) -> list[str]:
        return self.journal.failures

    def yaml(self) -> str:
        """The scenario as an ``iris_chaos_*.yaml`` file that replays it."""
        return scenario_yaml(self.scenario)


def _kernel(host: Host) -> dict[str, int]:
    out = {}
    for key in ("kernel.shmmax", "kernel.shmall", "vm.nr_hugepages"):
        try:
            out[key] = int(host.read_sysctl(key).split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return out


def shm_in_use(host: Host) -> int:
    """Bytes of the SysV segments in ``/proc/sysvipc/shm`` (what ``ipcs -m`` shows)."""
    if host.status() != "running":
        return 0
    host.refresh_procfs()
    try:
        rows = (Path(host.proc) / "sysvipc" / "shm").read_text().splitlines()[1:]
    except OSError:
        return 0
    return max((int(row.split()[3]) for row in rows if len(row.split()) > 3), default=0)


def view(host: Host) -> HostView:
    """What the invariants need of the host now."""
    from pytest_iris.chaos.checks import users_can_connect
    from pytest_iris.tools.cpf import CpfFile, shared_memory_plan

    cpf = CpfFile.read(host.cpf_path)
    status, users, serving = _sandbox_view(host) or (
        host.status(),
        host.connections(),
        users_can_connect(host)[0],
    )
    plan = shared_memory_plan(cpf, host.total_ram_mb)
    return HostView(
        status=status,
        users=users,
        serving=serving,
        shm_in_use=shm_in_use(host) if status == "running" else 0,
        kernel=_kernel(host),
        plan_bytes=plan.total_bytes,
        cpf={key: cpf.get("config", key) or "" for key in ("globals", "gmheap", "locksiz")},
    )


def _sandbox_view(host: Host) -> tuple[str, int, bool] | None:
    """(status, users, serving) of a sandbox host from one read of its state (None: not one).

    The same answers as ``host.status()``, ``host.connections()`` and
    :func:`~pytest_iris.chaos.checks.users_can_connect`, which read the state once each.
    """
    from pytest_iris.sandbox import SandboxHost

    if not isinstance(host, SandboxHost):
        return None
    from pytest_iris.chaos.checks import _SERVING_ROLES as SERVING_ROLES
    from pytest_iris.sandbox._iris import established

    state = host.state()
    inst = state.instances[host.instance_name]
    roles = {p.role for p in state.processes.values() if p.instance == inst.name}
    serving = inst.status == "running" and all(role in roles for role in SERVING_ROLES)
    return inst.status, established(state, inst), serving


class RecordingRunner(ScenarioRunner):
    """A :class:`ScenarioRunner` that keeps what :class:`ChaosResult` holds."""

    def __init__(self, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(scenario, **kwargs)
        self.records: list[CallRecord] = []
        self._start = 0
        self._written: list[IRISMessage] | None = None

    async def open(self, root: Path) -> None:
        await super().open(root)
        self._start = len(self.messages)

    async def dispatch(self, command: RemediationCommand) -> ToolResult:
        when, before = self._now(), view(self.host)
        result = await super().dispatch(command)
        self.records.append(CallRecord(when, command, result, before, view(self.host)))
        return result

    def verify(self) -> None:
        super().verify()  # reads what is left of messages.log first (its probes do)
        self._written = self.messages[self._start :]

    def result(self) -> ChaosResult:
        delivered = list(self.context.history) if self.context is not None else []
        written = self._written if self._written is not None else self.messages[self._start :]
        return ChaosResult(self.scenario, self.journal, list(self.records), written, delivered)


def run_checked(
    remediator: Remediator | str | type | None,
    scenario: Scenario,
    *,
    registry: Registry | None = None,
    settings: IrisSettings | None = None,
    root: str | os.PathLike[str] | None = None,
    source: str = "",
    templates: HostTemplates | None = None,
) -> ChaosResult:
    """Play ``scenario`` on a fresh sandbox host (removed afterwards) and record it.

    ``remediator``: an object (a class is instantiated), a ``module:callable``
    or registered name, or None for the configured one. ``templates`` copies a
    starting host built before instead of building it again (shrinking reruns
    the same host many times: a copy costs a third of a build).
    """
    registry = registry or Registry.standalone()
    spec = remediator if isinstance(remediator, str) else None
    target: Remediator | None = None
    if inspect.isclass(remediator):
        target = cast("Remediator", remediator())
    elif remediator is not None and not isinstance(remediator, str):
        target = remediator
    with contextlib.ExitStack() as cleanup:
        work = scratch_directory(cleanup, "iris-explore-", root)
        runner = RecordingRunner(
            scenario,
            remediator=spec,
            registry=registry,
            root=work,
            source=source,
            settings=settings,
            templates=templates,
        )
        asyncio.run(runner.run_async(target))
        return runner.result()


def fast_tmp() -> str | None:
    """``/dev/shm`` when it is a writable directory (a sandbox host is hundreds of small files)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class ChaosLab:
    """``iris_chaos`` without a scenario marker: ``run(remediator, scenario)`` per example.

    Every call gets its own sandbox host under ``root`` (built, or copied from
    ``templates``: a fully independent tree) and removes it, so Hypothesis'
    examples share nothing (which is why suppressing its
    ``function_scoped_fixture`` health check is safe with this fixture).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        registry: Registry | None = None,
        settings: IrisSettings | None = None,
        remediator: str | None = None,
        templates: HostTemplates | None = None,
        **_: Any,
    ) -> None:
        self.root = Path(root)
        self.templates = templates
        self.registry = registry or Registry.standalone()
        self.settings = settings
        self.remediator = remediator
        self.results: list[ChaosResult] = []

    def run(self, remediator: Remediator | str | type | None, scenario: Scenario) -> ChaosResult:
        """Play ``scenario`` against ``remediator`` on a fresh sandbox host; the record comes back."""
        self.root.mkdir(parents=True, exist_ok=True)
        result = run_checked(
            remediator if remediator is not None else self.remediator,
            scenario,
            registry=self.registry,
            settings=self.settings,
            root=self.root,
            templates=self.templates,
        )
        self.results.append(result)
        return result


# -- the search ---------------------------------------------------------------------


@dataclass
class Found:
    """A failure the search found, shrunk: the scenario, what it broke, and its file."""

    scenario: Scenario
    problems: list[str]
    path: Path | None = None
    #: examples run (shrinking included) when it was written
    after: int = 0


@dataclass
class Exploration:
    """What :func:`explore` did: examples run, failures found (each written once)."""

    examples: int = 0
    found: list[Found] = field(default_factory=list)
    seconds: float = 0.0


def failure_names(problems: Iterable[str]) -> frozenset[str]:
    """The invariants a list of problems breaks (the text before the first ':')."""
    return frozenset(p.split(":", 1)[0] for p in problems)


def explore(
    examples: int,
    remediator: Remediator | str | None,
    *,
    strategy: Any = None,
    out: str | os.PathLike[str] | None = None,
    seed: int = 0,
    registry: Registry | None = None,
    settings: IrisSettings | None = None,
    invariants: Sequence[Callable[[ChaosResult], list[str]]] = (),
    on_example: Callable[[int], None] | None = None,
    shrink: bool = True,
    max_found: int | None = None,
) -> Exploration:
    """Run up to ``examples`` generated scenarios; find, shrink and write every distinct failure.

    Distinct means breaking a set of invariants not found before. Each found
    scenario is shrunk by Hypothesis (``hypothesis.find``) and written under
    ``out`` as ``iris_chaos_found_<seed>_<n>.yaml`` with the problems as
    comments. ``seed`` makes the search the same on every run and machine;
    ``max_found`` stops it after that many failures. ``examples`` counts every
    scenario run, the shrinking's included.
    """
    import random
    import time

    from hypothesis import HealthCheck, Phase, find
    from hypothesis import settings as hsettings
    from hypothesis.errors import NoSuchExample

    from pytest_iris import strategies
    from pytest_iris.sandbox.template import HostTemplates
    from pytest_iris.testing import check_invariants

    started = time.perf_counter()
    registry = registry or Registry.standalone()
    strategy = strategy if strategy is not None else strategies.scenarios()
    root = fast_tmp()
    done = Exploration()
    known: set[frozenset[str]] = set()
    cleanup = contextlib.ExitStack()

    def problems_of(scenario: Scenario) -> list[str]:
        result = run_checked(
            remediator,
            scenario,
            registry=registry,
            settings=settings,
            root=root,
            templates=templates,
        )
        return check_invariants(result, *invariants)

    #: the last new failure's scenario and problems: Hypothesis' final replay of the shrunk
    #: example is the last call, and ``find`` hands back that very object (no rerun needed)
    last: list[tuple[Scenario, list[str]]] = []

    def fails(scenario: Scenario) -> bool:
        done.examples += 1
        if on_example is not None:
            on_example(done.examples)
        problems = problems_of(scenario)
        new = bool(problems) and failure_names(problems) not in known
        if new:
            last[:] = [(scenario, problems)]
        return new

    try:
        # made inside the try: an interrupt (SIGTERM, SIGINT) once it exists still removes it
        templates = HostTemplates(scratch_directory(cleanup, "iris-explore-templates-", root))
        while done.examples < examples and (max_found is None or len(done.found) < max_found):
            budget = examples - done.examples
            phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
            try:
                scenario = find(
                    strategy,
                    fails,
                    settings=hsettings(
                        max_examples=budget,
                        database=None,
                        deadline=None,
                        phases=phases,
                        suppress_health_check=list(HealthCheck),
                    ),
                    random=random.Random(seed + done.examples),
                )
            except NoSuchExample:
                break
            problems = last[0][1] if last and last[0][0] is scenario else problems_of(scenario)
            known.add(failure_names(problems))
            found = Found(scenario, problems, after=done.examples)
            if out is not None:
                found.path = write_found(
                    found, Path(out), f"{seed}_{len(done.found)}", remediator=_spec(remediator)
                )
            done.found.append(found)
    finally:
        cleanup.close()
    done.seconds = time.perf_counter() - started
    return done


def _spec(remediator: object) -> str | None:
    """``module:callable`` naming the remediator that broke, when it has one."""
    if remediator is None or isinstance(remediator, str):
        return remediator
    # a function or class names itself; an instance, its class
    named = remediator if hasattr(remediator, "__qualname__") else type(remediator)
    module, qualname = getattr(named, "__module__", None), getattr(named, "__qualname__", "")
    if not module or "<" in qualname:  # defined inside a function: no name imports it
        return None
    return f"{module}:{qualname}"


def write_found(found: Found, out: Path, tag: str, *, remediator: str | None = None) -> Path:
    """Write a found scenario as ``iris_chaos_found_<tag>.yaml`` under ``out`` (atomically).

    Its comments say how to replay it against the remediator that broke
    (``--iris-remediator``): replayed against the configured one, it could pass.
    """
    from pytest_iris.atomic import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    name = f"found_{tag}".replace("-", "_")
    scenario = found.scenario.model_copy(update={"name": name})
    path = out / f"iris_chaos_{name}.yaml"
    comments = [
        "Found and shrunk by pytest-iris' property-based chaos search.",
        (
            f"Replay: pytest {path.name} --iris-remediator {remediator}   "
            f"(or: pytest-iris chaos {path.name} --remediator {remediator})"
            if remediator
            else f"Replay: pytest {path.name}   (or: pytest-iris chaos {path.name})"
        ),
        "It broke:",
        *[f"  - {p}" for p in found.problems],
    ]
    write_atomic(path, scenario_yaml(scenario, comments))
    return path


__all__ = [
    "INVARIANTS_TAG",
    "CallRecord",
    "ChaosLab",
    "ChaosResult",
    "Exploration",
    "Found",
    "HostView",
    "RecordingRunner",
    "explore",
    "run_checked",
    "scenario_yaml",
    "write_found",
]
