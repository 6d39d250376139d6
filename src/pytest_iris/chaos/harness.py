"""``ChaosHarness``: a scenario's host, faults and tools, driven step by step from a test.

What ``@pytest.mark.iris_scenario("name")`` and the ``iris_chaos`` fixture
give a test: the sandbox host in the scenario's starting state, the faults
to inject when the test says so, the tools' dispatcher, and the same checks
the scenario runner makes. Synchronous on purpose (an event loop of its own
runs the async parts), so it fits ordinary test functions.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from pytest_iris.chaos.journal import NO_REMEDIATOR, Journal
from pytest_iris.chaos.remediator import (
    Remediator,
    instantiate,
    remediator_name,
    resolve_remediator,
)
from pytest_iris.chaos.runner import ScenarioRunner
from pytest_iris.chaos.schema import Scenario
from pytest_iris.errors import ScenarioError
from pytest_iris.models import IRISMessage, RemediationCommand, ToolResult
from pytest_iris.registry import Registry

if TYPE_CHECKING:
    from pytest_iris.sandbox.template import HostTemplates
    from pytest_iris.settings import IrisSettings


class ChaosHarness:
    """One scenario opened on a sandbox host under ``root``; use as a context manager.

    ``templates`` (a :class:`~pytest_iris.sandbox.template.HostTemplates`, as the
    ``iris_chaos`` fixture passes): the host is a copy of the same starting host
    built before, rather than built again.
    """

    def __init__(
        self,
        scenario: str | Scenario,
        *,
        root: str | os.PathLike[str],
        registry: Registry | None = None,
        remediator: str | None = None,
        llm: Any = None,
        settings: IrisSettings | None = None,
        templates: HostTemplates | None = None,
    ) -> None:
        self.registry = registry or Registry.standalone()
        source = ""
        if isinstance(scenario, str):
            from pytest_iris.chaos.loader import load_scenario

            paths = self.registry.scenario_paths
            if scenario not in paths:
                raise ScenarioError(
                    f"no chaos scenario named {scenario!r} (known: {', '.join(sorted(paths))})"
                )
            source = str(paths[scenario])
            scenario = load_scenario(paths[scenario], self.registry)
        self.scenario = scenario
        self.root = Path(root)
        self.runner = ScenarioRunner(
            scenario,
            remediator=remediator,
            registry=self.registry,
            root=self.root,
            source=source,
            llm=llm,
            settings=settings,
            templates=templates,
        )
        self._loop = asyncio.new_event_loop()
        self._played = False
        self._opened = 0.0
        #: a remediator reacted (inject(remediator)): the summary names it, not the setting
        self._reacted = False

    def __enter__(self) -> ChaosHarness:
        self._opened = time.perf_counter()
        self._loop.run_until_complete(self.runner.open(self.root / "host"))
        return self

    def _did(self, what: Literal["injected", "dispatched"]) -> None:
        """What the test has done so far, until a verdict says more; wall time since open."""
        journal = self.journal
        if journal.status == "running" or (what == "injected" and journal.status == "dispatched"):
            journal.status = what
        if not self._reacted:  # the test injected or dispatched itself: nothing remediated
            journal.remediator = NO_REMEDIATOR
        journal.wall_s = time.perf_counter() - self._opened

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._loop.run_until_complete(self.runner.close())
        finally:
            self._loop.close()
            self.journal.wall_s = time.perf_counter() - self._opened

    @property
    def host(self) -> Any:
        """The :class:`~pytest_iris.sandbox.SandboxHost` of this scenario."""
        return self.runner.host

    @property
    def endpoint(self) -> Any:
        """The mock endpoint of a ``transport: http`` scenario (None otherwise)."""
        return self.runner.endpoint

    @property
    def journal(self) -> Journal:
        return self.runner.journal

    @property
    def calls(self) -> list[tuple[float, RemediationCommand, ToolResult | None]]:
        return self.runner.calls

    @property
    def messages(self) -> list[IRISMessage]:
        return self.runner.messages

    @property
    def before(self) -> dict[str, Any]:
        """What the host looked like before the faults (control PID, connections)."""
        return self.runner.before

    def inject(self, remediator: Remediator | str | None = None) -> list[IRISMessage]:
        """Inject every fault; returns the messages written. A remediator reacts if given."""
        if remediator is not None:
            self._reacted = True
            self.journal.remediator = (
                remediator if isinstance(remediator, str) else remediator_name(remediator)
            )
        if isinstance(remediator, str):
            remediator = resolve_remediator(
                remediator, self.registry, settings=self.runner.settings
            )()
        elif remediator is not None:
            remediator = instantiate(remediator, self.runner.settings)
        try:
            return self._loop.run_until_complete(self.runner.inject(remediator))
        finally:
            self._did("injected")

    def dispatch(self, command: RemediationCommand | dict[str, Any]) -> ToolResult:
        """Run one command through the tools on this host (recorded like a remediator's)."""
        if isinstance(command, dict):
            command = RemediationCommand.model_validate(command)
        try:
            return self._loop.run_until_complete(self.runner.dispatch(command))
        finally:
            self._did("dispatched")

    def run(self, remediator: Remediator | str | None = None) -> Journal:
        """Play the whole scenario (steady state, faults, remediation, checks)."""
        if self._played:
            raise ScenarioError(f"scenario {self.scenario.name!r} was already played")
        self._played = True
        name = None
        if isinstance(remediator, str):
            name = remediator
            remediator = resolve_remediator(
                remediator, self.registry, settings=self.runner.settings
            )()
        elif remediator is not None:
            remediator = instantiate(remediator, self.runner.settings)
        try:
            self._loop.run_until_complete(self.runner.play(remediator, name=name))
        finally:
            self.journal.wall_s = time.perf_counter() - self._opened
        return self.journal

    def verify(self) -> list[str]:
        """Check the scenario's expectations now; returns the failures (also journaled)."""
        start = len(self.journal.failures)
        self.runner.verify()
        self.runner.settle_verdict()
        return self.journal.failures[start:]

    @property
    def checked(self) -> bool:
        """Whether the scenario's expectations were checked (``run()`` or ``verify()``)."""
        return self.runner.verified
