"""Steady-state probes and expectation checks, each failure said in words.

Every check looks at the sandbox host as a tool would (procfs, the CPF,
messages.log, the process table) and at the journal of what the remediator
did; a failed check returns one sentence naming what was expected, what was
found, and the command that caused it when one did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pytest_iris.chaos.delivery import EndpointCounts
from pytest_iris.chaos.journal import Journal, Probe
from pytest_iris.chaos.schema import (
    Bound,
    EndpointExpectation,
    Expect,
    MessageMatch,
    SteadyState,
    ToolCall,
)
from pytest_iris.models import IRISMessage, RemediationCommand, ToolResult

#: roles without which logons hang (the control process, write daemon, superserver)
_SERVING_ROLES = ("control", "write_daemon", "superserver")


def probe_steady_state(
    steady: SteadyState, host: Any, messages: list[IRISMessage], now: datetime
) -> list[Probe]:
    probes: list[Probe] = []
    if steady.instance is not None:
        status = host.status()
        probes.append(
            Probe(
                f"instance {steady.instance}",
                status == steady.instance,
                f"instance {host.instance_name} is {status}",
            )
        )
    if steady.quiet is not None:
        q = steady.quiet
        since = now - timedelta(seconds=q.within_s)
        loud = [m for m in messages if m.timestamp >= since and m.severity >= q.min_severity]
        detail = (
            f"{len(loud)} message(s) of severity >= {q.min_severity} in the last "
            f"{q.within_s:g}s, latest: {_quote(loud[-1])}"
            if loud
            else f"no severity >= {q.min_severity} in the last {q.within_s:g}s"
        )
        probes.append(Probe(f"no severity {q.min_severity}+ in {q.within_s:g}s", not loud, detail))
    if steady.users_can_connect is not None:
        ok, detail = users_can_connect(host)
        probes.append(Probe("users can connect", ok == steady.users_can_connect, detail))
    return probes


def users_can_connect(host: Any) -> tuple[bool, str]:
    """Logons work when the instance runs with its control process, write daemon and superserver."""
    if host.status() != "running":
        return False, f"logons impossible: instance {host.instance_name} is down"
    roles = host.pids()
    missing = [role for role in _SERVING_ROLES if not roles.get(role)]
    if missing:
        return False, f"instance runs without its {', '.join(missing)} (logons hang)"
    return True, "superserver accepts logons"


def _quote(message: IRISMessage) -> str:
    """``severity 0 [Generic.Event] 'text'``: the severity named, since ``found 0 [...]``
    read as "found none" (user trial)."""
    cat = f"[{message.category}] " if message.category else ""
    return f"severity {int(message.severity)} {cat}{message.text!r}"


# -- expectations -------------------------------------------------------------


def command_matches(want: ToolCall, command: RemediationCommand, result: ToolResult | None) -> bool:
    if command.tool != want.tool:
        return False
    if want.action is not None and command.action != want.action:
        return False
    if want.dry_run is not None and command.dry_run != want.dry_run:
        return False
    for key, value in want.parameters.items():
        if key not in command.parameters or not _same(command.parameters[key], value):
            return False
    return want.status is None or (result is not None and result.status.value == want.status)


def _same(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, str) and isinstance(actual, int | float) and not isinstance(actual, bool):
        return wanted == str(actual)
    return bool(actual == wanted)


def numeric(value: Any) -> float | None:
    """A number from a tunable or CPF value; comma lists (``globals``) sum their parts."""
    text = str(value).strip()
    parts = re.split(r"[,\s]+", text) if text else []
    try:
        return float(sum(int(p) for p in parts)) if parts else None
    except ValueError:
        return None


def bound_problem(what: str, value: Any, bound: Bound) -> str | None:
    if bound.equals is not None:
        if str(value).strip() != str(bound.equals).strip():
            return f"{what}: expected {bound.equals!r}, found {value!r}"
        return None
    number = numeric(value)
    if number is None:
        return f"{what}: expected a number, found {value!r}"
    if bound.min is not None and number < bound.min:
        return f"{what}: expected at least {cpf_number(bound.min)}, found {value}"
    if bound.max is not None and number > bound.max:
        return f"{what}: expected at most {cpf_number(bound.max)}, found {value}"
    return None


def cpf_number(value: float) -> str:
    """A bound as the CPF or sysctl writes a number: ``33554432``, never ``3.35544e+07``."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def message_matches(want: MessageMatch, message: IRISMessage) -> bool:
    if want.category is not None and message.category != want.category:
        return False
    text = "\n".join((message.text, *message.continuation))
    if want.text_contains is not None and want.text_contains not in text:
        return False
    if want.text_regex is not None and not re.search(want.text_regex, text):
        return False
    if want.min_severity is not None and message.severity < want.min_severity:
        return False
    return want.max_severity is None or message.severity <= want.max_severity


