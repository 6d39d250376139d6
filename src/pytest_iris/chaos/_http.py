"""The ``transport: http`` path of a scenario: messages and commands cross a real endpoint.

Every new messages.log entry is published by the project's
:class:`~pytest_iris.transport.http.HttpTransport` (outbox and all) to a
:class:`~pytest_iris.transport.endpoint.mock.MockEndpoint` on 127.0.0.1; the
remediator sits behind the endpoint and sees only what the endpoint
received. Its commands are queued on the endpoint and reach the tools by
the transport's ``consume()``. Taking the endpoint down makes publishes go
to the outbox; bringing it up lets the outbox drain, and the remediator then
sees the incidents late, in order, each once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pytest_iris.models import IRISMessage, RemediationCommand

if TYPE_CHECKING:
    from pytest_iris.chaos.runner import ScenarioRunner

#: How long (wall seconds) to wait for a redelivered outbox.
WAIT_S = 10.0


@contextlib.asynccontextmanager
async def session(runner: ScenarioRunner) -> AsyncIterator[tuple[Any, Any]]:
    from pytest_iris.transport.endpoint.mock import MockEndpoint
    from pytest_iris.transport.http import HttpTransport
    from pytest_iris.transport.settings import RetryPolicy

    endpoint = MockEndpoint(seed=runner.seed)
    endpoint.start()
    try:
        transport = HttpTransport(
            endpoint.url,
            outbox_dir=runner.host.root.parent / "outbox",
            timeout_s=2.0,
            retry=RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.05, seed=runner.seed),
            poll_interval_s=0.01,
        )
        await transport.open()
        state = {"cursor": 0, "down": False}
        runner._http_state = state
        try:
            yield endpoint, transport
        finally:
            await transport.aclose()
    finally:
        endpoint.stop()


async def deliver(runner: ScenarioRunner, new: list[IRISMessage]) -> list[IRISMessage]:
    """Publish the new entries; return what the endpoint received since the last call."""
    transport, endpoint, state = runner._transport, runner._endpoint, runner._http_state
    outboxed = 0
    for message in new:
        if not await transport.publish(message):
            outboxed += 1
    if outboxed:
        runner._event(
            "note",
            f"endpoint unreachable: {outboxed} message(s) kept in the outbox "
            f"({len(transport.outbox)} waiting)",
        )
    if not state["down"] and len(transport.outbox):
        await transport.drain(timeout_s=WAIT_S)
        runner._event("note", "outbox drained to the endpoint")
    received: list[IRISMessage] = endpoint.received
    fresh = received[state["cursor"] :]
    state["cursor"] = len(received)
    return fresh


def send_command(runner: ScenarioRunner, command: RemediationCommand) -> str:
    """Queue the command on the endpoint, where the transport polls for commands."""
    runner._endpoint.queue_command(command)
    return f"queued on {runner._endpoint.url}"


async def set_down(runner: ScenarioRunner, down: bool) -> None:
    """Take the endpoint down (every connection refused) or bring it back."""
    endpoint = runner._endpoint
    runner._http_state["down"] = down
    if down:
        endpoint.go_down(3600.0)
    else:
        endpoint.faults.down_for(0)


def endpoint_problems(runner: ScenarioRunner, expected: Any) -> list[str]:
    """Whether the endpoint holds every published message once and the outbox is empty."""
    problems: list[str] = []
    endpoint, transport = runner._endpoint, runner._transport
    published = runner._published_count()
    received = len(endpoint.received)
    if expected.received_all and received != published:
        problems.append(
            f"endpoint received {received} of the {published} message(s) published "
            f"({endpoint.duplicates} duplicate(s) dropped)"
        )
    if received < expected.min_received:
        problems.append(
            f"endpoint received {received} message(s), expected at least {expected.min_received}"
        )
    if expected.outbox_empty and len(transport.outbox):
        problems.append(f"{len(transport.outbox)} message(s) still in the outbox")
    return problems
