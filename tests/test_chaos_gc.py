"""A process that runs chaos scenarios freezes its long-lived objects (plugins/chaos.py).

What is frozen is what is left at exit (pytest's and the chaos stack's imports,
the run's objects): the interpreter's last collection no longer walks it. Nothing
is frozen while the tests run, so the user's own objects stay collectable; a
process without scenarios is left alone.
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
        assert during == 0  # nothing while the tests run: the user's objects stay collectable
        assert at_exit > 10_000  # at exit: pytest's, the chaos stack's and the run's objects
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


#: the user's own module-level state, made while pytest imports the test module
USER_MODULE = """
import gc, weakref

fired = []

class Node:
    pass

CACHE = {"node": Node()}
CACHE["node"].me = CACHE["node"]  # a cycle: only the cyclic collector frees it
_ref = weakref.ref(CACHE["node"], lambda ref: fired.append("freed"))

def test_the_user_module_state_is_collected_as_usual():
    assert any(obj is CACHE["node"] for obj in gc.get_objects())
    CACHE.clear()
    gc.collect()
    assert _ref() is None and fired == ["freed"]
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["-n 0", "-n 2"])
def test_a_suite_with_scenarios_keeps_its_own_objects_collectable(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    """A scenario file in the suite changes nothing for the user's own objects while the tests
    run: a module-level cycle dropped by a test is freed (its weakref callback fires) and
    gc.get_objects() lists it. Frozen at collection, it was never freed and not listed."""
    pytester.makepyfile(test_user_state=USER_MODULE)
    shutil.copy(SCENARIO_DIR / "iris_chaos_journal_space_alert.yaml", pytester.path)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=2)
