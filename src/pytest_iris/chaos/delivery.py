"""How a scenario's messages reach the remediator and its commands reach the tools.

One class per ``transport:`` of a scenario, each owning its own state and
reporting what the runner should journal through a ``notify`` callback, so
the runner orchestrates without knowing a path's insides and a path never
touches the runner:

- :class:`DirectPath` (``direct``): the remediator sees every new entry; its
  commands go straight to the tools.
- :class:`TransportPath` (``file``, ``http`` or any transport a plugin
  registers with ``pytest_iris_add_transports``): built by name from the
  registry (:mod:`~pytest_iris.chaos.paths`), it publishes every entry and
  takes each command back through the transport's ``consume()``; the
  remediator sits at the transport's :class:`FarEnd` (the files for
  ``file``, :mod:`~pytest_iris.chaos._file`; the mock endpoint for ``http``,
  :mod:`~pytest_iris.chaos._http`; the transport itself for a plugin's).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pytest_iris.errors import ScenarioError, TransportError
from pytest_iris.models import IRISMessage, RemediationCommand
from pytest_iris.transport.protocol import MessageTransport

if TYPE_CHECKING:
    from pytest_iris.transport.endpoint.mock import MockEndpoint

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


@runtime_checkable
class FarEnd(Protocol):
    """The far end of a transport in a scenario: where the remediator sits.

    ``arrived()`` gives the messages that reached it since the last call, in
    order; ``send(command)`` puts a remediation command where the transport's
    ``consume()`` picks it up, and says where. A plugin's transport plays in
    a scenario when it (or the far end its path builds) offers these two.
    """

    def arrived(self) -> list[IRISMessage]: ...

    def send(self, command: RemediationCommand) -> str: ...


#: builds the transport when the path opens (the registry's factory, bound to its options)
Build = Callable[[], "MessageTransport"]


class TransportPath(DirectPath):
    """A path over any :class:`MessageTransport` the registry builds by name.

    Every new messages.log entry goes through ``publish()``; the remediator
    sees what :meth:`far_end` says arrived; its commands are sent from the far
    end and reach the tools through the transport's ``consume()``. A publish
    that returns False (kept for later, e.g. in an outbox) is journaled.
    """

    def __init__(self, kind: str, build: Build, notify: Notify) -> None:
        super().__init__(notify)
        self.kind = kind
        self._build = build
        self._transport: MessageTransport | None = None
        self._far: FarEnd | None = None
        self._stack = contextlib.AsyncExitStack()
        self._commands: AsyncIterator[RemediationCommand] | None = None

    @property
    def transport(self) -> MessageTransport:
        if self._transport is None:
            raise ScenarioError(f"the {self.kind} transport is not open")
        return self._transport

    async def open(self) -> None:
        transport = self._build()
        if not isinstance(transport, MessageTransport):
            raise ScenarioError(
                f"transport {self.kind!r} built a {type(transport).__name__}, which has no "
                "publish(message) and consume() (the MessageTransport protocol)"
            )
        self._stack = contextlib.AsyncExitStack()
        if hasattr(transport, "__aenter__"):
            await self._stack.enter_async_context(transport)  # type: ignore[arg-type]
        self._transport = transport
        try:
            self._far = self.far_end(transport)
        except BaseException:
            await self.close()
            raise

    def far_end(self, transport: MessageTransport) -> FarEnd:
        """The remediator's side of ``transport`` (the transport itself when it offers one)."""
        if isinstance(transport, FarEnd):
            return transport
        raise ScenarioError(
            f"transport {self.kind!r} ({type(transport).__name__}) cannot carry a scenario: "
            "a chaos path needs its far end, arrived() -> messages and send(command) -> str "
            "(pytest_iris.chaos.delivery.FarEnd)"
        )

    async def close(self) -> None:
        try:
            if self._commands is not None:
                closing = getattr(self._commands, "aclose", None)
                self._commands = None
                if closing is not None:
                    await closing()
        finally:
            self._transport = self._far = None
            await self._stack.aclose()

    async def deliver(self, new: list[IRISMessage]) -> list[IRISMessage]:
        """Publish the new entries; return what reached the far end since the last call."""
        transport = self.transport
        self.published += len(new)
        kept = 0
        for message in new:
            if not await transport.publish(message):
                kept += 1
        if kept:
            self.notify(self.kept_note(kept))
        await self.settle()
        if self._far is None:
            raise ScenarioError(f"the {self.kind} transport is not open")
        return self._far.arrived()

    def kept_note(self, kept: int) -> str:
        """What the journal says when ``kept`` publishes were not delivered now."""
        return f"{kept} message(s) not delivered now: kept by the {self.kind} transport"

    async def settle(self) -> None:
        """After publishing: let kept messages go out when they can (an outbox drains)."""

    def send(self, command: RemediationCommand) -> str:
        """Send ``command`` from the far end, the way a remediator elsewhere would."""
        if self._far is None:
            raise ScenarioError(f"the {self.kind} transport is not open")
        return self._far.send(command)

    async def through(self, command: RemediationCommand) -> RemediationCommand:
        where = self.send(command)
        if self._commands is None:
            self._commands = aiter(self.transport.consume())
        try:
            return await asyncio.wait_for(anext(self._commands), timeout=COMMAND_WAIT_S)
        except (TimeoutError, StopAsyncIteration) as error:
            raise TransportError(
                f"command {command.id} was {where} but not consumed within {COMMAND_WAIT_S:g}s"
            ) from error
