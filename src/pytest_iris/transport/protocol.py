"""The one interface every transport offers (see the design's contracts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from pytest_iris.models import IRISMessage, RemediationCommand


@runtime_checkable
class MessageTransport(Protocol):
    """Publishes messages and consumes remediation commands.

    ``publish`` returns True when the message reached its destination and
    False when it could not be delivered now but is kept (durably) for later
    delivery; it raises :class:`~pytest_iris.errors.TransportError` when the
    message can never be delivered (rejected as invalid, or nowhere to keep it).
    """

    async def publish(self, message: IRISMessage) -> bool: ...

    def consume(self) -> AsyncIterator[RemediationCommand]: ...
