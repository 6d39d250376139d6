"""The models every stage shares: remediation commands and tool results.

The log message model (:class:`IRISMessage`, :class:`Severity`) lives in
:mod:`pytest_iris.log`, the one package that formats and parses a line; it
is re-exported here for the stages that pass messages along.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pytest_iris.log.model import IRISMessage, Severity

__all__ = [
    "Change",
    "IRISMessage",
    "RemediationCommand",
    "Severity",
    "ToolResult",
    "ToolStatus",
]


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
