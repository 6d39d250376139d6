"""How to override the config fixtures (docs/settings.md): each override here holds for this module.

Put the same fixture in a ``conftest.py`` and it holds for that directory.
"""

import asyncio
import json
import urllib.error
import urllib.request
from datetime import datetime

import pytest

from pytest_iris import IRISMessage, RemediationCommand, Severity
from pytest_iris.transport import MockEndpoint


@pytest.fixture
def iris_endpoint_kwargs(iris_endpoint_kwargs):
    return {**iris_endpoint_kwargs, "seed": 1}  # the same random faults in every test


def statuses(endpoint, count=20):
    endpoint.faults.fail_fraction(0.5)
    endpoint.expect("GET", "/ping").respond_with_json({"ok": True})
    seen = []
    for _ in range(count):
        try:
            with urllib.request.urlopen(endpoint.url + "/ping", timeout=5) as reply:
                seen.append(reply.status)
        except urllib.error.HTTPError as error:
            seen.append(error.code)
    return seen


def test_the_endpoint_seed_decides_which_requests_fail(iris_endpoint):
    with MockEndpoint(seed=1) as same_seed:
        assert statuses(iris_endpoint) == statuses(same_seed)
    assert {200, 503} <= set(statuses(iris_endpoint))


@pytest.fixture
def iris_transport_kwargs(iris_transport_kwargs):
    return {**iris_transport_kwargs, "file_format": "jsonl"}


def test_the_file_transport_writes_json_lines(iris_file_transport, tmp_path):
    alert = IRISMessage(
        timestamp=datetime(2026, 1, 9, 11, 2, 8, 227000),
        pid=684,
        severity=Severity.SEVERE,
        category="Generic.Event",
        text="Journal file has reached its maximum size",
    )
    asyncio.run(iris_file_transport.publish(alert))
    (line,) = (tmp_path / "messages.jsonl").read_text().splitlines()
    assert json.loads(line)["message"]["text"] == alert.text


@pytest.fixture
def iris_live_log_kwargs(iris_live_log_kwargs):
    return {**iris_live_log_kwargs, "rate": 5000, "rotate_every": 50}


def test_every_live_log_here_rotates_often(iris_live_log):
    iris_live_log.wait(120)
    assert len(iris_live_log.rotated) >= 2


@pytest.fixture
def iris_dispatcher_kwargs(iris_dispatcher_kwargs):
    tools = {name: tool for name, tool in iris_dispatcher_kwargs["tools"].items()}
    del tools["restart"]  # no test here may restart the instance
    return {**iris_dispatcher_kwargs, "tools": tools}


def test_a_dispatcher_without_the_restart_tool(iris_dispatcher):
    refused = iris_dispatcher.dispatch_sync(RemediationCommand(tool="restart", action="restart"))
    assert refused.status == "failure" and "restart" in refused.message
    assert iris_dispatcher.dispatch_sync(RemediationCommand(tool="kernel", action="plan")).ok


def leave_it(message, context):
    return None  # a remediator that never acts


@pytest.fixture
def iris_chaos_kwargs(iris_chaos_kwargs):
    return {**iris_chaos_kwargs, "remediator": f"{__name__}:leave_it"}


@pytest.mark.iris_scenario("lock_table_full", expect="failed")
def test_every_scenario_here_runs_my_remediator(iris_chaos):
    journal = iris_chaos.run()
    assert journal.remediator.endswith(":leave_it")
    assert "expected a tool call cpf.set status=success; made: none" in journal.failures
