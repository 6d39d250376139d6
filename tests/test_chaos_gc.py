"""A process that runs chaos scenarios freezes its long-lived objects (plugins/chaos.py).

What is frozen is what exists once the scenarios are collected (pytest's and the
chaos stack's imports, the items) and, at exit, what is left: the cyclic
collector no longer walks it. A process without scenarios is left alone, and
cycles a test makes are still collected.
"""

from __future__ import annotations

import shutil

import pytest

from pytest_iris.builtin_plugin import SCENARIO_DIR

#: loaded with -p (before pytest-iris's plugins): its exit handler runs after theirs
PROBE = """
import atexit, gc
atexit.register(lambda: print(f"FROZEN AT EXIT {gc.get_freeze_count()}", flush=True))
"""

#: a cycle a test makes is still collected; the freeze count while the tests run
TESTS = """
import gc, weakref

FROZEN = []

def test_a_cycle_made_in_a_test_is_collected():
    class Node:
        pass
    node = Node()
    node.me = node
    ref = weakref.ref(node)
    del node
    gc.collect()
    assert ref() is None
    FROZEN.append(gc.get_freeze_count())
"""

SUMMARY = """
import sys

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"FROZEN DURING TESTS {sys.modules['test_cycle'].FROZEN[0]}")
"""


def _frozen(lines: list[str], what: str) -> int:
    (line,) = [line for line in lines if line.startswith(what)]
    return int(line.removeprefix(what))


@pytest.mark.parametrize("with_scenario", [True, False], ids=["scenarios", "no scenarios"])
def test_only_a_process_that_runs_scenarios_freezes(
    pytester: pytest.Pytester, with_scenario: bool
) -> None:
    pytester.makepyfile(iris_gc_probe=PROBE, test_cycle=TESTS)
    pytester.makeconftest(SUMMARY)
    if with_scenario:
        shutil.copy(SCENARIO_DIR / "iris_chaos_journal_space_alert.yaml", pytester.path)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "iris_gc_probe", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2 if with_scenario else 1)
    during = _frozen(result.outlines, "FROZEN DURING TESTS")
    at_exit = _frozen(result.outlines, "FROZEN AT EXIT")
    if with_scenario:
        assert during > 10_000  # pytest's and the chaos stack's objects, at least
        assert at_exit > during  # and, at exit, what the run made since
    else:
        assert (during, at_exit) == (0, 0)


def test_a_session_run_inside_another_freezes_nothing(pytester: pytest.Pytester) -> None:
    """pytester's in-process runs: only the process's first session may freeze (an inner one
    would freeze the outer session's garbage, run after run)."""
    import gc

    shutil.copy(SCENARIO_DIR / "iris_chaos_journal_space_alert.yaml", pytester.path)
    before = gc.get_freeze_count()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert gc.get_freeze_count() == before
