"""How-to examples of docs/hooks.md: each one is included in that page."""

from pytest_iris.models import IRISMessage, Severity
from pytest_iris.registry import Registry


def test_a_plugin_adds_a_sequence_everywhere():
    class AcmePlugin:
        def pytest_iris_add_sequences(self):
            def overheat(context, *, celsius=95):
                return [
                    IRISMessage(
                        timestamp=context.start,
                        pid=1,
                        severity=Severity.SEVERE,
                        category="Acme.Event",
                        text=f"Widget overheated at {celsius} C",
                    )
                ]

            return {"acme_overheat": overheat}

    registry = Registry.standalone([AcmePlugin()])
    assert "acme_overheat" in registry.sequences and "lock_table" in registry.sequences
    assert "lock_table_full" in registry.scenario_paths


ACME_CONFTEST = """
from pytest_iris.models import IRISMessage, Severity


def pytest_iris_add_sequences():
    def overheat(context, *, celsius=95):
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


def test_a_conftest_sequence_in_the_marker_and_a_scenario(pytester):
    pytester.makeconftest(ACME_CONFTEST)
    pytester.makepyfile(
        test_acme="""
        import pytest


        @pytest.mark.iris_log("startup", "acme_overheat:celsius=120", count=200)
        def test_my_tailer_sees_the_overheat(iris_log):
            (line,) = iris_log.lines("acme_overheat")
            assert line.endswith("2 [Acme.Event] Widget overheated at 120 C")
        """
    )
    pytester.makefile(
        ".yaml",
        iris_chaos_acme="name: acme_overheat\n"
        "faults: [{at: 5, sequence: acme_overheat, params: {celsius: 99}}]\n"
        "expect: {instance: running, no_tool_calls: [{tool: restart}]}\n",
    )
    result = pytester.runpytest_subprocess("test_acme.py", "iris_chaos_acme.yaml", timeout=120)
    result.assert_outcomes(passed=2)


OPTIONAL_CONFTEST = """
import pytest

from pytest_iris.models import IRISMessage, Severity


@pytest.hookimpl(optionalhook=True)  # the run may have pytest-iris off (-p no:iris)
def pytest_iris_add_sequences():
    def overheat(context, *, celsius=95):
        return [
            IRISMessage(
                timestamp=context.start,
                pid=1,
                severity=Severity.SEVERE,
                category="Acme.Event",
                text=f"Widget overheated at {celsius} C",
            )
        ]

    return {"acme_overheat": overheat}
"""


def test_hooks_marked_optional_survive_no_iris(pytester):
    pytester.makeconftest(OPTIONAL_CONFTEST)
    pytester.makepyfile(
        test_acme="""
        import pytest


        def test_plain():
            assert True


        @pytest.mark.iris_log("acme_overheat:celsius=120", count=50)
        def test_overheat(iris_log):
            assert "Widget overheated at 120 C" in iris_log.path.read_text()
        """
    )
    pytester.runpytest_subprocess(timeout=120).assert_outcomes(passed=2)
    off = pytester.runpytest_subprocess("-p", "no:iris", "test_acme.py::test_plain", timeout=120)
    off.assert_outcomes(passed=1)  # without optionalhook=True: INTERNALERROR, unknown hook
