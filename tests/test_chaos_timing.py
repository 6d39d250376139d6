"""Chaos on one clock: faults happen at their time, against the instance then running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import chaos_remediators as broken
from pytest_iris.builtin_plugin import SCENARIO_DIR
from pytest_iris.chaos.journal import Journal
from pytest_iris.chaos.loader import load_scenario, load_scenario_text
from pytest_iris.chaos.runner import ScenarioRunner
from pytest_iris.chaos.timeline import InstanceTimeline
from pytest_iris.errors import ScenarioError


def _play(scenario: object, remediator: object, root: Path) -> Journal:
    runner = ScenarioRunner(scenario, root=root)  # type: ignore[arg-type]
    return asyncio.run(runner.run_async(remediator))  # type: ignore[arg-type]


def _texts(journal: Journal, kind: str) -> list[str]:
    return [e.summary for e in journal.events if e.kind == kind]


def test_write_daemon_death_is_written_once_by_the_dying_instance(tmp_path: Path) -> None:
    """Issue 15: the sequence fired after the restart, with the new instance's pid, twice."""
    scenario = load_scenario(SCENARIO_DIR / "iris_chaos_write_daemon_stalled.yaml")
    journal = _play(scenario, broken.restart_on_died, tmp_path)
    assert journal.passed, journal.failures
    commands = _texts(journal, "command")
    assert commands == ["restart.restart(force=True)"]
    died = [e for e in journal.events if e.kind == "message" and "WRTDMN" in e.summary]
    assert len(died) == 1
    fault_t = next(e.t for e in journal.events if e.kind == "fault" and "sequence" in e.summary)
    assert fault_t < 5.1  # at its time, not after the remediator's restart
    # the dead daemon's pid, not one of the restarted instance's
    restart = next(e for e in journal.events if e.kind == "result")
    new_pids = restart.summary.split("->")[1]
    assert str(died[0].data["pid"]) not in new_pids
    assert "died" in died[0].summary and f"pid {died[0].data['pid']})" not in new_pids
    assert not [e for e in journal.events if e.kind == "message" and "Pausing users" in e.summary]
    assert any("is gone" in note for note in _texts(journal, "note"))
    assert journal.remediator == "chaos_remediators:restart_on_died"


LATE = """
name: late_fault
host: {instance: running}
faults:
  - at: 5
    kill: write_daemon
  - at: 7
    sequence: write_daemon_death
  - at: 8
    kill: write_daemon
  - at: 9
    cpf: {config: {locksiz: 33554432}}
expect:
  restarts: {max: 1}
"""


def test_faults_aimed_at_a_restarted_instance_are_skipped_and_journaled(tmp_path: Path) -> None:
    journal = _play(load_scenario_text(LATE), broken.restart_on_died, tmp_path)
    skipped = [e for e in journal.events if e.kind == "note" and e.data.get("skipped")]
    assert [e.data["action"] for e in skipped] == ["sequence", "kill"]
    assert all("down or being restarted then" in e.summary for e in skipped)
    # a host-level fault still happens, late, and says so
    assert any("cpf config.locksiz=33554432" in n and "late" in n for n in _texts(journal, "note"))
    assert journal.passed, journal.failures
    assert next((p.name, p.detail) for p in journal.checks) == ("restarts", "1 restart(s)")


COUNTED = """
name: counted
host: {instance: running}
faults:
  - at: 5
    kill: write_daemon
  - at: 30
    lines: ["2 [Generic.Event] something severe"]
expect:
  restarts: {max: 1}
  tool_calls:
    - {tool: restart, max: 1}
    - {tool: cpf, min: 0, max: 0}
"""


def test_counts_bound_restarts_and_tool_calls(tmp_path: Path) -> None:
    journal = _play(load_scenario_text(COUNTED), broken.RestartTwice(), tmp_path)
    assert journal.status == "failed"
    assert len(journal.failures) == 2, journal.failures
    assert journal.failures[0].startswith("tool calls restart: expected at most 1, found 2: ")
    assert journal.failures[1].startswith("restarts of instance IRIS: expected at most 1, found 2")
    outcomes = {p.name: p.ok for p in journal.checks}
    assert outcomes == {
        "tool call restart": False,
        "tool call cpf": True,
        "restarts": False,
        "remediated within 300s": True,
    }
    assert journal.remediator == "chaos_remediators:RestartTwice"


@pytest.mark.parametrize(
    ("expect", "line", "message"),
    [
        ("restarts: {min: 2, max: 1}", 7, "min (2) is greater than max (1)"),
        ("tool_calls: [{tool: restart, min: 3, max: 1}]", 7, "min (3) is greater than max (1)"),
        ("no_tool_calls: [{tool: restart, max: 1}]", 7, "min/max go under tool_calls"),
        ("restarts: {}", 7, "a count needs min, max or both"),
    ],
)
def test_contradictory_counts_are_rejected_at_load(expect: str, line: int, message: str) -> None:
    text = f"name: x\nhost: {{instance: running}}\nfaults:\n  - at: 1\n    kill: write_daemon\nexpect:\n  {expect}\n"
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml")
    assert f"s.yaml:{line}: expect." in str(info.value)
    assert message in str(info.value)


def test_timeline_answers_which_instance_ran_when() -> None:
    timeline = InstanceTimeline()
    timeline.observe(100.0, 704)
    timeline.observe(100.5, 704)  # unchanged: not recorded
    timeline.observe(105.5, None)
    timeline.observe(110.9, 751)
    assert timeline.changes == [(100.0, 704), (105.5, None), (110.9, 751)]
    assert [timeline.at(t) for t in (99.0, 100.0, 105.0, 107.0, 111.0)] == [
        None,
        704,
        704,
        None,
        751,
    ]
    assert timeline.restarts() == 1
    assert timeline.gone_since(111.0, 751) is None
    assert timeline.gone_since(105.0, 751, t0=100.0) == (
        "its instance (control process 704) was restarted (control process now 751) at t=5.5s"
    )
    assert timeline.gone_since(105.0, None, t0=100.0) == (
        "its instance (control process 704) was stopped at t=5.5s"
    )
