"""A scenario played inside a test decides that test; the report says what each test did."""

from __future__ import annotations

import shutil

import pytest

from pytest_iris.builtin_plugin import SCENARIO_DIR

VERDICTS = """
import pytest

class DoNothing:
    def __call__(self, message, context):
        return None

@pytest.mark.iris_scenario("lock_table_full")
def test_failed_scenario_fails_the_test(iris_chaos):
    iris_chaos.run(DoNothing())

@pytest.mark.iris_scenario("lock_table_full", expect="failed")
def test_says_it_expects_the_failure(iris_chaos):
    journal = iris_chaos.run(DoNothing())
    assert journal.failures

@pytest.mark.iris_scenario("lock_table_full", expect="failed")
def test_expected_failure_that_passed(iris_chaos):
    iris_chaos.run("rules")

@pytest.mark.iris_scenario("lock_table_full")
def test_verify_after_injecting(iris_chaos):
    iris_chaos.inject()
    iris_chaos.verify()
"""


def test_failed_expectations_fail_the_test_unless_expected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_verdicts=VERDICTS)
    result = pytester.runpytest("-p", "no:randomly", "-rA")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*scenario 'lock_table_full' failed with remediator 'test_verdicts:DoNothing'"
            " (mark the test iris_scenario(..., expect='failed') if that is what it checks):",
            "*- expected a tool call cpf.set status=success; made: none*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*scenario 'lock_table_full' was expected to fail (expect='failed'), but it passed"
            " with remediator 'rules'*"
        ]
    )
    result.stdout.fnmatch_lines(
        # it said "with remediator 'rules'": the test injected, no remediator ran (user trial)
        ["*scenario 'lock_table_full' failed with no remediator (mark*", "*- expected a tool call*"]
    )
    result.stdout.fnmatch_lines(["PASSED test_verdicts.py::test_says_it_expects_the_failure"])
    result.stdout.fnmatch_lines(
        ["FAILED (as the test expects) lock_table_full [[]test_verdicts:DoNothing[]] faults=1*"]
    )
    assert "with remediator 'rules'" not in "".join(
        line for line in result.stdout.lines if "DoNothing" in line
    )


DRIVEN = """
import pytest

@pytest.mark.iris_scenario("lock_table_full")
def test_inject_only(iris_chaos):
    assert iris_chaos.inject()

@pytest.mark.iris_scenario("lock_table_full")
def test_dispatch_only(iris_chaos):
    assert iris_chaos.dispatch({"tool": "cpf", "action": "show"}).ok

def nothing(message, context):
    return None

@pytest.mark.iris_scenario("lock_table_full")
def test_inject_with_a_remediator(iris_chaos):
    assert iris_chaos.inject(nothing)
"""


def test_inject_and_dispatch_only_tests_report_as_what_they_are(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_driven=DRIVEN)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3)
    text = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "DISPATCHED lock_table_full [[]no remediator[]] faults=0 messages=0 commands=1 results=1 ok/0"
            " failed wall=*ms (expectations not checked)",
            "*t=    0.0s result  cpf.show: success: [[]config[]]globals * (+* lines)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "INJECTED lock_table_full [[]no remediator[]] faults=1 messages=3 commands=0 results=0 ok/0"
            " failed wall=*ms (expectations not checked)"
        ]
    )
    result.stdout.fnmatch_lines(["INJECTED lock_table_full [[]test_driven:nothing[]] faults=1*"])
    assert "RUNNING" not in text
    assert "[rules]" not in text  # it said '[rules]': no remediator ran (user trial)
    assert "wall=0ms" not in text
    assert "steady state" not in text.split("iris chaos scenarios")[1]


def test_expected_refusal_reads_as_a_pass_and_every_check_is_listed(
    pytester: pytest.Pytester,
) -> None:
    shutil.copy(SCENARIO_DIR / "iris_chaos_restart_with_users_connected.yaml", pytester.path)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "PASSED restart_with_users_connected*",
            "*result  restart.restart: failure: *(refused, as the scenario expects)",
            "*checks:",
            "*ok     tool call kernel.apply huge_pages=True status=success: made: *",
            "*ok     tool call restart status=failure: made: *",
            "*ok     no tool call restart force=True: none made",
            "*ok     instance running: instance IRIS is running",
            "*ok     not restarted: control process *",
            "*ok     5 user(s) connected: 5 connected",
            "*ok     remediated within 60s: *",
        ]
    )
    summary = result.stdout.str().split("iris chaos scenarios")[1]
    assert "FAILED" not in summary