def check_expectations(
    expect: Expect,
    *,
    host: Any,
    journal: Journal,
    calls: list[tuple[float, RemediationCommand, ToolResult | None]],
    messages_after: list[IRISMessage],
    before: dict[str, Any],
    kernel_now: dict[str, str],
    cpf_value: Any,
    shm: tuple[int, int] | None,
    restarts: int = 0,
) -> list[Probe]:
    """Every expectation checked, each a :class:`Probe`: its name, outcome and one sentence."""
    out: list[Probe] = []

    def check(name: str, problem: str | None, found: str) -> None:
        out.append(Probe(name, problem is None, problem or found))

    for want in expect.tool_calls:
        hits = [(t, c, r) for t, c, r in calls if command_matches(want, c, r)]
        wrong = want.count().problem(len(hits))
        problem = None
        if wrong and not hits:
            problem = f"expected a tool call {want.describe()}; made: {_calls_text(calls)}"
        elif wrong:
            problem = f"tool calls {want.describe()}: {wrong}: {_calls_text(hits)}"
        check(f"tool call {want.describe()}", problem, f"made: {_calls_text(hits)}")
    for forbidden in expect.no_tool_calls:
        hits = [(t, c, r) for t, c, r in calls if command_matches(forbidden, c, r)]
        check(
            f"no tool call {forbidden.describe()}",
            f"expected no tool call {forbidden.describe()}; made: {_calls_text(hits)}"
            if hits
            else None,
            "none made",
        )
    if expect.restarts is not None:
        wrong = expect.restarts.problem(restarts)
        check(
            "restarts",
            f"restarts of instance {host.instance_name}: {wrong}" + _because(calls, "restart")
            if wrong
            else None,
            f"{restarts} restart(s)",
        )
    for sysctl, bound in expect.kernel.items():
        value = kernel_now.get(sysctl, "")
        problem = bound_problem(sysctl, value, bound)
        check(sysctl, problem + _because(calls, "kernel") if problem else None, f"{value.strip()}")
    for section, keys in expect.cpf.items():
        for key, cpf_bound in keys.items():
            value = cpf_value(section, key)
            problem = bound_problem(f"CPF [{section}] {key}", value, cpf_bound)
            check(
                f"CPF [{section}] {key}",
                problem + _because(calls, "cpf") if problem else None,
                f"{value}",
            )
    status = host.status()
    if expect.instance is not None:
        problem = None
        if status != expect.instance:
            detail = ""
            if status == "down":
                failures = [m for m in messages_after if m.severity >= 2]
                if failures:
                    detail = f"; last severe message: {_quote(failures[-1])}"
            problem = (
                f"instance {host.instance_name}: expected {expect.instance}, found {status}{detail}"
                + _because(calls)
            )
        check(f"instance {expect.instance}", problem, f"instance {host.instance_name} is {status}")
    control_now = (host.pids().get("control") or [None])[0] if status == "running" else None
    restarted = control_now is not None and control_now != before.get("control")
    if expect.restarted is not None:
        problem = None
        if restarted != expect.restarted and restarted:
            users = before.get("users", 0)
            who = f" while {users} user(s) were connected" if users else ""
            problem = (
                f"expected the instance not to be restarted, but it was{who}: control process "
                f"{before.get('control')} replaced by {control_now}" + _because(calls, "restart")
            )
        elif restarted != expect.restarted:
            problem = (
                "expected the instance to be restarted (new control process), but it was not"
                + _because(calls, "restart")
            )
        check(
            "restarted" if expect.restarted else "not restarted",
            problem,
            f"control process {before.get('control')} -> {control_now}",
        )
    if expect.users_connected is not None:
        users = host.connections()
        check(
            f"{expect.users_connected} user(s) connected",
            f"expected {expect.users_connected} client connection(s) still established, "
            f"found {users}" + _because(calls, "restart")
            if users != expect.users_connected
            else None,
            f"{users} connected",
        )
    if expect.shm_fits is not None and shm is not None:
        need, shmmax = shm
        fits = need <= shmmax
        text = (
            f"shared memory the CPF asks for ({need // (1 << 20)}MB) "
            f"{'fits within' if fits else 'exceeds'} kernel.shmmax ({shmmax} bytes = "
            f"{shmmax // (1 << 20)}MB)"
        )
        check(
            "shared memory fits" if expect.shm_fits else "shared memory exceeds kernel.shmmax",
            text + _because(calls, "cpf", "kernel") if fits != expect.shm_fits else None,
            text,
        )
    for wanted_message in expect.messages_after:
        found = [m for m in messages_after if message_matches(wanted_message, m)]
        check(
            f"message {wanted_message.describe()}",
            None
            if found
            else f"expected a message {wanted_message.describe()} after the faults; "
            f"{len(messages_after)} message(s) were written" + _nearest(messages_after),
            f"found {_quote(found[0])}" if found else "",
        )
    for unwanted in expect.no_messages_after:
        found = [m for m in messages_after if message_matches(unwanted, m)]
        check(
            f"no message {unwanted.describe()}",
            f"expected no message {unwanted.describe()}; found {_quote(found[0])}"
            if found
            else None,
            "none written",
        )
    return out


