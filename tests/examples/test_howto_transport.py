"""How-to examples of docs/transport.md: each one is included in that page."""

import asyncio
import json
import tempfile
import urllib.request
from datetime import datetime

import pytest

from pytest_iris import (
    ConfigError,
    HttpTransport,
    IRISMessage,
    MockEndpoint,
    RetryPolicy,
    Severity,
    build_transport,
)
from pytest_iris.settings import load_settings

ALERT = IRISMessage(
    timestamp=datetime(2026, 1, 9, 11, 2, 8, 227000),
    pid=684,
    severity=Severity.SEVERE,
    category="Generic.Event",
    text="Journal file has reached its maximum size",
)


@pytest.mark.iris_endpoint_faults(fail_next=2, status=503)
def test_alert_survives_two_failures(iris_endpoint, iris_transport):
    async def scenario():
        async with iris_transport:
            return await iris_transport.publish(ALERT)

    assert asyncio.run(scenario()) is True  # retried twice, then delivered
    iris_endpoint.wait_for(1, timeout=5)
    iris_endpoint.assert_received(category="Generic.Event", min_severity=Severity.SEVERE)
    assert iris_endpoint.faults.injected == {"failed": 2}


@pytest.mark.iris_endpoint_faults(down_for=60)
def test_outage_keeps_the_message(iris_endpoint, iris_transport):
    async def scenario():
        async with iris_transport:
            kept = await iris_transport.publish(ALERT)  # False: in the outbox, on disk
            assert len(iris_transport.outbox) == 1
            iris_endpoint.faults.clear()  # the receiver is back
            await iris_transport.drain(timeout_s=10)  # redelivered in the background
            return kept

    assert asyncio.run(scenario()) is False
    assert iris_endpoint.received == [ALERT]


def test_remediator_reads_commands(iris_endpoint, iris_transport):
    iris_endpoint.queue_command(
        {"tool": "kernel", "action": "set", "parameters": {"kernel.shmmax": 2147483648}}
    )

    async def first_command():
        async with iris_transport:
            async for command in iris_transport.consume():
                return command

    assert asyncio.run(first_command()).tool == "kernel"


def test_file_transport(iris_file_transport, tmp_path):
    asyncio.run(iris_file_transport.publish(ALERT))
    assert (tmp_path / "messages.log").read_text() == (
        "01/09/26-11:02:08:227 (684) 2 [Generic.Event] Journal file has reached its maximum size\n"
    )


def send_alert(base_url, alert):  # the code under test: its own format, its own client
    request = urllib.request.Request(
        base_url + "/api/alerts",
        data=json.dumps(alert).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    for _ in range(3):
        try:
            with urllib.request.urlopen(request, timeout=5) as reply:
                return json.loads(reply.read())
        except OSError:
            continue
    raise RuntimeError("gave up")


@pytest.mark.iris_endpoint_faults(fail_next=1, status=503)
def test_alert_in_my_format(iris_endpoint):
    iris_endpoint.expect(
        "POST", "/api/alerts", json={"severity": 2, "text": "disk full"}
    ).respond_with_json({"id": "a-1"}, status=201)
    assert send_alert(iris_endpoint.url, {"severity": 2, "text": "disk full"}) == {"id": "a-1"}
    (request,) = iris_endpoint.assert_received(path="/api/alerts")
    assert request.headers["content-type"] == "application/json"


def test_ordered_text_bodies(iris_endpoint):
    iris_endpoint.expect("PUT", "/state", data="stopping", ordered=True).respond_with_status(204)
    iris_endpoint.expect("PUT", "/state", data="started", ordered=True).respond_with_status(204)
    for state in ("stopping", "started"):
        urllib.request.urlopen(
            urllib.request.Request(
                iris_endpoint.url + "/state",
                data=state.encode(),
                method="PUT",
                headers={"Content-Type": "text/plain"},
            ),
            timeout=5,
        )
    assert iris_endpoint.expectations == []


def test_the_library_through_a_flaky_endpoint():
    messages = [
        IRISMessage(
            timestamp=datetime(2026, 1, 9, 11, i // 60, i % 60),
            pid=700 + i,
            severity=1,
            category="Utility.Event",
            text=f"event {i}",
        )
        for i in range(100)
    ]

    with MockEndpoint(seed=1) as endpoint, tempfile.TemporaryDirectory() as outbox:
        endpoint.faults.fail_fraction(0.3)  # 30% of requests answer 503

        async def main():
            transport = HttpTransport(
                endpoint.url,
                outbox_dir=outbox,
                batch_size=10,
                retry=RetryPolicy(attempts=3, base_delay_s=0.01, seed=1),
            )
            async with transport:
                await asyncio.gather(*(transport.publish(m) for m in messages))
                await transport.drain(timeout_s=10)

        asyncio.run(main())
        assert sorted(m.text for m in endpoint.received) == sorted(m.text for m in messages)
        print(f"{len(endpoint.received)} received, {endpoint.faults.injected}")


def test_a_transport_from_settings():
    settings = load_settings(transport={"kind": "file", "file_path": "messages.log"})
    assert type(build_transport(settings.transport)).__name__ == "FileTransport"

    with pytest.raises(ConfigError, match=r"retry\.jitter"):
        load_settings(transport={"retry": {"jitter": 2}})
