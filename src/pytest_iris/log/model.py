"""The log message model: one entry of messages.log.

One message model runs through generation, transports and tools. The grammar
rules that decide what is *valid* live in :mod:`pytest_iris.log.grammar`; the
model only enforces them so that ``parse(format(m)) == m`` holds for every
message that can be constructed.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pytest_iris.log import grammar
from pytest_iris.log.severity import Severity

__all__ = ["IRISMessage", "Severity"]


class IRISMessage(BaseModel):
    """One entry of messages.log: a stamped line plus its continuation lines.

    ``category`` is ``None`` for Caché-format lines, which have no
    ``[Category]`` field. ``continuation`` holds the unstamped lines that
    belong to the entry (the startup banner, indented wrap lines, the second
    line of the journaling system message), without their line breaks. A WIJ
    recovery block is not part of any entry: the reader returns it as a
    :class:`~pytest_iris.log.reader.LogBlock`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timestamp: datetime
    pid: int = Field(ge=0)
    severity: Severity
    category: str | None = None
    text: str = ""
    continuation: tuple[str, ...] = ()

    @field_validator("timestamp")
    @classmethod
    def _whole_milliseconds(cls, value: datetime) -> datetime:
        problem = grammar.timestamp_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _round_trips(self) -> IRISMessage:
        problem = grammar.message_problem(self.category, self.text, self.continuation)
        if problem:
            raise ValueError(problem)
        return self

    def format(self) -> str:
        """The entry as it appears in messages.log, lines joined by ``\\n``."""
        return grammar.format_message(self)

    @property
    def header(self) -> str:
        """The stamped first line alone."""
        return grammar.format_header(self)
