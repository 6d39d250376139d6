"""How to test a remediation with a chaos scenario inside an ordinary test (README: In pytest)."""

from __future__ import annotations

import pytest

from pytest_iris.chaos.runner import run_scenario
from pytest_iris.testing import assert_scenario_passed, assert_tool_called


@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="cpf", parameter="config.locksiz", min=33554432)
def test_my_runbook_raises_locksiz(iris_chaos):
    messages = iris_chaos.inject()
    assert any(m.text.startswith("LockTable Alert") for m in messages)
    # the code under test would decide this; here the test plays the runbook
    result = iris_chaos.dispatch(
        {
            "tool": "cpf",
            "action": "set",
            "dry_run": False,
            "parameters": {"changes": {"config.locksiz": "33554432"}},
        }
    )
    assert result.ok
    assert_tool_called(iris_chaos.calls, "cpf", "set", status="success")


@pytest.mark.iris_scenario("license_limit")
@pytest.mark.iris_expect_remediation(tool="restart", restarted=False)
def test_reference_leaves_a_license_problem_alone(iris_chaos):
    assert_scenario_passed(iris_chaos.run("rules"))


def do_nothing(message: object, context: object) -> None:
    return None


@pytest.mark.iris_scenario("lock_table_full", expect="failed")
def test_doing_nothing_is_caught(iris_chaos):
    journal = iris_chaos.run(do_nothing)
    assert journal.remediator.endswith(":do_nothing")
    assert "expected a tool call cpf.set status=success; made: none" in journal.failures


def remediate(message, context):
    if message.text.startswith("LockTable"):
        if context.memory.get("done"):
            return None
        context.memory["done"] = True
        return {
            "tool": "cpf",
            "action": "set",
            "dry_run": False,
            "parameters": {"changes": {"config.locksiz": "33554432"}},
        }
    return None


def test_my_remediator_fixes_the_lock_table():
    # "module:callable", as with --iris-remediator; here this test module's function
    journal = run_scenario("lock_table_full", remediator=f"{__name__}:remediate")
    assert journal.passed, journal.failures
    assert journal.time_to_remediate_s is not None
    assert journal.time_to_remediate_s < 30  # host seconds from the first fault
