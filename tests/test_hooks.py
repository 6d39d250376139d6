"""Every ``pytest_iris_*`` hook: a third party's addition works wherever the built-ins do.

Each test is a small downstream project (pytester) whose ``conftest.py``
implements one hook, the way a plugin would; its tests use the addition
through every consumer of that kind of part: the markers, the fixtures, the
library classes given the session's registry, and the chaos runner.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris.registry import Registry

QUIET = ("-p", "no:cacheprovider", "-q")


def _passes(pytester: pytest.Pytester, count: int, *args: str) -> None:
    result = pytester.runpytest_subprocess(*QUIET, *args)
    assert result.ret == 0, "\n".join(result.outlines + result.errlines)
    result.assert_outcomes(passed=count)


ACME_SEQUENCE = """
from pytest_iris.models import IRISMessage, Severity


def pytest_iris_add_sequences():
    def overheat(context, *, celsius=95):
        '''A widget overheats (invented for this test).'''
        return [
            IRISMessage(
                timestamp=context.start,
                pid=context.pids.get("control", 1),
                severity=Severity.SEVERE,
                category="Acme.Event",
                text=f"Widget overheated at {celsius} C",
            )
        ]

    return {"acme_overheat": overheat}
"""


def test_add_sequences(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(ACME_SEQUENCE)
    pytester.makefile(
        ".yaml",
        iris_chaos_acme="""
name: acme_heat
title: a plugin's sequence as a scenario fault
host: {instance: running}
faults:
  - {at: 5, sequence: acme_overheat, params: {celsius: 130}}
expect:
  instance: running
""",
    )
    pytester.makepyfile(
        """
        import pytest
        from pytest_iris.generation import LogStream
        from pytest_iris.registry import Registry

        @pytest.mark.iris_log("startup", "acme_overheat:celsius=120", count=200)
        def test_marker(iris_log):
            assert "[Acme.Event] Widget overheated at 120 C" in iris_log.text()
            assert iris_log.placement("acme_overheat").entries == 1

        @pytest.mark.iris_log("acme_overheat", count=50)
        def test_live(iris_live_log):
            iris_live_log.wait(50, timeout=120)
            assert "Widget overheated at 95 C" in iris_live_log.path.read_text()

        def test_stream(request):
            registry = Registry.from_pytest(request.config)
            stream = LogStream(1, count=100, sequences=["acme_overheat"], registry=registry)
            assert "Widget overheated at 95 C" in stream.text()

        @pytest.mark.iris_scenario("lock_table_full")
        def test_registry_has_it(request):
            assert "acme_overheat" in Registry.from_pytest(request.config).sequences
        """
    )
    _passes(pytester, 5, "iris_chaos_acme.yaml", "test_add_sequences.py")


def test_unknown_sequence_names_the_hook(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.iris_log("acme_overheat", count=50)
        def test_marker(iris_log):
            pass
        """
    )
    result = pytester.runpytest_subprocess(*QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*unknown log sequence 'acme_overheat'*pytest_iris_add_sequences*"]
    )


