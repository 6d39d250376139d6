"""Assertions about what a remediation did, with failures that say what happened instead.

Exposed through :mod:`pytest_iris.testing` and used by the
``@pytest.mark.iris_expect_remediation`` marker.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def on_host(calls: Calls, root: str) -> Calls:
    """``calls`` with the results' paths as seen on the host (as the journal's result lines)."""
    return [
        (t, c, r.model_copy(update={"message": r.message.replace(root, "")}) if r else None)
        for t, c, r in calls
    ]


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
        from pytest_iris.chaos.journal import summary_lines, with_remediator

        raise AssertionError(
            f"scenario {journal.scenario!r} {journal.status} {with_remediator(journal)}:\n"
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
    host = harness.host
    calls = on_host(harness.calls, str(host.root))
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


#: the keywords of ``@pytest.mark.iris_expect_remediation`` besides a tool call's parameters
MARKER_KEYWORDS = ("tool", "parameter", "value", "min", "max", "action", "status", "restarted")
_STATUSES = ("success", "failure", "partial")


def remediation_marker_problem(
    args: tuple[Any, ...], kwargs: dict[str, Any], tools: Any
) -> str | None:
    """What is wrong with an ``iris_expect_remediation(...)`` marker (None when it is right).

    ``tools`` are the registered tool names. Checked before the test runs,
    so a typo says so instead of failing later with a puzzling value.
    """
    from pytest_iris.sandbox.snapshot import KERNEL_KEYS
    from pytest_iris.tools.actions import declared_actions

    if len(args) > 2:
        return f"takes at most 2 positional arguments (tool, parameter), got {len(args)}"
    given = dict(zip(("tool", "parameter"), args, strict=False))
    for key in given:
        if key in kwargs:
            return f"{key!r} given twice (positionally and as a keyword)"
    given.update(kwargs)
    tool = given.get("tool")
    known = sorted(tools)
    if tool is None:
        return f"needs tool=... (one of {', '.join(known)})"
    if tool not in tools:
        return f"tool={tool!r} is not a registered tool (one of {', '.join(known)})"
    parameter, value = given.get("parameter"), given.get("value")
    low, high = given.get("min"), given.get("max")
    status = given.get("status", "success")
    if status is not None and status not in _STATUSES:
        return f"status={status!r} is not one of {', '.join(_STATUSES)}"
    if value is not None and (low is not None or high is not None):
        return (
            f"value={value!r} contradicts min/max (value fixes the result, min/max bound it; "
            "give one or the other)"
        )
    for name, bound in (("min", low), ("max", high)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            return f"{name}={bound!r} is not a number"
    if low is not None and high is not None and low > high:
        return f"min={checks.cpf_number(low)} is greater than max={checks.cpf_number(high)}: nothing can satisfy both"
    if given.get("restarted") is not None and tool != "restart":
        return f"restarted=... goes with tool='restart', not tool={tool!r}"
    if parameter is None:
        if (value, low, high) != (None, None, None):
            return "value/min/max need parameter=... (the kernel key or CPF parameter they bound)"
    elif tool == "kernel":
        if parameter not in KERNEL_KEYS:
            return f"parameter={parameter!r} is not a kernel key (one of {', '.join(KERNEL_KEYS)})"
    elif tool == "cpf":
        from pytest_iris.errors import ValidationError
        from pytest_iris.tools.cpf.names import resolve

        try:
            resolve(str(parameter))
        except ValidationError as error:
            return f"parameter={parameter!r}: {error}"
    else:
        return f"parameter=... goes with tool='kernel' or tool='cpf', not tool={tool!r}"
    extra = {k: v for k, v in given.items() if k not in MARKER_KEYWORDS}
    if extra and parameter is not None:
        return (
            f"unknown keyword(s) {', '.join(sorted(extra))} beside parameter=...; "
            f"it takes {', '.join(MARKER_KEYWORDS)}"
        )
    action = given.get("action")
    declared = declared_actions(tools[tool]) if isinstance(tools, Mapping) else None
    schemas = dict(declared or {})
    actions = sorted(schemas)
    if action is not None and actions and action not in actions:
        return f"action={action!r} is not an action of {tool} (one of {', '.join(actions)})"
    accepted = sorted(
        {name for a, schema in schemas.items() if action in (None, a) for name in schema}
    )
    unknown = sorted(set(extra) - set(accepted))
    if actions and unknown:
        return (
            f"unknown keyword(s) {', '.join(unknown)}: {tool} calls take "
            f"{', '.join(accepted) or 'no parameters'}, and the marker takes "
            f"{', '.join(MARKER_KEYWORDS)}"
        )
    return None
