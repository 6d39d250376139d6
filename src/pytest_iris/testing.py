"""Helpers for tests of code that uses pytest-iris: capture and assert events.

Sections, one concern each (others add theirs below, under a heading):

- structlog events: :func:`capture_events` and :class:`CapturedEvents`.
- chaos: :func:`assert_remediation`, :func:`assert_tool_called`, :func:`assert_scenario_passed`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

# -- structlog events ----------------------------------------------------------


class CapturedEvents(list[dict[str, Any]]):
    """The events logged while a :func:`capture_events` block ran, in order."""

    def named(self, event: str) -> list[dict[str, Any]]:
        """Every event whose name is ``event``."""
        return [e for e in self if e.get("event") == event]

    def trace_ids(self) -> set[str]:
        """The distinct trace ids the events carried."""
        return {str(e["trace_id"]) for e in self if e.get("trace_id")}

    def assert_event(self, event: str, **fields: Any) -> dict[str, Any]:
        """The first event named ``event`` whose fields include ``fields``.

        Fails with the list of events that were logged, so a missing event can
        be told apart from one with a different value.
        """
        for candidate in self.named(event):
            if all(candidate.get(k) == v for k, v in fields.items()):
                return candidate
        seen = "\n".join(
            f"  {e.get('event')}: " + ", ".join(f"{k}={v!r}" for k, v in e.items() if k != "event")
            for e in self
        )
        wanted = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        raise AssertionError(
            f"no event {event!r} with {wanted or 'any fields'}; "
            f"events logged:\n{seen or '  (none)'}"
        )

    def assert_no_event(self, event: str) -> None:
        """Fail if any event named ``event`` was logged."""
        found = self.named(event)
        if found:
            raise AssertionError(f"unexpected event {event!r}: {found[0]!r}")

    def assert_one_trace(self) -> str:
        """Every event carried the same trace id; returns it."""
        ids = self.trace_ids()
        if len(ids) != 1 or any(not e.get("trace_id") for e in self):
            raise AssertionError(
                f"expected one trace id across {len(self)} events, got {sorted(ids)}"
            )
        return ids.pop()


@contextlib.contextmanager
def capture_events() -> Iterator[CapturedEvents]:
    """Collect every pytest-iris event (any level, any thread) logged in the block."""
    from pytest_iris import logging as iris_logging

    events = CapturedEvents()
    with iris_logging._lock:
        iris_logging._captures.append(events)
    try:
        yield events
    finally:
        with iris_logging._lock:
            # by identity: two captures holding equal events compare equal
            iris_logging._captures[:] = [c for c in iris_logging._captures if c is not events]


# -- chaos: what a remediation did ----------------------------------------------


def assert_remediation(
    harness: Any, tool: str, parameter: str | None = None, **expected: Any
) -> None:
    """What ``@pytest.mark.iris_expect_remediation`` checks (see :mod:`pytest_iris.chaos.assertions`)."""
    from pytest_iris.chaos import assertions

    assertions.assert_remediation(harness, tool, parameter, **expected)


def assert_tool_called(calls: Any, tool: str, action: str | None = None, **expected: Any) -> Any:
    """The first recorded call of ``tool`` (``action``, ``status``, parameters subset); fails listing the calls made."""
    from pytest_iris.chaos import assertions

    return assertions.assert_tool_called(calls, tool, action, **expected)


def assert_scenario_passed(journal: Any) -> None:
    """Fail with the scenario's failures and summary unless its journal says it passed."""
    from pytest_iris.chaos import assertions

    assertions.assert_scenario_passed(journal)