def test_add_templates(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_iris_add_templates():
            return [{"id": "acme.heartbeat", "category": "Acme", "severity": 0,
                     "text": "Acme heartbeat", "weight": 100000,
                     "invented": "a plugin's template in this test"}]
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from pytest_iris.generation import LogStream
        from pytest_iris.registry import Registry

        @pytest.mark.iris_log(count=300)
        def test_marker(iris_log):
            assert "[Acme] Acme heartbeat" in iris_log.text()

        def test_factory(iris_log_factory):
            assert "Acme heartbeat" in iris_log_factory(count=300).text()

        def test_stream(request):
            registry = Registry.from_pytest(request.config)
            assert "acme.heartbeat" in registry.catalog.templates
            assert "Acme heartbeat" in LogStream(2, count=300, registry=registry).text()
        """
    )
    _passes(pytester, 3)


MEMORY_TRANSPORT = """
import asyncio

import pytest

SEEN = {"published": 0, "consumed": 0}


class MemoryTransport:
    '''A plugin's transport: messages kept in memory, commands from an asyncio queue.

    ``arrived``/``send`` are its far end, where a chaos scenario's remediator sits.
    '''

    def __init__(self, settings, **options):
        self.settings, self.options, self.published = settings, options, []
        self._seen = 0
        self._commands = asyncio.Queue()

    async def publish(self, message):
        self.published.append(message)
        SEEN["published"] += 1
        return True

    async def consume(self):
        while True:
            command = await self._commands.get()
            SEEN["consumed"] += 1
            yield command

    def arrived(self):
        fresh, self._seen = self.published[self._seen :], len(self.published)
        return fresh

    def send(self, command):
        self._commands.put_nowait(command)
        return "queued in memory"


def pytest_iris_add_transports():
    return {"memory": MemoryTransport}


@pytest.fixture
def iris_transport_kwargs(iris_transport_kwargs):
    return {**iris_transport_kwargs, "kind": "memory"}


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"memory transport: {SEEN}")
"""


def test_add_transports(pytester: pytest.Pytester) -> None:
    """A plugin's transport: built by the fixtures, by build_transport, and carrying a scenario."""
    pytester.makeconftest(MEMORY_TRANSPORT)
    pytester.makepyfile(
        """
        import asyncio
        from pytest_iris.registry import Registry
        from pytest_iris.transport import TransportSettings, build_transport

        def test_fixture(iris_transport, iris_endpoint):
            assert type(iris_transport).__name__ == "MemoryTransport"
            assert iris_transport.options["url"] == iris_endpoint.url

        def test_build(request):
            registry = Registry.from_pytest(request.config)
            built = build_transport(TransportSettings(kind="memory"), registry=registry)
            assert asyncio.run(built.publish("x")) and built.published == ["x"]
        """
    )
    library = Path(__file__).parents[1] / "src/pytest_iris/chaos/scenarios"
    text = (library / "iris_chaos_lock_table_full.yaml").read_text(encoding="utf-8")
    (pytester.path / "iris_chaos_over_memory.yaml").write_text(
        text.replace("name: lock_table_full", "name: over_memory") + "transport: memory\n"
    )
    result = pytester.runpytest_subprocess(*QUIET)
    assert result.ret == 0, "\n".join(result.outlines + result.errlines)
    result.assert_outcomes(passed=3)
    # the scenario's lock-table lines crossed the plugin's transport and the CPF fix came
    # back through its consume(): the scenario passes only when that fix reached the tools
    result.stdout.fnmatch_lines(["memory transport: {'published': *, 'consumed': 1}"])
    published = int(result.stdout.str().split("'published': ")[1].split(",")[0])
    assert published >= 3  # the three lock-table lines (and any other entry since)


def test_scenario_naming_an_unknown_transport_fails_with_its_line(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(MEMORY_TRANSPORT)
    (pytester.path / "iris_chaos_carrier.yaml").write_text(
        "name: carrier\nfaults:\n  - at: 1\n    kill: write_daemon\ntransport: carrier\n"
    )
    result = pytester.runpytest_subprocess(*QUIET)
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        [
            "*iris_chaos_carrier.yaml:5: transport: unknown transport 'carrier' "
            "(registered: direct, file, http, memory;*"
        ]
    )


def test_unknown_transport_lists_the_registered() -> None:
    from pytest_iris.errors import ConfigError
    from pytest_iris.transport import TransportSettings, build_transport

    with pytest.raises(ConfigError, match=r"unknown transport 'carrier'.*file, http"):
        build_transport(TransportSettings(kind="carrier"), registry=Registry.standalone())


ACME_TOOL = """
from pytest_iris.models import ToolResult, ToolStatus


class Fan:
    '''A plugin's tool: turns a fan on (dry run unless applied).'''

    actions = {"spin": {"rpm": (int,)}}

    def __init__(self, host):
        self.host = host

    def spin(self, *, rpm=1000, dry_run=True):
        return ToolResult(tool="fan", action="spin", status=ToolStatus.SUCCESS,
                          message=f"fan at {rpm} rpm", dry_run=dry_run)


def pytest_iris_add_tools():
    return {"fan": Fan}
"""


