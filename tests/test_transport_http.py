"""HttpTransport against the real mock endpoint: retries, outbox, batches, consume."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pytest_iris.errors import ConfigError, TransportError
from pytest_iris.log.model import IRISMessage, Severity
from pytest_iris.testing import capture_events
from pytest_iris.tracing import trace
from pytest_iris.transport import HttpTransport, MessageTransport, MockEndpoint, RetryPolicy

FAST = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05, seed=1)


def message(i: int) -> IRISMessage:
    return IRISMessage(
        timestamp=datetime(2026, 7, 1, 12, 0, i % 60),
        pid=3000 + i,
        severity=Severity.WARNING,
        category="Journal",
        text=f"journal event {i}",
    )


@pytest.fixture
def endpoint() -> Iterator[MockEndpoint]:
    with MockEndpoint(seed=9) as running:
        yield running


def transport(endpoint: MockEndpoint, tmp_path: Path, **options: Any) -> HttpTransport:
    options.setdefault("retry", FAST)
    return HttpTransport(endpoint.url, outbox_dir=tmp_path / "outbox", **options)


def test_is_a_message_transport(endpoint: MockEndpoint, tmp_path: Path) -> None:
    assert isinstance(transport(endpoint, tmp_path), MessageTransport)


def test_publish_delivers_with_id_and_trace(endpoint: MockEndpoint, tmp_path: Path) -> None:
    async def run() -> bool:
        async with transport(endpoint, tmp_path) as http:
            with trace("0af7651916cd43dd8448eb211c80319c"):
                return await http.publish(message(1))

    assert asyncio.run(run()) is True
    (envelope,) = endpoint.envelopes
    assert envelope.message == message(1)
    assert envelope.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert len(envelope.id) == 32


def test_retries_failures_then_delivers(endpoint: MockEndpoint, tmp_path: Path) -> None:
    endpoint.faults.fail_next(2, status=503)

    async def run() -> tuple[bool, dict[str, int]]:
        async with transport(endpoint, tmp_path) as http:
            return await http.publish(message(1)), dict(http.stats)

    delivered, stats = asyncio.run(run())
    assert delivered is True
    assert stats["retries"] == 2 and stats["outboxed"] == 0
    assert endpoint.received == [message(1)]


def test_dropped_connection_is_retried(endpoint: MockEndpoint, tmp_path: Path) -> None:
    endpoint.faults.drop_next(1)

    async def run() -> bool:
        async with transport(endpoint, tmp_path) as http:
            return await http.publish(message(1))

    assert asyncio.run(run()) is True
    assert endpoint.received == [message(1)]


def test_lost_reply_is_retried_and_stored_once(endpoint: MockEndpoint, tmp_path: Path) -> None:
    endpoint.faults.lose_fraction(1.0)

    async def run() -> bool:
        async with transport(endpoint, tmp_path) as http:
            delivered = await http.publish(message(1))
            endpoint.faults.lose_fraction(0.0)
            await http.drain(timeout_s=5)
            return delivered

    assert asyncio.run(run()) is False  # no reply ever came back: kept in the outbox
    assert endpoint.received == [message(1)]  # ...and redelivery was dropped by id
    assert endpoint.duplicates >= 1


def test_undeliverable_goes_to_outbox_then_redelivers_in_order(
    endpoint: MockEndpoint, tmp_path: Path
) -> None:
    endpoint.faults.fail_next(10_000)

    async def run() -> list[bool]:
        async with transport(endpoint, tmp_path) as http:
            results = [await http.publish(message(i)) for i in range(5)]
            assert len(http.outbox) == 5
            assert (tmp_path / "outbox" / "outbox.log").read_bytes().count(b"\n") == 5
            endpoint.faults.clear()
            await http.drain(timeout_s=10)
            return results

    assert asyncio.run(run()) == [False] * 5
    assert endpoint.received == [message(i) for i in range(5)]


def test_timeout_counts_as_failure(endpoint: MockEndpoint, tmp_path: Path) -> None:
    # far beyond the 0.05 s timeout, so a stalled client cannot see the reply first
    # (the delayed handler is cancelled when the endpoint stops)
    endpoint.faults.set_latency(60)

    async def run() -> bool:
        http = transport(
            endpoint,
            tmp_path,
            timeout_s=0.05,
            retry=RetryPolicy(attempts=1, base_delay_s=0.01, max_delay_s=0.01),
        )
        async with http:
            delivered = await http.publish(message(1))
            endpoint.faults.set_latency(0)
            await http.drain(timeout_s=10)
            return delivered

    assert asyncio.run(run()) is False
    assert message(1) in endpoint.received


def test_rejection_raises_and_is_not_kept(endpoint: MockEndpoint, tmp_path: Path) -> None:
    endpoint.faults.fail_next(1, status=422)

    async def run() -> int:
        async with transport(endpoint, tmp_path) as http:
            with pytest.raises(TransportError, match=r"rejected .*HTTP 422: injected fault"):
                await http.publish(message(1))
            return len(http.outbox)

    assert asyncio.run(run()) == 0
    assert endpoint.received == []


def test_batches_coalesce_concurrent_publishes(endpoint: MockEndpoint, tmp_path: Path) -> None:
    async def run() -> tuple[list[bool], int]:
        async with transport(endpoint, tmp_path, batch_size=10, max_in_flight=2) as http:
            results = await asyncio.gather(*(http.publish(message(i)) for i in range(50)))
            return list(results), http.stats["posts"]

    results, posts = asyncio.run(run())
    assert results == [True] * 50
    assert posts <= 10
    assert sorted(m.text for m in endpoint.received) == sorted(
        f"journal event {i}" for i in range(50)
    )


def test_publish_many_keeps_order(endpoint: MockEndpoint, tmp_path: Path) -> None:
    async def run() -> bool:
        async with transport(endpoint, tmp_path, batch_size=4) as http:
            return await http.publish_many(message(i) for i in range(10))

    assert asyncio.run(run()) is True
    assert endpoint.received == [message(i) for i in range(10)]


def test_retention_drops_with_a_log_event(endpoint: MockEndpoint, tmp_path: Path) -> None:
    endpoint.go_down(60)

    async def run() -> int:
        async with transport(endpoint, tmp_path, retention_s=0.2) as http:
            assert await http.publish(message(1)) is False
            for _ in range(200):
                if not len(http.outbox):
                    break
                await asyncio.sleep(0.02)
            return len(http.outbox)

    with capture_events() as events:
        assert asyncio.run(run()) == 0
    dropped = events.assert_event("outbox.dropped", reason="retention")
    assert dropped["retention_s"] == 0.2 and dropped["age_s"] > 0.2
    assert "journal event 1" in dropped["header"]
    assert endpoint.received == []


def test_outbox_survives_a_new_transport(endpoint: MockEndpoint, tmp_path: Path) -> None:
    endpoint.go_down(60)

    async def first() -> bool:
        async with transport(endpoint, tmp_path) as http:
            return await http.publish(message(7))

    assert asyncio.run(first()) is False
    endpoint.faults.clear()

    async def second() -> None:
        async with transport(endpoint, tmp_path) as http:
            await http.drain(timeout_s=10)

    asyncio.run(second())
    assert endpoint.received == [message(7)]


def test_one_outbox_per_transport(endpoint: MockEndpoint, tmp_path: Path) -> None:
    async def run() -> None:
        async with transport(endpoint, tmp_path):
            with pytest.raises(TransportError, match="in use by another transport"):
                async with transport(endpoint, tmp_path):
                    pass

    asyncio.run(run())


def test_lazily_opened_transport_closes_with_its_loop(
    endpoint: MockEndpoint, tmp_path: Path
) -> None:
    http = transport(endpoint, tmp_path)
    assert asyncio.run(http.publish(message(1))) is True
    assert asyncio.run(http.publish(message(2))) is True  # a new loop: reopens
    http.close()
    assert len(endpoint.received) == 2


def test_consume_polls_commands_in_order(endpoint: MockEndpoint, tmp_path: Path) -> None:
    endpoint.queue_command({"tool": "cpf", "action": "set", "parameters": {"gmheap": 1}})

    async def run() -> list[str]:
        async with transport(endpoint, tmp_path, poll_interval_s=0.02) as http:
            seen = []
            stream = http.consume()
            seen.append((await anext(stream)).action)
            endpoint.faults.fail_next(2)  # polling rides over failures
            endpoint.queue_command({"tool": "restart", "action": "restart"})
            seen.append((await asyncio.wait_for(anext(stream), 5)).action)
            await stream.aclose()
            return seen

    assert asyncio.run(run()) == ["set", "restart"]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"timeout_s": -1}, "timeout_s"),
        ({"retention_s": 0}, "retention_s"),
    ],
)
def test_bad_arguments_are_config_errors(
    tmp_path: Path, options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        HttpTransport("http://127.0.0.1:9", outbox_dir=tmp_path, **options)
    with pytest.raises(ConfigError, match="endpoint_url"):
        HttpTransport("ftp://example", outbox_dir=tmp_path)


def test_concurrent_first_publishes_open_once(endpoint: MockEndpoint, tmp_path: Path) -> None:
    http = transport(endpoint, tmp_path)

    async def run() -> list[bool]:
        results = await asyncio.gather(*(http.publish(message(i)) for i in range(20)))
        drainers = [t for t in asyncio.all_tasks() if t.get_name() == "iris-outbox-drainer"]
        assert len(drainers) == 1
        await http.aclose()
        return list(results)

    assert asyncio.run(run()) == [True] * 20
    assert len(endpoint.received) == 20


def test_outbox_message_rejected_on_redelivery_is_dropped(
    endpoint: MockEndpoint, tmp_path: Path
) -> None:
    endpoint.go_down(60)

    async def run() -> int:
        async with transport(endpoint, tmp_path) as http:
            assert await http.publish(message(1)) is False
            endpoint.faults.clear()
            endpoint.faults.fail_next(1, status=422)
            await http.drain(timeout_s=10)
            return len(http.outbox)

    with capture_events() as events:
        assert asyncio.run(run()) == 0
    events.assert_event("outbox.dropped", reason="rejected", detail="HTTP 422: injected fault")
    assert endpoint.received == []


def test_logging_never_sets_a_trace_id_on_later_messages(
    endpoint: MockEndpoint, tmp_path: Path
) -> None:
    from pytest_iris.tracing import current_trace_id

    endpoint.faults.fail_next(3)  # the first publish is outboxed, which logs an event

    async def run() -> str | None:
        async with transport(endpoint, tmp_path) as http:
            with capture_events() as events:
                assert await http.publish(message(1)) is False
            events.assert_event("transport.outboxed", count=1)
            assert await http.publish(message(2)) is True
            await http.drain(timeout_s=10)
            return current_trace_id()

    # an empty context: other tests in this process may have left a trace id set
    assert contextvars.Context().run(asyncio.run, run()) is None
    assert [e.trace_id for e in endpoint.envelopes] == [None, None]


def test_batch_rejection_fails_only_the_named_message(tmp_path: Path) -> None:
    """A receiver that rejects index 1 of a batch: that publish raises, the rest arrive."""
    from pytest_iris._http.server import BackgroundServer, Request, Response
    from pytest_iris.transport.envelope import MessageBatch

    bodies: list[list[str]] = []

    async def strict(request: Request) -> Response:
        batch = MessageBatch.model_validate_json(request.body)
        texts = [e.message.text for e in batch.messages]
        bodies.append(texts)
        if "journal event 1" in texts:
            index = texts.index("journal event 1")
            return Response(422, b'{"error": "text not allowed", "index": %d}' % index)
        return Response(200, b'{"accepted": %d, "duplicates": 0}' % len(texts))

    server = BackgroundServer(strict)
    server.start()
    try:

        async def run() -> list[object]:
            http = HttpTransport(server.url, outbox_dir=tmp_path, batch_size=3, linger_s=0.05)
            async with http:
                return await asyncio.gather(
                    *(http.publish(message(i)) for i in range(3)), return_exceptions=True
                )

        results = asyncio.run(run())
    finally:
        server.stop()
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], TransportError)
    assert "HTTP 422: text not allowed" in str(results[1])
    assert bodies == [
        ["journal event 0", "journal event 1", "journal event 2"],
        ["journal event 0", "journal event 2"],
    ]


def test_retry_after_is_honoured_up_to_the_cap(tmp_path: Path) -> None:
    """A 429 with ``Retry-After: 0.3`` makes the next attempt wait at least that long."""
    import time

    from pytest_iris._http.server import BackgroundServer, Request, Response

    arrivals: list[float] = []

    async def busy_once(request: Request) -> Response:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return Response(429, b'{"error": "slow down"}', {"Retry-After": "0.3"})
        return Response(200, b'{"accepted": 1, "duplicates": 0}')

    server = BackgroundServer(busy_once)
    server.start()
    try:
        policy = RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=1.0, seed=1)

        async def run() -> bool:
            async with HttpTransport(server.url, outbox_dir=tmp_path, retry=policy) as http:
                return await http.publish(message(1))

        assert asyncio.run(run()) is True
    finally:
        server.stop()
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.3
