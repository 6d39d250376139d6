"""Fixtures and the marker, end to end through pytester (subprocess runs)."""

from __future__ import annotations

import pytest

TESTS = """
import asyncio
from datetime import datetime

import httpx
import pytest

from pytest_iris import FileTransport, HttpTransport, IRISMessage, MockEndpoint

MSG = IRISMessage(timestamp=datetime(2026, 1, 2, 3, 4, 5), pid=42, severity=2,
                  category="Utility.Event", text="Journal file switched")


def test_http(iris_endpoint, iris_transport):
    assert isinstance(iris_endpoint, MockEndpoint)
    assert isinstance(iris_transport, HttpTransport)
    assert iris_transport.url == iris_endpoint.url

    async def run():
        async with iris_transport:
            return await iris_transport.publish(MSG)

    assert asyncio.run(run()) is True
    iris_endpoint.assert_received(category="Utility.Event", min_severity=2)


def test_file(iris_file_transport, tmp_path):
    assert isinstance(iris_file_transport, FileTransport)
    asyncio.run(iris_file_transport.publish(MSG))
    assert (tmp_path / "messages.log").read_text() == MSG.format() + "\\n"


def test_fresh_endpoint_per_test(iris_endpoint):
    assert iris_endpoint.received == []


@pytest.mark.iris_endpoint_faults(fail_next=2, status=502)
def test_fail_next(iris_endpoint):
    codes = [httpx.get(iris_endpoint.url + "/health").status_code for _ in range(3)]
    assert codes == [502, 502, 200]


@pytest.mark.iris_endpoint_faults(fail_next=1)
def test_transport_retries(iris_endpoint, iris_transport):
    async def run():
        async with iris_transport:
            return await iris_transport.publish(MSG)

    assert asyncio.run(run()) is True
    assert iris_endpoint.faults.injected == {"failed": 1}


@pytest.mark.iris_endpoint_faults(down_for=30)
def test_down(iris_endpoint):
    with pytest.raises(httpx.TransportError):
        httpx.get(iris_endpoint.url + "/health")


@pytest.mark.iris_endpoint_faults(fial_next=1)
def test_typo(iris_endpoint):
    pass


def test_settings_from_the_yaml_file(iris_transport):
    assert iris_transport.batch_size == 8
    assert iris_transport.settings.retry.attempts == 6
"""


def test_fixtures_marker_and_settings(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", iris="transport:\n  batch_size: 8\n  retry: {attempts: 6}\n")
    pytester.makepyfile(test_transport_fixtures=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--iris-config", "iris.yaml")
    result.assert_outcomes(passed=7, errors=1)
    result.stdout.fnmatch_lines(
        ["*::test_typo: iris_endpoint_faults: unknown endpoint fault(s) fial_next;*"]
    )


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.iris_endpoint_faults(*"])
