"""pytest face of the chaos part: scenario files as tests, markers, reports, hooks.

* ``iris_chaos_*.yaml`` files are collected as test items named by their
  scenario's name (``-k``, ``-n`` and JUnit work as for any test); the ini
  key ``iris_scenarios`` adds more files or directories (``builtin`` = the
  built-in library) when pytest runs without explicit paths.
* ``--iris-remediator module:callable`` (ini ``iris_remediator``) names the
  remediator under test; the built-in rule-based one is the default.
* ``@pytest.mark.iris_scenario("name")`` + the ``iris_chaos`` fixture set up
  a test's sandbox from a scenario; ``@pytest.mark.iris_expect_remediation(...)``
  checks at the end of the test what the tools did.
* A terminal summary per scenario, JUnit properties, and ``--iris-report
  PATH`` (a self-contained HTML timeline).

Only pytest and the standard library are imported here; the chaos package
loads when a scenario runs.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_iris.chaos.explore import ChaosLab
    from pytest_iris.chaos.harness import ChaosHarness


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iris")
    group.addoption(
        "--iris-remediator",
        dest="iris_remediator",
        default=None,
        metavar="MODULE:CALLABLE",
        help="remediator under test for chaos scenarios (default: ini iris_remediator, "
        "else the built-in rule-based 'rules').",
    )
    group.addoption(
        "--iris-report",
        dest="iris_report",
        default=None,
        metavar="PATH",
        help="write a self-contained HTML report of the chaos scenarios to PATH.",
    )
    parser.addini(
        "iris_remediator", "remediator under test (module:callable or a registered name)."
    )
    parser.addini(
        "iris_scenarios",
        "extra chaos scenario files or directories to collect ('builtin' = the built-in library).",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    if not _FIRST_CONFIG:
        _FIRST_CONFIG.append(config)
    config.addinivalue_line(
        "markers",
        "iris_scenario(name, expect='passed'): set up the test's sandbox host, faults and "
        "endpoint from the named chaos scenario (use the iris_chaos fixture). name: a registered "
        "scenario. expect: 'passed' (default: a run()/verify() whose expectations fail fails the "
        "test) or 'failed' (the test expects the scenario's expectations to fail).",
    )
    config.addinivalue_line(
        "markers",
        "iris_expect_remediation(tool, parameter=None, *, value=None, min=None, max=None, "
        "action=None, status='success', restarted=None, **parameters): after the test, check "
        "what the tools did on the iris_chaos host. tool: a registered tool (cpf, kernel, "
        "restart, ...). parameter: the kernel key or CPF parameter (section.key) that must have "
        "changed. value: its exact new value; min/max: bounds on it (not with value). action: "
        "the call's action. status: success, failure or partial. restarted: tool='restart' "
        "only, whether the control process was replaced. **parameters: a subset of the call's "
        "parameters (force=True).",
    )
    report = config.getoption("iris_report", None)
    if report and Path(report).is_dir():
        raise pytest.UsageError(
            f"--iris-report {report}: is a directory; give the HTML file to write "
            f"(e.g. --iris-report {Path(report) / 'chaos.html'})"
        )
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(ChaosReporter(config), "iris-chaos-reporter")
    extra = config.getini("iris_scenarios")
    if extra and config.args_source != pytest.Config.ArgsSource.ARGS:
        for entry in extra:
            config.args.append(str(_scenario_path(config, entry)))


def _scenario_path(config: pytest.Config, entry: str) -> Path:
    if entry == "builtin":
        from pytest_iris.builtin_plugin import SCENARIO_DIR

        return SCENARIO_DIR
    path = Path(entry)
    return path if path.is_absolute() else config.rootpath / path


def remediator_spec(config: pytest.Config) -> str:
    """The remediator under test: ``--iris-remediator`` > ini > ``chaos.remediator`` setting."""
    from pytest_iris.plugins.core import settings_for

    return settings_for(config).chaos.remediator


# -- collection -----------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.startswith("iris_chaos_") and file_path.suffix in (".yaml", ".yml"):
        nodeid = _outside_nodeid(parent.config, file_path)
        return ScenarioFile.from_parent(parent, path=file_path, nodeid=nodeid)
    return None


def _outside_nodeid(config: pytest.Config, path: Path) -> str | None:
    """A scenario file outside the rootdir (the built-in library, ``iris_scenarios``) is
    identified by its absolute path; inside it, pytest's own rootdir-relative id (None).

    pytest names a file outside the rootdir relative to the argument it was found
    under (``iris_chaos_x.yaml`` for the built-in directory), yet prints every id
    as if relative to the rootdir, so a failure read ``../iris_chaos_x.yaml::x`` from
    a subdirectory: no such file to paste back (user trial). An absolute path is
    printed relative to the current directory, is the same on every xdist worker,
    and is what ``--lf`` looks the file up by.
    """
    try:
        path.relative_to(config.rootpath)
    except ValueError:
        return str(path)
    return None


class ScenarioFile(pytest.File):
    """One ``iris_chaos_*.yaml``: a single item named by the scenario."""

    def collect(self) -> Iterator[pytest.Item]:
        _freeze_at_exit(self.config)
        from pytest_iris.chaos.loader import load_scenario
        from pytest_iris.errors import ScenarioError
        from pytest_iris.registry import Registry

        try:  # what it names (sequences, parameters, tools) is checked here, with its line
            scenario = load_scenario(self.path, Registry.from_pytest(self.config))
        except ScenarioError as error:
            raise self.CollectError(str(error)) from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioFailed(Exception):
    """The remediation did not achieve what the scenario expects."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.journal: Any = None
        # tags select with -k like the name does, without being markers
        self.extra_keyword_matches.update(scenario.tags)

    def runtest(self) -> None:
        from pytest_iris.chaos.journal import junit_properties
        from pytest_iris.chaos.runner import ScenarioRunner
        from pytest_iris.plugins.core import settings_for
        from pytest_iris.registry import Registry

        root = _item_root(self.config, self.scenario.name)
        if "invariants" in self.scenario.tags:  # a property-based search's find: keep them too
            from pytest_iris.chaos.explore import RecordingRunner as ScenarioRunner
        runner = ScenarioRunner(
            self.scenario,
            remediator=remediator_spec(self.config),
            registry=Registry.from_pytest(self.config),
            root=root,
            source=str(self.path),
            settings=settings_for(self.config),
            templates=host_templates(self.config),
        )
        self.journal = runner.run()
        if "invariants" in self.scenario.tags:
            from pytest_iris.testing import check_invariants

            broken = check_invariants(runner.result())  # type: ignore[attr-defined]
            if broken and self.journal.status == "passed":
                self.journal.status = "failed"
            self.journal.failures.extend(p for p in broken if p not in self.journal.failures)
        self.user_properties.extend(junit_properties(self.journal))
        if not self.journal.passed:
            raise ScenarioFailed("\n".join(self.journal.failures))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed) and self.journal is not None:
            from pytest_iris.chaos.journal import summary_lines

            head = f"scenario {self.scenario.name!r} ({self.path.name}) failed with remediator "
            return "\n".join(
                [head + repr(self.journal.remediator) + ":"]
                + [f"  - {f}" for f in self.journal.failures]
                + ["", *summary_lines(self.journal, tracebacks=True)]
            )
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"iris chaos scenario: {self.scenario.name}"


