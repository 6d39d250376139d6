"""Assertions about what a remediation did, with failures that say what happened instead.

Exposed through :mod:`pytest_iris.testing` and used by the
``@pytest.mark.iris_expect_remediation`` marker.
"""

from __future__ import annotations

from typing import Any

from pytest_iris.chaos import checks
from pytest_iris.chaos.journal import Journal
from pytest_iris.chaos.schema import Bound, ToolCall
from pytest_iris.models import RemediationCommand, ToolResult

Calls = list[tuple[float, RemediationCommand, ToolResult | None]]


def _calls_text(calls: Calls) -> str:
    if not calls:
        return "  (no tool call was made)"
    return "\n".join(f"  {checks.call_text(t, command, result)}" for t, command, result in calls)


def assert_tool_called(
    calls: Calls, tool: str, action: str | None = None, status: str | None = None, **parameters: Any
) -> RemediationCommand:
    """The first call matching ``tool``/``action``/``status`` and a subset of ``parameters``."""
    want = ToolCall.model_validate(
        {"tool": tool, "action": action, "status": status, "parameters": parameters}
    )
    for _, command, result in calls:
        if checks.command_matches(want, command, result):
            return command
    raise AssertionError(
        f"expected a tool call {want.describe()}; calls made:\n{_calls_text(calls)}"
    )


def assert_scenario_passed(journal: Journal) -> None:
    """Fail with the scenario's failures and its summary unless it passed."""
    if not journal.passed:
        from pytest_iris.chaos.journal import summary_lines

        raise AssertionError(
            f"scenario {journal.scenario!r} {journal.status} with remediator "
            f"{journal.remediator!r}:\n"
            + "\n".join(f"  - {f}" for f in journal.failures)
            + "\n"
            + "\n".join(summary_lines(journal))
        )


def assert_remediation(
    harness: Any,
    tool: str,
    parameter: str | None = None,
    *,
    value: Any = None,
    min: float | None = None,
    max: float | None = None,
    action: str | None = None,
    status: str | None = "success",
    restarted: bool | None = None,
    **parameters: Any,
) -> None:
    """Check, on a :class:`~pytest_iris.chaos.harness.ChaosHarness`, what ``tool`` did.

    ``parameter`` (``kernel.shmmax``, ``config.locksiz``) is checked on the
    host as it is now: it must have changed and meet ``value``/``min``/``max``.
    For ``tool="restart"``, ``restarted`` says whether the instance's control
    process must have been replaced. Without those, a matching successful
    call is enough.
    """
    calls: Calls = harness.calls
    host = harness.host
    if tool == "restart" and restarted is not None:
        control_now = (
            (host.pids().get("control") or [None])[0] if host.status() == "running" else None
        )
        was = harness.before.get("control")
        happened = control_now is not None and control_now != was
        if happened != restarted:
            said = "was restarted" if happened else "was not restarted"
            raise AssertionError(
                f"expected the instance {'to be' if restarted else 'not to be'} restarted; it {said} "
                f"(control process before {was}, now {control_now}, status {host.status()}); "
                f"calls made:\n{_calls_text(calls)}"
            )
        return
    if parameter is not None:
        now, before = _value_now(harness, tool, parameter)
        bound = (
            Bound(min=min, max=max, equals=value)
            if (min, max, value) != (None, None, None)
            else None
        )
        problem = None
        if str(now) == str(before):
            problem = f"{parameter} still holds {now!r}"
        elif bound is not None:
            problem = checks.bound_problem(parameter, now, bound)
        if problem:
            raise AssertionError(
                f"expected {tool} to change {parameter}: {problem} (was {before!r}); "
                f"calls made:\n{_calls_text(calls)}"
            )
        return
    assert_tool_called(calls, tool, action, status, **parameters)


def _value_now(harness: Any, tool: str, parameter: str) -> tuple[str, str]:
    """The parameter's current value on the host and its value in the scenario's start."""
    host = harness.host
    start = harness.scenario.host
    if tool == "kernel":
        now = host.read_sysctl(parameter).strip()
        before = harness.runner.kernel_at_start.get(parameter, "")
        return now, before
    if tool == "cpf":
        from pytest_iris.tools.cpf import CpfFile

        section, _, key = parameter.rpartition(".")
        section = section or "config"
        now = CpfFile.read(host.cpf_path).get(section, key) or ""
        before = harness.runner.cpf_at_start.get(
            (section, key), str(start.cpf.get(section, {}).get(key, ""))
        )
        return now, before
    raise AssertionError(
        f"iris_expect_remediation: parameter {parameter!r} needs tool 'kernel' or 'cpf'"
    )