def test_add_tools(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(ACME_TOOL)
    pytester.makepyfile(
        """
        import pytest

        def test_dispatcher(iris_dispatcher):
            result = iris_dispatcher.dispatch_sync({"tool": "fan", "action": "spin",
                                                    "parameters": {"rpm": 1200}})
            assert result.ok and result.message == "fan at 1200 rpm"
            bad = iris_dispatcher.dispatch_sync({"tool": "fan", "action": "spin",
                                                 "parameters": {"rpm": "fast"}})
            assert not bad.ok and "rpm" in bad.message

        @pytest.mark.iris_scenario("lock_table_full")
        def test_chaos(iris_chaos):
            result = iris_chaos.dispatch({"tool": "fan", "action": "spin"})
            assert result.ok and result.message == "fan at 1000 rpm"
        """
    )
    _passes(pytester, 2)


def test_add_remediators(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        from pytest_iris.chaos.rules import RuleBasedRemediator


        class Careful(RuleBasedRemediator):
            '''The reference rules under another name, as a plugin would ship its own.'''


        def pytest_iris_add_remediators():
            return {"careful": Careful}
        """
    )
    scenario = Path(__file__).parents[1] / "src/pytest_iris/chaos/scenarios"
    pytester.makefile(
        ".yaml", iris_chaos_lock=(scenario / "iris_chaos_lock_table_full.yaml").read_text()
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.iris_scenario("lock_table_full")
        def test_by_name(iris_chaos):
            journal = iris_chaos.run("careful")
            assert journal.passed and journal.remediator == "careful"
        """
    )
    _passes(pytester, 2, "--iris-remediator=careful")
    result = pytester.runpytest_subprocess(
        *QUIET, "--iris-remediator=nobody", "iris_chaos_lock.yaml"
    )
    assert result.ret != 0
    assert "careful" in result.stdout.str() + result.stderr.str()  # the error lists it


def test_add_scenarios(pytester: pytest.Pytester) -> None:
    library = pytester.mkdir("acme_scenarios")
    (library / "iris_chaos_acme.yaml").write_text(
        """
name: acme_lock
title: a plugin's own scenario
host: {instance: running, cpf: {config: {locksiz: 16777216}}}
faults:
  - {at: 10, sequence: lock_table, params: {peak: 97, recover: true}}
expect:
  tool_calls:
    - {tool: cpf, action: set, status: success}
  instance: running
"""
    )
    pytester.makeconftest(
        """
        from pathlib import Path

        def pytest_iris_add_scenarios():
            return [Path(__file__).parent / "acme_scenarios"]
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from pytest_iris.registry import Registry

        @pytest.mark.iris_scenario("acme_lock")
        def test_marker(iris_chaos):
            assert iris_chaos.run("rules").passed

        def test_registry(request):
            paths = Registry.from_pytest(request.config).scenario_paths
            assert "acme_lock" in paths and "lock_table_full" in paths
        """
    )
    _passes(pytester, 2, "test_add_scenarios.py")


def test_standalone_registry_takes_a_plugin_everywhere() -> None:
    """Outside pytest: the same additions through ``Registry.standalone([plugin])``."""
    from pytest_iris.generation import LogStream
    from pytest_iris.models import IRISMessage, Severity

    class Acme:
        def pytest_iris_add_sequences(self) -> dict[str, object]:
            def overheat(context: object, *, celsius: int = 95) -> list[IRISMessage]:
                start = context.start  # type: ignore[attr-defined]
                return [
                    IRISMessage(
                        timestamp=start,
                        pid=1,
                        severity=Severity.SEVERE,
                        category="Acme.Event",
                        text=f"Widget overheated at {celsius} C",
                    )
                ]

            return {"acme_overheat": overheat}

    registry = Registry.standalone([Acme()], entry_points=False)
    text = LogStream(1, count=100, sequences=["acme_overheat:celsius=99"], registry=registry).text()
    assert "Widget overheated at 99 C" in text
    assert "lock_table" in registry.sequences and "rules" in registry.remediators
    assert {"cpf", "kernel", "restart"} <= set(registry.tools)
    assert {"file", "http"} <= set(registry.transports)