def host_templates(config: pytest.Config) -> Any:
    """This process's starting hosts, built once and copied per test: a
    :class:`~pytest_iris.sandbox.template.HostTemplates`.

    Its templates live in the run's basetemp; under xdist in the directory the
    workers' basetemps (``popen-gwN``) share, so a template one worker built
    (under its file lock) is read, not built again, by the others.
    """
    templates = config.stash.get(_TEMPLATES, None)
    if templates is None:
        from pytest_iris.sandbox.template import HostTemplates

        factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
        base = factory.getbasetemp()
        if hasattr(config, "workerinput") and base.name.startswith("popen-"):
            base = base.parent  # xdist gave each worker <the run's basetemp>/popen-gwN
        templates = config.stash[_TEMPLATES] = HostTemplates(base / "iris-host-templates")
    return templates


def _item_root(config: pytest.Config, name: str) -> Path:
    """A new directory for one scenario item's host under the basetemp (``chaos/<name>-<n>``).

    Not ``mktemp(numbered=True)``: that scans the whole basetemp at each call,
    which grows with the suite (a thousand scenarios, a thousand scans).
    """
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    count = config.stash.get(_ITEM_COUNT, 0)
    while True:
        count += 1
        root = factory.getbasetemp() / "chaos" / f"{name}-{count}"
        try:
            root.mkdir(parents=True)
        except FileExistsError:
            continue
        config.stash[_ITEM_COUNT] = count
        return root


