"""The mock endpoint over real HTTP: validation, ordering, duplicates, faults, helpers."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.models import IRISMessage, RemediationCommand, Severity
from pytest_iris.transport import MockEndpoint
from pytest_iris.transport.envelope import encode_batch, encode_one, wrap


def message(i: int, *, severity: int = 0, category: str | None = "Utility.Event") -> IRISMessage:
    return IRISMessage(
        timestamp=datetime(2026, 5, 4, 3, 2, 1, (i % 1000) * 1000),
        pid=900 + i,
        severity=Severity(severity),
        category=category,
        text=f"event {i}",
    )


@pytest.fixture
def endpoint() -> Iterator[MockEndpoint]:
    with MockEndpoint(seed=3) as running:
        yield running


@pytest.fixture
def client(endpoint: MockEndpoint) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=endpoint.url, timeout=5) as http:
        yield http


def test_listens_on_loopback_ephemeral_port(endpoint: MockEndpoint) -> None:
    assert endpoint.url.startswith("http://127.0.0.1:")
    assert endpoint.port > 0
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=2):
        pass


def test_stop_closes_the_port() -> None:
    with MockEndpoint() as running:
        port = running.port
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=2),
    ):
        pass


def test_keeps_messages_in_order_with_ids(endpoint: MockEndpoint, client: httpx.Client) -> None:
    envelopes = [wrap(message(i)) for i in range(5)]
    for envelope in envelopes:
        reply = client.post(
            "/messages", content=encode_one(envelope), headers={"Idempotency-Key": envelope.id}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"accepted": 1, "duplicates": 0}
    assert endpoint.received == [e.message for e in envelopes]
    assert endpoint.received_ids == [e.id for e in envelopes]


def test_duplicates_are_acknowledged_and_dropped(
    endpoint: MockEndpoint, client: httpx.Client
) -> None:
    envelope = wrap(message(1))
    first = client.post("/messages", content=encode_one(envelope))
    again = client.post("/messages", content=encode_one(envelope))
    batch = client.post("/messages/batch", content=encode_batch([envelope, wrap(message(2))]))
    assert first.json() == {"accepted": 1, "duplicates": 0}
    assert again.status_code == 200 and again.json() == {"accepted": 0, "duplicates": 1}
    assert batch.json() == {"accepted": 1, "duplicates": 1}
    assert endpoint.received_ids.count(envelope.id) == 1
    assert endpoint.duplicates == 2
    assert len(endpoint.received) == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "Invalid JSON"),
        (b'{"id": "a", "message": {"pid": 1}}', "message.timestamp: Field required"),
        (
            b'{"id": "bad id!", "message": {"timestamp": "2026-01-01T00:00:00", "pid": 1, '
            b'"severity": 0}}',
            "id: String should match pattern",
        ),
        (
            b'{"id": "a", "message": {"timestamp": "2026-01-01T00:00:00", "pid": 1, "severity": 7}}',
            "message.severity",
        ),
        (
            b'{"id": "a", "extra": 1, "message": {"timestamp": "2026-01-01T00:00:00", "pid": 1, '
            b'"severity": 0}}',
            "extra: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_payload_gets_422_with_reason(
    endpoint: MockEndpoint, client: httpx.Client, body: bytes, reason: str
) -> None:
    reply = client.post("/messages", content=body)
    assert reply.status_code == 422
    assert reason in reply.json()["error"]
    assert endpoint.received == []
    assert reason in endpoint.rejections[-1]


def test_idempotency_key_must_match_the_id(endpoint: MockEndpoint, client: httpx.Client) -> None:
    reply = client.post(
        "/messages", content=encode_one(wrap(message(1))), headers={"Idempotency-Key": "other"}
    )
    assert reply.status_code == 422
    assert "does not match message id" in reply.json()["error"]


def test_bad_batch_is_rejected_whole_naming_the_index(
    endpoint: MockEndpoint, client: httpx.Client
) -> None:
    good = json.loads(encode_one(wrap(message(1))))
    bad = json.loads(encode_one(wrap(message(2))))
    bad["message"]["timestamp"] = "2026-01-01T00:00:00.000123"  # not whole milliseconds
    reply = client.post("/messages/batch", content=json.dumps({"messages": [good, bad]}))
    assert reply.status_code == 422
    assert reply.json()["index"] == 1
    assert "whole milliseconds" in reply.json()["error"]
    assert endpoint.received == []


def test_unknown_route_and_wrong_method(client: httpx.Client) -> None:
    assert client.get("/nowhere").status_code == 404
    wrong = client.get("/messages")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"


def test_serves_queued_commands_with_a_cursor(endpoint: MockEndpoint, client: httpx.Client) -> None:
    first = endpoint.queue_command({"tool": "kernel", "action": "set", "parameters": {"a": 1}})
    second = endpoint.queue_command(RemediationCommand(tool="restart", action="restart"))
    page = client.get("/commands", params={"after": 0, "limit": 1}).json()
    assert page["next"] == 1
    assert RemediationCommand.model_validate(page["commands"][0]["command"]) == first
    rest = client.get("/commands", params={"after": page["next"]}).json()
    assert [RemediationCommand.model_validate(c["command"]) for c in rest["commands"]] == [second]
    assert client.get("/commands", params={"after": 2}).json() == {"commands": [], "next": 2}
    assert client.get("/commands", params={"after": "x"}).status_code == 400


def test_fail_next_with_status(endpoint: MockEndpoint, client: httpx.Client) -> None:
    endpoint.faults.fail_next(2, status=500)
    codes = [
        client.post("/messages", content=encode_one(wrap(message(i)))).status_code for i in range(3)
    ]
    assert codes == [500, 500, 200]
    assert len(endpoint.received) == 1
    assert endpoint.faults.injected["failed"] == 2


def test_drop_next_closes_without_reply(endpoint: MockEndpoint, client: httpx.Client) -> None:
    endpoint.faults.drop_next(1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/messages", content=encode_one(wrap(message(1))))
    assert client.post("/messages", content=encode_one(wrap(message(2)))).status_code == 200
    assert endpoint.received == [message(2)]


def test_latency_delays_replies(endpoint: MockEndpoint, client: httpx.Client) -> None:
    # far beyond the client's timeout: a loaded machine that stalls the client for a
    # while still cannot see the reply first (the delayed handler is cancelled at stop)
    endpoint.faults.set_latency(60)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/messages", content=encode_one(wrap(message(1))), timeout=0.1)
    endpoint.faults.set_latency(0)
    assert client.get("/health").status_code == 200


def test_down_window_refuses_then_recovers(endpoint: MockEndpoint) -> None:
    endpoint.go_down(60)
    with pytest.raises(httpx.TransportError), httpx.Client(base_url=endpoint.url) as fresh:
        fresh.get("/health")
    endpoint.faults.down_for(0)  # ended early
    with httpx.Client(base_url=endpoint.url) as fresh:
        assert fresh.get("/health").status_code == 200
    endpoint.go_down(0.05)  # a short window ends by itself
    deadline = time.monotonic() + 30
    while endpoint.faults.down and time.monotonic() < deadline:
        time.sleep(0.01)
    with httpx.Client(base_url=endpoint.url) as fresh:
        assert fresh.get("/health").status_code == 200
    assert endpoint.faults.injected["refused"] >= 1


def test_fail_fraction_is_seeded_and_reproducible() -> None:
    def pattern(seed: int) -> list[int]:
        with MockEndpoint(seed=seed) as running, httpx.Client(base_url=running.url) as http:
            running.faults.fail_fraction(0.3)
            return [http.get("/health").status_code for _ in range(40)]

    first, second = pattern(42), pattern(42)
    assert first == second
    assert 0 < first.count(503) < 40


def test_bad_fault_configuration_is_a_clear_error(endpoint: MockEndpoint) -> None:
    with pytest.raises(ConfigError, match=r"unknown endpoint fault.*fail_nxt"):
        endpoint.faults.configure(fail_nxt=1)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        endpoint.faults.fail_fraction(1.5)
    with pytest.raises(ConfigError, match="HTTP error"):
        endpoint.faults.fail_next(1, status=200)


def test_wait_for_returns_or_fails_with_what_arrived(
    endpoint: MockEndpoint, client: httpx.Client
) -> None:
    client.post("/messages", content=encode_one(wrap(message(1))))
    assert endpoint.wait_for(1, timeout=1) == [message(1)]
    with pytest.raises(AssertionError, match=r"waited 0.2 s for 3 message\(s\).*got 1") as info:
        endpoint.wait_for(3, timeout=0.2)
    assert "event 1" in str(info.value)


def test_assert_received_lists_the_closest_messages(
    endpoint: MockEndpoint, client: httpx.Client
) -> None:
    for i, (severity, category) in enumerate(
        [(0, "Utility.Event"), (2, "Generic.Event"), (3, "Utility.Event")]
    ):
        client.post(
            "/messages", content=encode_one(wrap(message(i, severity=severity, category=category)))
        )
    assert endpoint.assert_received(category="Utility.Event", min_severity=2) == [
        message(2, severity=3)
    ]
    with pytest.raises(AssertionError) as info:
        endpoint.assert_received(category="Generic.Event", min_severity=3)
    text = str(info.value)
    assert "found 0 among 3 received" in text
    closest = text.splitlines()[1]
    assert "[Generic.Event] event 1" in closest and "missed: min_severity" in closest
    with pytest.raises(AssertionError, match="at least 2"):
        endpoint.assert_received(min_severity=3, at_least=2)
