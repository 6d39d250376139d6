"""How a scenario's messages reach the remediator and its commands reach the tools.

One class per ``transport:`` of a scenario, each owning its own state and
reporting what the runner should journal through a ``notify`` callback, so
the runner orchestrates without knowing a path's insides and a path never
touches the runner:

- :class:`DirectPath` (``direct``): the remediator sees every new entry; its
  commands go straight to the tools.
- ``file`` (:mod:`~pytest_iris.chaos._file`) and ``http``
  (:mod:`~pytest_iris.chaos._http`): :class:`TransportPath` subclasses that
  publish through the project's transports and take each command back
  through the transport's ``consume()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from pytest_iris.errors import ScenarioError, TransportError
from pytest_iris.models import IRISMessage, RemediationCommand

if TYPE_CHECKING:
    from pytest_iris.transport.endpoint.mock import MockEndpoint
    from pytest_iris.transport.protocol import MessageTransport

#: what a path wants journaled as a note (``"outbox drained to the endpoint"``)
Notify = Callable[[str], None]

#: Wall seconds to wait for a command to come back through a transport's ``consume()``.
COMMAND_WAIT_S = 10.0


@dataclass(frozen=True)
class EndpointCounts:
    """What crossed an HTTP path, for the ``expect.endpoint`` checks."""

    published: int
    received: int
    duplicates: int
    outbox: int


class DirectPath:
    """``transport: direct``: no transport; messages and commands are handed over in-process."""

    kind = "direct"

    def __init__(self, notify: Notify) -> None:
        self.notify = notify
        #: messages handed to :meth:`deliver` so far
        self.published = 0

    async def __aenter__(self) -> DirectPath:
        await self.open()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Start whatever carries the messages (nothing here)."""

    async def close(self) -> None:
        """Stop it again."""

    @property
    def endpoint(self) -> MockEndpoint | None:
        """The mock endpoint of an HTTP path (None for the others)."""
        return None

    async def deliver(self, new: list[IRISMessage]) -> list[IRISMessage]:
        """Messages that reach the remediator now, given the entries new in messages.log."""
        self.published += len(new)
        return new

    async def through(self, command: RemediationCommand) -> RemediationCommand:
        """The command as it reaches the tools."""
        return command

    async def set_endpoint(self, down: bool) -> None:
        """An ``endpoint: down|up`` fault."""
        raise ScenarioError("endpoint faults need 'transport: http'")

    def endpoint_counts(self) -> EndpointCounts | None:
        """Counts for ``expect.endpoint`` (None: this path has no endpoint)."""
        return None


class TransportPath(DirectPath):
    """A path over a :class:`MessageTransport`: commands come back through its ``consume()``."""

    def __init__(self, notify: Notify) -> None:
        super().__init__(notify)
        self._commands: AsyncIterator[RemediationCommand] | None = None

    @property
    def transport(self) -> MessageTransport:
        raise NotImplementedError

    def send(self, command: RemediationCommand) -> str:
        """Send ``command`` the way a remediator elsewhere would; returns where it went."""
        raise NotImplementedError

    async def close(self) -> None:
        if self._commands is not None:
            closing = getattr(self._commands, "aclose", None)
            self._commands = None
            if closing is not None:
                await closing()

    async def through(self, command: RemediationCommand) -> RemediationCommand:
        where = self.send(command)
        if self._commands is None:
            self._commands = aiter(self.transport.consume())
        try:
            return await asyncio.wait_for(anext(self._commands), timeout=COMMAND_WAIT_S)
        except TimeoutError as error:
            raise TransportError(
                f"command {command.id} was {where} but not consumed within {COMMAND_WAIT_S:g}s"
            ) from error
