"""The ``transport: http`` path of a scenario: messages and commands cross a real endpoint.

Every new messages.log entry is published by the ``http`` transport the
registry builds (the project's :class:`~pytest_iris.transport.http.HttpTransport`,
outbox and all) to a
:class:`~pytest_iris.transport.endpoint.mock.MockEndpoint` on 127.0.0.1; the
remediator sits behind the endpoint and sees only what the endpoint
received. Its commands are queued on the endpoint and reach the tools by
the transport's ``consume()``. Taking the endpoint down makes publishes go
to the outbox; bringing it up lets the outbox drain, and the remediator then
sees the incidents late, in order, each once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pytest_iris.chaos.delivery import EndpointCounts, FarEnd, Notify, TransportPath
from pytest_iris.errors import ScenarioError
from pytest_iris.models import IRISMessage, RemediationCommand
from pytest_iris.transport.protocol import MessageTransport

if TYPE_CHECKING:
    from pytest_iris.transport.endpoint.mock import MockEndpoint

#: How long (wall seconds) to wait for a redelivered outbox.
WAIT_S = 10.0
#: How long an ``endpoint: down`` fault keeps the endpoint down unless brought ``up``.
DOWN_S = 3600.0


class HttpPath(TransportPath):
    """A mock endpoint on 127.0.0.1 (port 0) and the ``http`` transport the registry builds to it.

    ``build(url)`` builds the transport once the endpoint runs; the endpoint
    is the far end: what it received is what the remediator sees, and the
    commands are queued on it.
    """

    def __init__(
        self, build: Callable[[str], MessageTransport], notify: Notify, *, seed: int = 0
    ) -> None:
        super().__init__("http", self._build_to_endpoint, notify)
        self._build_for = build
        self.seed = seed
        #: how many of the endpoint's received messages the remediator has seen
        self.cursor = 0
        self.down = False
        self._endpoint: MockEndpoint | None = None

    @property
    def endpoint(self) -> MockEndpoint | None:
        return self._endpoint

    def _open_endpoint(self) -> MockEndpoint:
        if self._endpoint is None:
            raise ScenarioError("the mock endpoint is not running")
        return self._endpoint

    def _build_to_endpoint(self) -> MessageTransport:
        return self._build_for(self._open_endpoint().url)

    async def open(self) -> None:
        from pytest_iris.transport.endpoint.mock import MockEndpoint

        endpoint = MockEndpoint(seed=self.seed)
        endpoint.start()
        self._endpoint = endpoint
        try:
            await super().open()
        except BaseException:
            endpoint.stop()
            self._endpoint = None
            raise

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if self._endpoint is not None:
                endpoint, self._endpoint = self._endpoint, None
                endpoint.stop()

    def far_end(self, transport: MessageTransport) -> FarEnd:
        return self

    def kept_note(self, kept: int) -> str:
        return (
            f"endpoint unreachable: {kept} message(s) kept in the outbox "
            f"({self._outboxed()} waiting)"
        )

    def _outboxed(self) -> int:
        """Messages waiting in the transport's outbox (0 for a transport without one)."""
        outbox = getattr(self.transport, "outbox", None)
        return len(outbox) if outbox is not None else 0

    async def settle(self) -> None:
        """While the endpoint is up, let the outbox drain to it."""
        drain = getattr(self.transport, "drain", None)
        if not self.down and drain is not None and self._outboxed():
            await drain(timeout_s=WAIT_S)
            self.notify("outbox drained to the endpoint")

    def arrived(self) -> list[IRISMessage]:
        """What the endpoint received since the last call."""
        received = self._open_endpoint().received
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
            outbox=self._outboxed(),
        )
