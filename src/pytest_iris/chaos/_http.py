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

from pathlib import Path
from typing import TYPE_CHECKING

from pytest_iris.chaos.delivery import EndpointCounts, Notify, TransportPath
from pytest_iris.errors import ScenarioError
from pytest_iris.models import IRISMessage, RemediationCommand

if TYPE_CHECKING:
    from pytest_iris.transport.endpoint.mock import MockEndpoint
    from pytest_iris.transport.http import HttpTransport

#: How long (wall seconds) to wait for a redelivered outbox.
WAIT_S = 10.0
#: How long an ``endpoint: down`` fault keeps the endpoint down unless brought ``up``.
DOWN_S = 3600.0


class HttpPath(TransportPath):
    """A mock endpoint on 127.0.0.1 (port 0) and an HTTP transport with its outbox under ``outbox_dir``."""

    kind = "http"

    def __init__(self, outbox_dir: Path, notify: Notify, *, seed: int = 0) -> None:
        super().__init__(notify)
        self.outbox_dir = outbox_dir
        self.seed = seed
        #: how many of the endpoint's received messages the remediator has seen
        self.cursor = 0
        self.down = False
        self._endpoint: MockEndpoint | None = None
        self._transport: HttpTransport | None = None

    @property
    def transport(self) -> HttpTransport:
        if self._transport is None:
            raise ScenarioError("the HTTP transport is not open")
        return self._transport

    @property
    def endpoint(self) -> MockEndpoint | None:
        return self._endpoint

    def _open_endpoint(self) -> MockEndpoint:
        if self._endpoint is None:
            raise ScenarioError("the mock endpoint is not running")
        return self._endpoint

    async def open(self) -> None:
        from pytest_iris.transport.endpoint.mock import MockEndpoint
        from pytest_iris.transport.http import HttpTransport
        from pytest_iris.transport.settings import RetryPolicy

        endpoint = MockEndpoint(seed=self.seed)
        endpoint.start()
        self._endpoint = endpoint
        try:
            transport = HttpTransport(
                endpoint.url,
                outbox_dir=self.outbox_dir,
                timeout_s=2.0,
                retry=RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.05, seed=self.seed),
                poll_interval_s=0.01,
            )
            await transport.open()
        except BaseException:
            endpoint.stop()
            self._endpoint = None
            raise
        self._transport = transport

    async def close(self) -> None:
        try:
            await super().close()
            if self._transport is not None:
                transport, self._transport = self._transport, None
                await transport.aclose()
        finally:
            if self._endpoint is not None:
                endpoint, self._endpoint = self._endpoint, None
                endpoint.stop()

    async def deliver(self, new: list[IRISMessage]) -> list[IRISMessage]:
        """Publish the new entries; return what the endpoint received since the last call."""
        transport, endpoint = self.transport, self._open_endpoint()
        self.published += len(new)
        outboxed = 0
        for message in new:
            if not await transport.publish(message):
                outboxed += 1
        if outboxed:
            self.notify(
                f"endpoint unreachable: {outboxed} message(s) kept in the outbox "
                f"({len(transport.outbox)} waiting)"
            )
        if not self.down and len(transport.outbox):
            await transport.drain(timeout_s=WAIT_S)
            self.notify("outbox drained to the endpoint")
        received = endpoint.received
        fresh = received[self.cursor :]
        self.cursor = len(received)
        return fresh

    def send(self, command: RemediationCommand) -> str:
        """Queue the command on the endpoint, where the transport polls for commands."""
        endpoint = self._open_endpoint()
        endpoint.queue_command(command)
        return f"queued on {endpoint.url}"

    async def set_endpoint(self, down: bool) -> None:
        """Take the endpoint down (every connection refused) or bring it back."""
        endpoint = self._open_endpoint()
        self.down = down
        if down:
            endpoint.go_down(DOWN_S)
        else:
            endpoint.faults.down_for(0)

    def endpoint_counts(self) -> EndpointCounts:
        endpoint = self._open_endpoint()
        return EndpointCounts(
            published=self.published,
            received=len(endpoint.received),
            duplicates=endpoint.duplicates,
            outbox=len(self.transport.outbox),
        )