def endpoint_problems(expected: EndpointExpectation, counts: EndpointCounts) -> list[str]:
    """Whether the endpoint holds every published message once and the outbox is empty."""
    problems: list[str] = []
    if expected.received_all and counts.received != counts.published:
        problems.append(
            f"endpoint received {counts.received} of the {counts.published} message(s) "
            f"published ({counts.duplicates} duplicate(s) dropped)"
        )
    if counts.received < expected.min_received:
        problems.append(
            f"endpoint received {counts.received} message(s), "
            f"expected at least {expected.min_received}"
        )
    if expected.outbox_empty and counts.outbox:
        problems.append(f"{counts.outbox} message(s) still in the outbox")
    return problems


def deadline_problem(time_to_remediate_s: float, within_s: float) -> str | None:
    """The remediation's last fix came after the scenario's deadline."""
    if time_to_remediate_s > within_s:
        return (
            f"remediation took {time_to_remediate_s:.1f}s of host time, "
            f"over the {within_s:g}s deadline"
        )
    return None


def _calls_text(calls: Iterable[tuple[float, RemediationCommand, ToolResult | None]]) -> str:
    out = [call_text(t, c, None) for t, c, _ in calls]
    return ", ".join(out) if out else "none"


def call_text(t: float, command: RemediationCommand, result: ToolResult | None) -> str:
    """``restart.restart(force=True) at t=6.0s -> success: ...`` (the outcome when known)."""
    outcome = f" -> {result.status.value}: {result.message}" if result is not None else ""
    return f"{describe_command(command)} at t={t:.1f}s{outcome}"


def describe_command(command: RemediationCommand) -> str:
    params = ", ".join(f"{k}={v!r}" for k, v in command.parameters.items())
    dry = " (dry run)" if command.dry_run else ""
    return f"{command.tool}.{command.action}({params}){dry}"


def _because(calls: list[tuple[float, RemediationCommand, ToolResult | None]], *tools: str) -> str:
    relevant = [(t, c, r) for t, c, r in calls if not tools or c.tool in tools]
    if not relevant:
        return f" (no {'/'.join(tools) + ' ' if tools else ''}tool call was made)"
    return f" (after {call_text(*relevant[-1])})"


def _nearest(messages: list[IRISMessage]) -> str:
    if not messages:
        return ""
    return "; last: " + _quote(messages[-1])
