"""The wire form of a published message: an :class:`IRISMessage` plus an id.

``IRISMessage`` is shared by every part and has no identity of its own, so a
transport wraps each message in a :class:`MessageEnvelope`. The id is the
idempotency key: a receiver that sees an id twice keeps the first copy only,
which is what makes retries and outbox redelivery safe.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from pytest_iris.log.model import IRISMessage
from pytest_iris.tracing import current_trace_id

#: ids are 1-128 characters of letters, digits, ``-``, ``_``, ``.`` and ``:``
ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


class MessageEnvelope(BaseModel):
    """One message as a transport sends it: id, trace id, acceptance time, message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, pattern=ID_PATTERN)
    trace_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    #: when the transport accepted the message (Unix seconds); retention counts from here
    created: float = Field(default_factory=time.time, ge=0)
    message: IRISMessage


class MessageBatch(BaseModel):
    """The body of a batched POST: several envelopes, delivered together or not at all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: list[MessageEnvelope] = Field(min_length=1)


_ENVELOPES: TypeAdapter[list[MessageEnvelope]] = TypeAdapter(list[MessageEnvelope])


def wrap(message: IRISMessage, *, message_id: str | None = None) -> MessageEnvelope:
    """A new envelope for ``message`` carrying the current trace id."""
    if message_id is None:
        return MessageEnvelope(message=message, trace_id=current_trace_id())
    return MessageEnvelope(id=message_id, message=message, trace_id=current_trace_id())


def encode_one(envelope: MessageEnvelope) -> bytes:
    """The JSON body of a single POST."""
    return envelope.model_dump_json().encode()


def encode_batch(envelopes: Sequence[MessageEnvelope]) -> bytes:
    """The JSON body of a batched POST (``{"messages": [...]}``)."""
    return b'{"messages":' + _ENVELOPES.dump_json(list(envelopes)) + b"}"
