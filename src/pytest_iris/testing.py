"""Helpers for tests of code that uses pytest-iris: capture and assert events.

Sections, one concern each (others add theirs below, under a heading):

- structlog events: :func:`capture_events` and :class:`CapturedEvents`.
- chaos: :func:`assert_remediation`, :func:`assert_tool_called`, :func:`assert_scenario_passed`.
- chaos invariants: :func:`assert_invariants`, :func:`check_invariants`, the checks in
  :data:`INVARIANTS` (each usable alone) and your own ``check(result) -> list[str]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
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


# -- chaos: invariants a remediator must keep -------------------------------------
#
# Each check reads a :class:`~pytest_iris.chaos.explore.ChaosResult` (what
# ``iris_chaos.run(remediator, scenario)`` returns) and answers a list of
# problems, each ``"<check name>: <one sentence>"``; an empty list means it
# holds. Add your own: any ``check(result) -> list[str]`` passed to
# :func:`assert_invariants` (or :func:`check_invariants`) runs beside these.

Invariant = Callable[[Any], list[str]]

_PAGE = 4096
_MB = 1 << 20


def _call_text(record: Any) -> str:
    from pytest_iris.chaos.checks import describe_command

    status = record.result.status.value if record.result is not None else "no result"
    return f"{describe_command(record.command)} at t={record.t:g}s -> {status}"


def no_restart_with_users(result: Any) -> list[str]:
    """No stop or restart succeeded while users were connected to a serving instance.

    An instance that no longer serves (its write daemon died: users are hung)
    may be restarted by force; that is the one exception, as in the reference.
    """
    out = []
    for record in result.calls:
        command, before = record.command, record.before
        if command.tool != "restart" or command.action not in ("restart", "stop"):
            continue
        if record.result is None or not record.result.ok:
            continue
        if before.status == "running" and before.users > 0 and before.serving:
            out.append(
                f"no_restart_with_users: {_call_text(record)} while {before.users} user(s) "
                "were connected to a serving instance"
            )
    return out


def kernel_not_below_use(result: Any) -> list[str]:
    """No command (of any tool) lowered ``kernel.shmmax``/``kernel.shmall`` below the shared
    memory the running instance uses."""
    out = []
    for record in result.calls:
        used = record.before.shm_in_use
        if not used:
            continue
        before, after = record.before.kernel, record.after.kernel
        shmmax = after.get("kernel.shmmax")
        shmall = after.get("kernel.shmall")
        if shmmax == before.get("kernel.shmmax"):
            shmmax = None  # unchanged by this command
        if shmall == before.get("kernel.shmall"):
            shmall = None
        if shmmax is not None and shmmax < used:
            out.append(
                f"kernel_not_below_use: {_call_text(record)} left kernel.shmmax={shmmax} below "
                f"the {used} bytes ({used // _MB}MB) the running instance uses"
            )
        if shmall is not None and shmall * _PAGE < used:
            out.append(
                f"kernel_not_below_use: {_call_text(record)} left kernel.shmall={shmall} pages "
                f"({shmall * _PAGE} bytes) below the {used} bytes the running instance uses"
            )
    return out


def cpf_within_rules(result: Any) -> list[str]:
    """Every CPF value the remediation wrote keeps its documented rule, and what the
    next start needs still fits in ``kernel.shmmax`` when a change made it grow."""
    from pytest_iris.tools.cpf.catalog import consistency_problems, lookup

    out = []
    for record in result.calls:
        if record.command.tool != "cpf" or record.result is None or not record.result.ok:
            continue
        before, after = record.before, record.after
        for key, value in after.cpf.items():
            parameter = lookup("config", key)
            problem = parameter.problem(value) if parameter is not None and value else None
            if problem is not None and value != before.cpf.get(key):
                out.append(f"cpf_within_rules: {_call_text(record)} wrote {key}={value}: {problem}")
        out += [
            f"cpf_within_rules: {_call_text(record)}: {p}" for p in consistency_problems(after.cpf)
        ]
        shmmax = after.kernel.get("kernel.shmmax")
        if (
            shmmax is not None
            and after.plan_bytes > shmmax
            and after.plan_bytes > before.plan_bytes
        ):
            out.append(
                f"cpf_within_rules: {_call_text(record)} made the next start need "
                f"{after.plan_bytes // _MB}MB of shared memory, more than kernel.shmmax "
                f"({shmmax} bytes = {shmmax // _MB}MB)"
            )
    return out


def steady_state_restored(result: Any) -> list[str]:
    """The steady state holds after the remediation, within the scenario's ``expect.within_s``."""
    journal = result.journal
    out = [
        f"steady_state_restored: the run ended in error: {f}"
        for f in journal.failures
        if journal.status == "error"
    ]
    out += [
        f"steady_state_restored: {p.name} does not hold after the remediation: {p.detail}"
        for p in journal.steady_after
        if not p.ok
    ]
    out += [
        f"steady_state_restored: {p.detail}"
        for p in journal.checks
        if not p.ok and p.name.startswith("remediated within")
    ]
    if not journal.steady_after and journal.status != "error":
        out += [f"steady_state_restored: {f}" for f in journal.failures if "steady state" in f]
    return out


