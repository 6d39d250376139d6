"""The journal of one scenario run: every message, fault, command and result, on one clock.

Like Chaos Toolkit's journal: a plain record of what happened (times are
host-clock seconds from the scenario start), the steady state before and
after, the failures in words, and the verdict. It serialises to JSON and
feeds the terminal summary, the JUnit properties and the HTML report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EventKind = Literal["message", "fault", "command", "result", "rollback", "note", "error"]


@dataclass(frozen=True)
class Event:
    """One thing on the scenario's timeline."""

    t: float
    kind: EventKind
    summary: str
    severity: int | None = None
    ok: bool | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Probe:
    """One check of the steady-state hypothesis."""

    name: str
    ok: bool
    detail: str


@dataclass
class Journal:
    """Everything one run of one scenario did and found."""

    scenario: str
    title: str = ""
    remediator: str = ""
    seed: int = 0
    source: str = ""
    #: a verdict (passed, failed, error) once the expectations were checked; what a
    #: test did otherwise (injected the faults, dispatched commands); running until then
    status: Literal["passed", "failed", "error", "running", "injected", "dispatched"] = "running"
    events: list[Event] = field(default_factory=list)
    steady_before: list[Probe] = field(default_factory=list)
    steady_after: list[Probe] = field(default_factory=list)
    steady_after_rollbacks: list[Probe] = field(default_factory=list)
    #: every expectation checked after the remediation, passed or not
    checks: list[Probe] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    time_to_remediate_s: float | None = None
    #: the verdict the test said it expects (``iris_scenario(..., expect="failed")``)
    expected_status: str = ""
    duration_s: float = 0.0
    wall_s: float = 0.0

    def add(self, event: Event) -> Event:
        self.events.append(event)
        return event

    def of_kind(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def counts(self) -> dict[str, int]:
        """Faults, messages, commands and results (ok / failed) for the summary."""
        results = self.of_kind("result")
        return {
            "faults": len(self.of_kind("fault")),
            "messages": len(self.of_kind("message")),
            "commands": len(self.of_kind("command")),
            "results_ok": sum(1 for e in results if e.ok),
            "results_failed": sum(1 for e in results if not e.ok),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Journal:
        data = dict(data)
        data["events"] = [Event(**e) for e in data.get("events", [])]
        for key in ("steady_before", "steady_after", "steady_after_rollbacks", "checks"):
            data[key] = [Probe(**p) for p in data.get(key, [])]
        return cls(**data)


def check_text(probe: Probe) -> str:
    """``name: detail`` with the name said once: a failure's detail starts with it
    (``CPF [config] locksiz: expected ...``), which read ``CPF [config] locksiz: CPF
    [config] locksiz: expected ...`` (user trial)."""
    return f"{probe.name}: {probe.detail.removeprefix(probe.name + ': ')}"


def probes_text(probes: list[Probe]) -> str:
    if not probes:
        return "not checked"
    if all(p.ok for p in probes):
        return "holds (" + ", ".join(p.name for p in probes) + ")"
    return "BROKEN: " + "; ".join(check_text(p) for p in probes if not p.ok)


def result_mark(event: Event) -> str:
    """`` FAILED``, or what an expected refusal reads as; nothing when it went well.

    A result's summary starts with its status (``cpf.set: success: ...``); a
    trailing `` ok`` read as part of the tool's message (user trial).
    """
    if event.ok is None or event.ok:
        return ""
    return " (refused, as the scenario expects)" if event.data.get("expected") else " FAILED"


#: the journal's remediator when the test drove the host itself (``[no remediator]``)
NO_REMEDIATOR = "no remediator"


def with_remediator(journal: Journal) -> str:
    """``with remediator 'rules'``, or ``with no remediator`` when none ran."""
    if journal.remediator == NO_REMEDIATOR:
        return "with no remediator"
    return f"with remediator {journal.remediator!r}"


def summary_lines(journal: Journal, *, tracebacks: bool = True) -> list[str]:
    """The terminal summary of one run, a few lines a person reads at a glance.

    ``tracebacks``: a remediator's exception is followed by its traceback.
    """
    c = journal.counts()
    counts = (
        f"faults={c['faults']} messages={c['messages']} commands={c['commands']} "
        f"results={c['results_ok']} ok/{c['results_failed']} failed"
    )
    status = journal.status.upper()
    if journal.expected_status == journal.status:
        status += " (as the test expects)"
    head = f"{status:6} {journal.scenario} [{journal.remediator}] {counts}"
    if journal.status in ("injected", "dispatched", "running"):
        # a test drove the harness itself: no verdict, nothing checked
        lines = [f"{head} wall={journal.wall_s * 1000:.0f}ms (expectations not checked)"]
    else:
        ttr = "-" if journal.time_to_remediate_s is None else f"{journal.time_to_remediate_s:.1f}s"
        lines = [
            f"{head} time-to-remediate={ttr} wall={journal.wall_s * 1000:.0f}ms",
            f"       steady state before: {probes_text(journal.steady_before)}",
            f"       steady state after:  {probes_text(journal.steady_after)}",
        ]
    if journal.steady_after_rollbacks:
        lines.append(f"       after rollbacks:     {probes_text(journal.steady_after_rollbacks)}")
    for event in journal.events:
        if event.kind == "fault":
            lines.append(f"       t={event.t:7.1f}s fault   {event.summary}")
        elif event.kind == "note" and event.data.get("skipped"):
            lines.append(f"       t={event.t:7.1f}s skipped {event.summary}")
        elif event.kind in ("command", "result", "error"):
            first, *more = event.summary.splitlines() or [""]
            extra = f" (+{len(more)} lines)" if more else ""
            lines.append(
                f"       t={event.t:7.1f}s {event.kind:7} {first}{extra}{result_mark(event)}"
            )
            if tracebacks and event.data.get("traceback"):
                lines += [
                    f"         | {line}" for line in str(event.data["traceback"]).splitlines()
                ]
    if journal.checks:
        lines.append("       checks:")
        lines += [
            f"         {'ok    ' if p.ok else 'FAILED'} {check_text(p)}" for p in journal.checks
        ]
    lines += [f"       ! {failure}" for failure in journal.failures]
    return lines


def junit_properties(journal: Journal) -> list[tuple[str, str]]:
    """``(name, value)`` pairs for ``record_property`` / JUnit XML."""
    c = journal.counts()
    commands = "; ".join(e.summary for e in journal.of_kind("command"))
    results = "; ".join(
        f"{e.summary} -> {'ok' if e.ok else 'failed'}" for e in journal.of_kind("result")
    )
    return [
        ("iris_scenario", journal.scenario),
        ("iris_remediator", journal.remediator),
        ("iris_status", journal.status),
        ("iris_faults", str(c["faults"])),
        ("iris_messages", str(c["messages"])),
        ("iris_commands", commands or "none"),
        ("iris_tool_results", results or "none"),
        ("iris_steady_state_before", probes_text(journal.steady_before)),
        ("iris_steady_state_after", probes_text(journal.steady_after)),
        (
            "iris_time_to_remediate_s",
            "" if journal.time_to_remediate_s is None else f"{journal.time_to_remediate_s:.1f}",
        ),
        ("iris_failures", " | ".join(journal.failures) or "none"),
    ]