_TEMPLATES = pytest.StashKey[Any]()
_ITEM_COUNT = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    journal = _journal_of(item) if call.when == "call" else None
    if journal is not None and not isinstance(item, ScenarioItem):
        # a marker test that played or injected a scenario reports like a scenario item
        from pytest_iris.chaos.journal import junit_properties

        item.user_properties.extend(junit_properties(journal))
    report = yield
    if journal is not None:
        marker = item.get_closest_marker("iris_scenario")
        if marker is not None and marker.kwargs.get("expect") == "failed":
            journal.expected_status = "failed"
        report.iris_journal = journal.to_dict()
    return report


def _journal_of(item: pytest.Item) -> Any:
    """The scenario journal of an item: its own, or that of its iris_chaos harness."""
    journal = getattr(item, "journal", None)
    if journal is None:
        harness = getattr(item, "funcargs", {}).get("iris_chaos")
        runner = getattr(harness, "runner", None)
        journal = getattr(runner, "journal", None)
        if journal is not None and not journal.events:
            journal = None
    return journal


# -- the marker fixture ------------------------------------------------------------


@pytest.fixture
def iris_chaos_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keywords of ``iris_chaos``'s :class:`~pytest_iris.chaos.harness.ChaosHarness`: the
    remediator (``--iris-remediator`` > ini > ``chaos.remediator``), the registry and the
    settings; override this fixture in a conftest to change them for a directory."""
    from pytest_iris.plugins.core import settings_for
    from pytest_iris.registry import Registry

    return {
        "remediator": remediator_spec(request.config),
        "registry": Registry.from_pytest(request.config),
        "settings": settings_for(request.config),
    }


@pytest.fixture
def iris_chaos(
    request: pytest.FixtureRequest, tmp_path: Path, iris_chaos_kwargs: dict[str, Any]
) -> Iterator[ChaosHarness | ChaosLab]:
    """A chaos harness for the scenario named by ``@pytest.mark.iris_scenario("name")``.

    ``iris_chaos.host`` is the sandbox host in the scenario's starting state;
    ``iris_chaos.inject()`` injects the faults and returns the new messages;
    ``iris_chaos.dispatch(command)`` runs a command through the tools;
    ``iris_chaos.run(remediator)`` plays the whole scenario and returns the journal.
    Without the marker (property-based tests under ``@given``) it is a
    :class:`~pytest_iris.chaos.explore.ChaosLab`: ``iris_chaos.run(remediator,
    scenario)`` plays a generated scenario on a fresh sandbox host per call.
    """
    from pytest_iris.chaos.harness import ChaosHarness

    marker = request.node.get_closest_marker("iris_scenario")
    if marker is None:
        from pytest_iris.chaos.explore import ChaosLab

        options = {"templates": host_templates(request.config), **iris_chaos_kwargs}
        yield ChaosLab(tmp_path / "chaos", **options)
        return
    if not marker.args:
        raise pytest.UsageError(
            f'{request.node.nodeid}: the iris_chaos fixture needs @pytest.mark.iris_scenario("name")'
        )
    options = dict(iris_chaos_kwargs)
    name = str(marker.args[0])
    if "llm" not in options and _has_llm_faults(options["registry"], name):
        options["llm"] = request.getfixturevalue("iris_llm")  # the test's cassette replays it
    options.setdefault("templates", host_templates(request.config))
    with ChaosHarness(name, root=tmp_path / "chaos", **options) as harness:
        yield harness


def _has_llm_faults(registry: Any, name: str) -> bool:
    from pytest_iris.chaos.loader import load_scenario

    path = registry.scenario_paths.get(name)
    return path is not None and any(f.llm is not None for f in load_scenario(path).faults)


def _marker_problem(item: pytest.Item) -> str | None:
    """What is wrong with the item's chaos markers, each said with its allowed values."""
    from pytest_iris.chaos.assertions import remediation_marker_problem
    from pytest_iris.registry import Registry

    registry = Registry.from_pytest(item.config)
    scenario = item.get_closest_marker("iris_scenario")
    if scenario is not None:
        known = ", ".join(sorted(registry.scenario_paths)) or "none"
        if len(scenario.args) != 1 or not isinstance(scenario.args[0], str):
            return f"iris_scenario takes one scenario name (one of {known}), got {scenario.args!r}"
        if scenario.args[0] not in registry.scenario_paths:
            return f"iris_scenario({scenario.args[0]!r}): no such scenario (known: {known})"
        unknown = sorted(set(scenario.kwargs) - {"expect"})
        if unknown:
            return f"iris_scenario: unknown keyword(s) {', '.join(unknown)} (it takes expect=)"
        expect = scenario.kwargs.get("expect", "passed")
        if expect not in ("passed", "failed"):
            return f"iris_scenario: expect={expect!r} is not 'passed' or 'failed'"
    for marker in item.iter_markers("iris_expect_remediation"):
        problem = remediation_marker_problem(marker.args, dict(marker.kwargs), registry.tools)
        if problem:
            return f"iris_expect_remediation: {problem}"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Markers are checked before any fixture builds a host."""
    if item.get_closest_marker("iris_scenario") or item.get_closest_marker(
        "iris_expect_remediation"
    ):
        problem = _marker_problem(item)
        if problem:
            path, line, _ = item.reportinfo()
            where = f"{path}:{(line or 0) + 1}" if line is not None else str(path)
            pytest.fail(f"{where}: {item.name}: {problem}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    harness = getattr(item, "funcargs", {}).get("iris_chaos")
    markers = list(item.iter_markers("iris_expect_remediation"))
    if markers:
        if harness is None:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.iris_expect_remediation needs the iris_chaos fixture"
            )
        from pytest_iris.testing import assert_remediation

        for marker in reversed(markers):
            assert_remediation(harness, *marker.args, **marker.kwargs)
    if harness is not None and item.get_closest_marker("iris_scenario") is not None:
        _check_verdict(item, harness)  # without the marker iris_chaos is a ChaosLab: no verdict
    return result


def _check_verdict(item: pytest.Item, harness: Any) -> None:
    """A scenario whose expectations failed fails its test, unless the test expects that."""
    marker = item.get_closest_marker("iris_scenario")
    expect = marker.kwargs.get("expect", "passed") if marker is not None else "passed"
    from pytest_iris.chaos.journal import summary_lines, with_remediator

    journal = harness.journal
    if expect == "failed":
        if not harness.checked:
            raise ScenarioFailed(
                f"scenario {journal.scenario!r} is expected to fail, but its expectations were "
                "never checked (call iris_chaos.run() or iris_chaos.verify())"
            )
        if journal.passed:
            raise ScenarioFailed(
                f"scenario {journal.scenario!r} was expected to fail (expect='failed'), but it "
                f"passed {with_remediator(journal)}"
            )
        return
    if harness.checked and journal.status in ("failed", "error"):
        raise ScenarioFailed(
            f"scenario {journal.scenario!r} {journal.status} {with_remediator(journal)} "
            "(mark the test iris_scenario(..., expect='failed') if that is what it checks):\n"
            + "\n".join(f"  - {f}" for f in journal.failures)
            + "\n"
            + "\n".join(summary_lines(journal, tracebacks=True))
        )


def _explicit_remediator(config: pytest.Config) -> str | None:
    """A remediator named by option, ini or environment (no settings load: start-up stays cheap)."""
    import os

    value = (
        config.getoption("iris_remediator", None)
        or config.getini("iris_remediator")
        or os.environ.get("PYTEST_IRIS_CHAOS__REMEDIATOR")
    )
    if not value:  # or the settings file's, when one was read at start-up (not the default)
        from pytest_iris._stash import SETTINGS_KEY

        settings = config.stash.get(SETTINGS_KEY, None)
        chaos = getattr(settings, "chaos", None)
        if chaos is not None and "remediator" in chaos.model_fields_set:
            value = chaos.remediator
    return str(value) if value else None


def _preflight(config: pytest.Config) -> None:
    """Resolve and build the remediator once; a broken one stops the run (a usage error)."""
    from pytest_iris.chaos.remediator import preflight
    from pytest_iris.errors import ConfigError
    from pytest_iris.plugins.core import settings_for
    from pytest_iris.registry import Registry

    if config.stash.get(_PREFLIGHT, False):
        return
    config.stash[_PREFLIGHT] = True
    try:
        preflight(
            remediator_spec(config), Registry.from_pytest(config), settings=settings_for(config)
        )
    except ConfigError as error:
        # a usage error, as every bad option value: one line; pytest.exit printed it twice
        raise pytest.UsageError(str(error)) from None


_PREFLIGHT = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # under xdist the controller collects nothing: check a named remediator here, once
    config = session.config
    if not hasattr(config, "workerinput") and _explicit_remediator(config):
        _preflight(config)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if any(
        isinstance(item, ScenarioItem) or "iris_chaos" in getattr(item, "fixturenames", ())
        for item in items
    ):
        _preflight(config)
        _freeze_at_exit(config)
    if hasattr(config, "workerinput"):
        _longest_first(items)


def _freeze_at_exit(config: pytest.Config) -> None:
    """Mark this process as one that runs scenarios: its exit handler freezes what is left.

    Not at collection: a freeze then also took the user's own objects (what
    their test modules and conftests made at import) out of the cyclic
    collector's sight for the whole run, so a module-level cycle a test
    dropped was never freed, its weakref callbacks never fired, and
    ``gc.get_objects()`` did not list it (user trial). At exit no test runs.
    Only for the process's first pytest session: a session run inside
    another (pytester's in-process runs) must not mark the outer process.
    """
    if _FIRST_CONFIG and _FIRST_CONFIG[0] is not config:
        return
    if not _RAN_SCENARIOS:
        _RAN_SCENARIOS.append(True)


#: set once this process collected (or, as xdist's controller, reported) chaos scenarios
_RAN_SCENARIOS: list[bool] = []
#: the first pytest session's config in this process (pytester runs others inside it)
_FIRST_CONFIG: list[pytest.Config] = []


@atexit.register  # registered at plugin load: runs after every handler registered later
def _skip_the_last_collection() -> None:
    """At exit, the interpreter's final cyclic collection walks every object still tracked
    (the chaos stack's imports, a worker's run): frozen, that walk is skipped. Only in a
    process that ran or reported scenarios, after pytest's own end-of-session collection
    (which surfaces unraisable exceptions) and the exit handlers registered later."""
    if _RAN_SCENARIOS:
        gc.freeze()


def _longest_first(items: list[pytest.Item]) -> None:
    """Under xdist, scenarios that start or restart the instance go first (in their slots).

    Their ``iris`` commands take most of a suite's wall time; handed out
    first, they run side by side while the short ones fill the gaps, instead
    of one long scenario finishing alone at the end. Every worker sorts the
    same way, so the order stays the same on each.
    """
    slots = [n for n, item in enumerate(items) if isinstance(item, ScenarioItem)]
    chosen = sorted((items[n] for n in slots), key=lambda item: -_cost(item))
    for n, item in zip(slots, chosen, strict=True):
        items[n] = item


def _cost(item: pytest.Item) -> int:
    """A rough weight: 1, plus 4 for each start/restart of the instance the scenario implies,
    4 for the HTTP transport (mock endpoint, outbox, and a worker's first HTTP client) and 2
    for each kernel call expected (``sudo sysctl`` subprocesses)."""
    scenario = getattr(item, "scenario", None)
    if scenario is None:
        return 0
    faults = [*scenario.faults, *scenario.rollbacks]
    starts = sum(1 for f in faults if f.iris in ("start", "restart") or f.kill is not None)
    if scenario.expect.restarted or any(c.tool == "restart" for c in scenario.expect.tool_calls):
        starts += 1
    if scenario.host.instance == "down":
        starts += 1
    http = 4 if scenario.transport == "http" else 0
    kernel = 2 * sum(1 for c in scenario.expect.tool_calls if c.tool == "kernel")
    return 1 + 4 * starts + http + kernel


# -- reports -----------------------------------------------------------------------


class ChaosReporter:
    """Collects the journals (from xdist workers too) for the summary and the HTML report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.journals: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        journal = getattr(report, "iris_journal", None)
        if journal is not None and report.when == "call":
            self.journals.append(journal)
            _freeze_at_exit(self.config)  # xdist's controller too: its exit skips the last walk

    def _sorted(self) -> list[Any]:
        from pytest_iris.chaos.journal import Journal

        return [
            Journal.from_dict(d) for d in sorted(self.journals, key=lambda d: str(d["scenario"]))
        ]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.journals:
            return
        from pytest_iris.chaos.journal import summary_lines

        terminalreporter.section("iris chaos scenarios")
        for journal in self._sorted():
            for line in summary_lines(journal):
                terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = self.config.getoption("iris_report", None)
        if path and not hasattr(self.config, "workerinput"):
            from pytest_iris.chaos.report import write_report

            written = write_report(self._sorted(), Path(path))
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"iris chaos report: {written}")