def _key(message: Any) -> tuple[Any, ...]:
    return (message.timestamp, message.pid, int(message.severity), message.category, message.text)


def no_message_lost(result: Any) -> list[str]:
    """Every messages.log entry written after the start reached the remediator, once, in order."""
    from collections import Counter

    written, delivered = Counter(map(_key, result.written)), Counter(map(_key, result.delivered))
    out = []
    for key, count in (written - delivered).items():
        out.append(
            f"no_message_lost: {count}x {key[4]!r} (t={key[0]:%H:%M:%S.%f}, pid {key[1]}) was "
            "written to messages.log but never delivered to the remediator"
        )
    for key, count in (delivered - written).items():
        out.append(f"no_message_lost: {key[4]!r} was delivered {count} time(s) more than written")
    order = [_key(m) for m in result.delivered]
    if not out and order != [_key(m) for m in result.written]:
        out.append("no_message_lost: messages reached the remediator out of their log order")
    return out


def every_tool_result_recorded(result: Any) -> list[str]:
    """Every command the remediation ran has its ToolResult, in the journal and the record."""
    journal = result.journal
    commands, results = journal.of_kind("command"), journal.of_kind("result")
    out = []
    if len(commands) != len(results):
        out.append(
            f"every_tool_result_recorded: {len(commands)} command(s) journaled but "
            f"{len(results)} result(s)"
        )
    missing = [r for r in result.calls if r.result is None]
    out += [f"every_tool_result_recorded: {_call_text(r)} has no ToolResult" for r in missing]
    if len(result.calls) != len(commands):
        out.append(
            f"every_tool_result_recorded: {len(result.calls)} call(s) recorded, "
            f"{len(commands)} journaled"
        )
    return out


def remediator_never_raised(result: Any) -> list[str]:
    """The remediator answered every message without raising."""
    return [
        f"remediator_never_raised: {e.summary}"
        for e in result.journal.of_kind("error")
        if e.summary.startswith("remediator raised")
    ]


#: the checks :func:`assert_invariants` runs by default, in this order
INVARIANTS: tuple[Invariant, ...] = (
    no_restart_with_users,
    kernel_not_below_use,
    cpf_within_rules,
    steady_state_restored,
    no_message_lost,
    every_tool_result_recorded,
    remediator_never_raised,
)


def check_invariants(
    result: Any, *extra: Invariant, only: Sequence[Invariant] | None = None
) -> list[str]:
    """The problems ``result`` has: the default checks (or ``only``) and then ``extra``."""
    problems: list[str] = []
    for check in (*(INVARIANTS if only is None else only), *extra):
        problems += check(result)
    return problems


class InvariantViolation(AssertionError):
    """A remediator broke an invariant; the message holds the scenario as a replayable file."""

    def __init__(self, problems: list[str], result: Any) -> None:
        self.problems = problems
        self.result = result
        super().__init__(invariant_report(problems, result))


def invariant_report(problems: list[str], result: Any) -> str:
    """The problems, then the scenario as YAML to save as ``iris_chaos_<name>.yaml``."""
    from pytest_iris.chaos.scenario_yaml import INVARIANTS_TAG, scenario_yaml

    scenario = result.scenario
    if INVARIANTS_TAG not in scenario.tags:
        scenario = scenario.model_copy(update={"tags": [*scenario.tags, INVARIANTS_TAG]})
    lines = [
        f"remediator {result.journal.remediator!r} broke {len(problems)} invariant check(s):",
        *[f"  - {p}" for p in problems],
        "",
        f"The scenario (sandbox seed {scenario.seed}); save it as iris_chaos_{scenario.name}.yaml "
        "and run `pytest iris_chaos_" + scenario.name + ".yaml` to replay it",
        f"(with --iris-remediator {result.journal.remediator}). Hypothesis prints the seed "
        "and @reproduce_failure blob that replay the search below.",
        f"# --- iris_chaos_{scenario.name}.yaml ---",
        scenario_yaml(scenario).rstrip(),
        "# --- end ---",
    ]
    return "\n".join(lines)


def assert_invariants(
    result: Any, *extra: Invariant, only: Sequence[Invariant] | None = None
) -> None:
    """Fail (:class:`InvariantViolation`) when ``result`` breaks a default check, one in
    ``only`` instead, or one of ``extra`` (your own ``check(result) -> list[str]``)."""
    problems = check_invariants(result, *extra, only=only)
    if problems:
        raise InvariantViolation(problems, result)
