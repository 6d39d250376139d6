"""The tools' fixtures seen from a user's test file (pytester, plugin loaded)."""

from __future__ import annotations

import pytest

USER_TESTS = """
import pytest
from pytest_iris import RemediationCommand


def test_events_are_captured(iris_events):
    from pytest_iris.logging import get_logger
    from pytest_iris.tracing import trace

    with trace() as trace_id:
        get_logger("user").debug("user.step", n=1)
    iris_events.assert_event("user.step", n=1, trace_id=trace_id)


@pytest.mark.iris_host(users=1)
def test_dispatcher_acts_on_the_sandbox(iris_dispatcher, iris_sandbox, iris_events):
    result = iris_dispatcher.dispatch_sync(
        RemediationCommand(tool="restart", action="restart", dry_run=False)
    )
    assert not result.ok
    assert "1 client connection" in result.message
    assert iris_sandbox.status() == "running"
    iris_events.assert_event("restart.refused", users=1)
"""


def test_fixtures_from_a_user_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
