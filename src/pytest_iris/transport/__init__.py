"""Transports: publish IRIS messages, consume remediation commands, lose nothing.

- :class:`MessageTransport`: the protocol every transport follows.
- :class:`FileTransport`: whole-line appends to a messages file, commands from
  a growing JSON Lines file.
- :class:`HttpTransport`: JSON POSTs with idempotency keys, retries with
  backoff and jitter, a durable :class:`Outbox` for what cannot be delivered.
- :class:`MockEndpoint`: a real HTTP receiver with fault injection, for tests.

Names load on first use: importing this package does not import httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iris._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "MessageTransport": "pytest_iris.transport.protocol",
    "MessageEnvelope": "pytest_iris.transport.envelope",
    "MessageBatch": "pytest_iris.transport.envelope",
    "FileTransport": "pytest_iris.transport.files",
    "HttpTransport": "pytest_iris.transport.http",
    "Outbox": "pytest_iris.transport.outbox",
    "MockEndpoint": "pytest_iris.transport.endpoint.mock",
    "Faults": "pytest_iris.transport.endpoint.faults",
    "TransportSettings": "pytest_iris.transport.settings",
    "RetryPolicy": "pytest_iris.transport.settings",
    "build_transport": "pytest_iris.transport.factory",
}

__all__ = [
    "Faults",
    "FileTransport",
    "HttpTransport",
    "MessageBatch",
    "MessageEnvelope",
    "MessageTransport",
    "MockEndpoint",
    "Outbox",
    "RetryPolicy",
    "TransportSettings",
    "build_transport",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from pytest_iris.transport.endpoint.faults import Faults
    from pytest_iris.transport.endpoint.mock import MockEndpoint
    from pytest_iris.transport.envelope import MessageBatch, MessageEnvelope
    from pytest_iris.transport.factory import build_transport
    from pytest_iris.transport.files import FileTransport
    from pytest_iris.transport.http import HttpTransport
    from pytest_iris.transport.outbox import Outbox
    from pytest_iris.transport.protocol import MessageTransport
    from pytest_iris.transport.settings import RetryPolicy, TransportSettings
