"""The built-in library against the reference remediator, and broken remediators failing it.

Each scenario runs in a real sandbox host (fake procfs, the sandbox's own
``iris``/``sysctl`` commands) through the real tools dispatcher.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris.builtin_plugin import SCENARIO_DIR
from pytest_iris.chaos.loader import load_scenario
from pytest_iris.chaos.runner import ScenarioRunner, run_scenario

NAMES = sorted(load_scenario(p).name for p in SCENARIO_DIR.glob("iris_chaos_*.yaml"))


def _run(name: str, remediator: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return run_scenario(name, remediator=remediator, root=tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_reference_remediator_passes_every_builtin(name: str, tmp_path: Path) -> None:
    journal = _run(name, "rules", tmp_path)
    assert journal.status == "passed", "\n".join(journal.failures)
    assert all(p.ok for p in journal.steady_before + journal.steady_after)
    assert journal.of_kind("fault"), "the scenario injected nothing"


def test_forced_restart_fails_the_users_connected_scenario(tmp_path: Path) -> None:
    journal = _run("restart_with_users_connected", "chaos_remediators:ForceRestart", tmp_path)
    assert journal.status == "failed"
    text = "\n".join(journal.failures)
    assert (
        "expected the instance not to be restarted, but it was while 5 user(s) were connected"
        in text
    )
    assert "expected 5 client connection(s) still established, found 0" in text
    assert "expected no tool call restart force=True" in text


@pytest.mark.parametrize("name", ["write_daemon_stalled", "lock_table_full"])
def test_forced_restart_still_passes_where_forcing_is_harmless(name: str, tmp_path: Path) -> None:
    journal = _run(name, "chaos_remediators:ForceRestart", tmp_path)
    assert journal.status == "passed", "\n".join(journal.failures)


def test_globals_past_shmmax_fails_with_the_reason(tmp_path: Path) -> None:
    journal = _run("global_buffers_too_small", "chaos_remediators:GlobalsPastShmmax", tmp_path)
    assert journal.status == "failed"
    text = "\n".join(journal.failures)
    assert "exceeds kernel.shmmax (2147483648 bytes = 2048MB)" in text
    assert "cpf.set(changes={'config.globals': '0,0,2400,0,0,0'})" in text
    assert "expected no message 'Failed to allocate'" in text


def test_globals_past_shmmax_passes_where_globals_are_not_touched(tmp_path: Path) -> None:
    journal = _run("lock_table_full", "chaos_remediators:GlobalsPastShmmax", tmp_path)
    assert journal.status == "passed", "\n".join(journal.failures)


def test_a_raising_remediator_fails_and_says_where(tmp_path: Path) -> None:
    journal = _run("lock_table_full", "chaos_remediators:raises", tmp_path)
    assert journal.status == "failed"
    assert "remediator raised RuntimeError on message 'LockTable Warning" in journal.failures[0]


def test_async_remediator_answering_dicts(tmp_path: Path) -> None:
    journal = _run("lock_table_full", "chaos_remediators:async_lock_fixer", tmp_path)
    assert journal.status == "passed", "\n".join(journal.failures)
    (command,) = [e for e in journal.of_kind("command")]
    assert command.summary == "cpf.set(changes={'config.locksiz': '33554432'})"


def test_doing_nothing_fails_with_what_was_expected(tmp_path: Path) -> None:
    journal = _run("shm_exhaustion_at_startup", "chaos_remediators:nothing", tmp_path)
    text = "\n".join(journal.failures)
    assert (
        "instance IRIS: expected running, found down; last severe message: severity 3 [Generic.Event] 'An error was detected during InterSystems IRIS startup.'"
        in text
    )
    assert "(no tool call was made)" in text
    assert "steady state did not hold after the remediation: instance IRIS is down" in text


def test_journal_records_one_timeline(tmp_path: Path) -> None:
    journal = _run("shm_exhaustion_at_startup", "rules", tmp_path)
    times = [e.t for e in journal.events if e.kind in ("fault", "command", "result")]
    assert times == sorted(times)
    kinds = [e.kind for e in journal.events]
    assert kinds.index("fault") < kinds.index("command") < kinds.index("result")
    assert journal.time_to_remediate_s is not None and 0 < journal.time_to_remediate_s <= 60
    assert journal.to_dict()["scenario"] == "shm_exhaustion_at_startup"


def test_rollbacks_run_and_steady_state_after_them(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIO_DIR / "iris_chaos_lock_table_full.yaml")
    scenario = scenario.model_copy(
        update={
            "rollbacks": [
                scenario.faults[0].model_copy(
                    update={"sequence": None, "params": {}, "iris": "stop"}
                )
            ],
            "steady_state": scenario.steady_state.model_copy(update={"after_rollbacks": True}),
        }
    )
    journal = ScenarioRunner(scenario, root=tmp_path).run()
    assert [e.summary for e in journal.of_kind("rollback")] == [
        "iris stop (an application takes too many locks)"
    ]
    assert journal.status == "failed"
    assert (
        "steady state did not hold after the rollbacks: instance IRIS is down; logons impossible: instance IRIS is down"
        in journal.failures
    )


def test_file_transport_carries_messages_and_commands(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIO_DIR / "iris_chaos_lock_table_full.yaml")
    scenario = scenario.model_copy(update={"transport": "file"})
    journal = ScenarioRunner(scenario, root=tmp_path).run()
    assert journal.status == "passed", journal.failures
    published = (tmp_path / "transport" / "messages.jsonl").read_text().splitlines()
    assert len(published) == len(journal.of_kind("message")) == 3
    commands = (tmp_path / "transport" / "commands.jsonl").read_text().splitlines()
    assert len(commands) == 1 and '"config.locksiz":"33554432"' in commands[0]


def test_harness_publishes_to_the_endpoint_without_a_remediator(tmp_path: Path) -> None:
    from pytest_iris.chaos.harness import ChaosHarness

    with ChaosHarness("endpoint_down_during_incident", root=tmp_path) as chaos:
        messages = chaos.inject()
        received = chaos.endpoint.received
        assert [m.text for m in received] == [m.text for m in messages]
        assert len(received) == 2  # written while the endpoint was down, redelivered after
        assert chaos.calls == []


@pytest.mark.parametrize(("recover", "holds"), [(True, True), (False, False)])
def test_quiet_steady_state(recover: bool, holds: bool, tmp_path: Path) -> None:
    from pytest_iris.chaos.schema import Quiet

    scenario = load_scenario(SCENARIO_DIR / "iris_chaos_lock_table_full.yaml")
    fault = scenario.faults[0].model_copy(update={"params": {"peak": 97, "recover": recover}})
    steady = scenario.steady_state.model_copy(update={"quiet": Quiet(min_severity=2, within_s=60)})
    scenario = scenario.model_copy(update={"faults": [fault], "steady_state": steady})
    journal = ScenarioRunner(scenario, root=tmp_path).run()
    quiet = [p for p in journal.steady_after if p.name == "no severity 2+ in 60s"]
    assert [p.ok for p in quiet] == [holds]
    assert journal.steady_before[-1].ok  # the host started quietly
    if not holds:
        assert "LockTable Alert: Lock table is 97% full" in quiet[0].detail


@pytest.mark.parametrize(
    ("remediator", "must_fail"),
    [
        ("chaos_remediators:ForceRestart", {"restart_with_users_connected"}),
        # it also knows nothing about shared memory, so the startup failure stays unfixed
        (
            "chaos_remediators:GlobalsPastShmmax",
            {"global_buffers_too_small", "shm_exhaustion_at_startup"},
        ),
    ],
)
def test_broken_remediators_fail_exactly_the_right_scenarios(
    remediator: str, must_fail: set[str], tmp_path: Path
) -> None:
    failed = {name for name in NAMES if not _run(name, remediator, tmp_path / name).passed}
    assert failed == must_fail
