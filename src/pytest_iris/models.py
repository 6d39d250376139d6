"""The models every stage shares: log messages, remediation commands, tool results.

One message model runs through generation, transports and tools, so it lives
here and nowhere else. The grammar rules that decide what is *valid* live in
:mod:`pytest_iris.grammar`; the model only enforces them so that
``parse(format(m)) == m`` holds for every message that can be constructed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pytest_iris import grammar


class Severity(IntEnum):
    """The third field of a messages.log line: 0 info ... 3 fatal."""

    INFO = 0
    WARNING = 1
    SEVERE = 2
    FATAL = 3


class IRISMessage(BaseModel):
    """One entry of messages.log: a stamped line plus its continuation lines.

    ``category`` is ``None`` for Caché-format lines, which have no
    ``[Category]`` field. ``continuation`` holds the unstamped lines that
    belong to the entry (the startup banner, a WIJ recovery block, indented
    wrap lines), without their line breaks.
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


class RemediationCommand(BaseModel):
    """What a remediator asks a tool to do; shared by transports and tools."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    #: ``cpf``, ``kernel``, ``restart``, or a tool a plugin added through the
    #: ``pytest_iris_add_tools`` hook (the dispatcher rejects names it does not know)
    tool: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    action: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    dry_run: bool = True
    trace_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class ToolStatus(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    PARTIAL = "partial"


class Change(BaseModel):
    """One thing a tool changed (or, in a dry run, would change)."""

    model_config = ConfigDict(frozen=True)

    target: str
    before: Any = None
    after: Any = None
    applied: bool = False
    reason: str = ""


class ToolResult(BaseModel):
    """What every tool call returns: outcome, changes, evidence, timing."""

    model_config = ConfigDict(frozen=True)

    tool: str
    action: str
    status: ToolStatus
    changes: tuple[Change, ...] = ()
    confirmations: tuple[str, ...] = ()
    message: str = ""
    duration_s: float = 0.0
    trace_id: str | None = None
    dry_run: bool = True
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is ToolStatus.SUCCESS


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON schemas of the public models, by model name."""
    return {
        model.__name__: model.model_json_schema()
        for model in (IRISMessage, RemediationCommand, ToolResult)
    }
