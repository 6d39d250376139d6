"""Building :class:`~pytest_iris.models.ToolResult` values the same way in every tool.

A :class:`ResultBuilder` is started when a tool call starts: it takes the
trace id and the start time then, collects changes and confirming
messages.log lines as the call goes, and stamps the duration when the call
finishes, whatever the outcome.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from pytest_iris.models import Change, ToolResult, ToolStatus
from pytest_iris.tracing import current_trace_id, new_trace_id, trace

P = ParamSpec("P")
R = TypeVar("R")


def traced(method: Callable[P, R]) -> Callable[P, R]:
    """Run a tool call in the caller's trace, or in a new one that ends with the call.

    So a call made outside any trace logs its events and returns its result
    under one id, and leaves no id behind in the caller's context.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if current_trace_id() is not None:
            return method(*args, **kwargs)
        with trace():
            return method(*args, **kwargs)

    return wrapper


class ResultBuilder:
    """Collects what one tool call did and turns it into a ``ToolResult``."""

    def __init__(self, tool: str, action: str, *, dry_run: bool) -> None:
        self.tool = tool
        self.action = action
        self.dry_run = dry_run
        self.trace_id = current_trace_id() or new_trace_id()
        self.changes: list[Change] = []
        self.confirmations: list[str] = []
        self.details: dict[str, Any] = {}
        self._started = time.monotonic()

    def change(
        self, target: str, before: Any, after: Any, *, applied: bool, reason: str = ""
    ) -> Change:
        """Record one change (``applied=False``: planned in a dry run, or not reached)."""
        item = Change(target=target, before=before, after=after, applied=applied, reason=reason)
        self.changes.append(item)
        return item

    def confirm(self, *lines: str) -> None:
        """Record messages.log (or command output) lines that confirm the outcome."""
        self.confirmations.extend(lines)

    def finish(self, status: ToolStatus, message: str) -> ToolResult:
        return ToolResult(
            tool=self.tool,
            action=self.action,
            status=status,
            changes=tuple(self.changes),
            confirmations=tuple(self.confirmations),
            message=message,
            duration_s=round(time.monotonic() - self._started, 6),
            trace_id=self.trace_id,
            dry_run=self.dry_run,
            details=dict(self.details),
        )

    def success(self, message: str) -> ToolResult:
        return self.finish(ToolStatus.SUCCESS, message)

    def partial(self, message: str) -> ToolResult:
        return self.finish(ToolStatus.PARTIAL, message)

    def unfinished(self, message: str) -> ToolResult:
        """The goal was not reached: PARTIAL if some change was applied, else FAILURE."""
        if any(change.applied for change in self.changes):
            return self.partial(message)
        return self.failure(message)

    def failure(self, message: str, error: BaseException | None = None) -> ToolResult:
        if error is not None:
            self.details.setdefault("error", type(error).__name__)
        return self.finish(ToolStatus.FAILURE, message)


def failure_result(
    tool: str,
    action: str,
    message: str,
    *,
    error: BaseException | None = None,
    dry_run: bool = True,
    duration_s: float = 0.0,
    details: dict[str, Any] | None = None,
) -> ToolResult:
    """A failure ``ToolResult`` for a call that changed nothing (e.g. rejected input)."""
    extra = dict(details or {})
    if error is not None:
        extra.setdefault("error", type(error).__name__)
    return ToolResult(
        tool=tool,
        action=action,
        status=ToolStatus.FAILURE,
        message=message,
        duration_s=duration_s,
        trace_id=current_trace_id() or new_trace_id(),
        dry_run=dry_run,
        details=extra,
    )
