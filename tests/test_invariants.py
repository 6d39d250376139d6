"""pytest_iris.testing invariants: each check fails on the remediator that breaks it, passes on the
reference, on real scenario runs (sandbox host, real tools)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
import yaml

from chaos_remediators import ForceRestart, GlobalsPastShmmax, nothing, raises
from pytest_iris import testing
from pytest_iris.chaos.explore import ChaosResult, fast_tmp, run_checked
from pytest_iris.chaos.loader import load_scenario
from pytest_iris.chaos.rules import RuleBasedRemediator
from pytest_iris.chaos.schema import Scenario
from pytest_iris.models import Change, RemediationCommand, ToolResult, ToolStatus
from pytest_iris.registry import Registry

REGISTRY = Registry.standalone()


def scenario(name: str, faults: list[dict[str, Any]], **host: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "name": name,
            "host": host,
            "steady_state": {"instance": "running", "users_can_connect": True},
            "faults": faults,
            "expect": {"within_s": 900},
        }
    )


def play(remediator: Any, chosen: Scenario, registry: Registry = REGISTRY) -> ChaosResult:
    return run_checked(remediator, chosen, registry=registry, root=fast_tmp())


LOCK_WITH_USERS = scenario("lock_users", [{"at": 5, "sequence": "lock_table"}], users=3)
WRITE_DAEMON = scenario("wd", [{"at": 5, "kill": "write_daemon"}], users=2)


@pytest.fixture(scope="module")
def reference_lock() -> ChaosResult:
    return play(RuleBasedRemediator(), LOCK_WITH_USERS)


def test_restart_with_users_is_caught(reference_lock: ChaosResult) -> None:
    broken = testing.no_restart_with_users(play(ForceRestart(), LOCK_WITH_USERS))
    assert len(broken) == 1
    assert broken[0].startswith("no_restart_with_users: restart.restart(force=True)")
    assert "while 3 user(s) were connected to a serving instance" in broken[0]
    # the reference asks, is refused, and keeps the users
    assert testing.no_restart_with_users(reference_lock) == []
    assert any(r.command.tool == "restart" and not r.result.ok for r in reference_lock.calls)


def test_forced_restart_of_a_frozen_instance_is_allowed() -> None:
    result = play(RuleBasedRemediator(), WRITE_DAEMON)
    restarts = [r for r in result.calls if r.command.tool == "restart"]
    assert restarts and restarts[0].result is not None and restarts[0].result.ok
    assert restarts[0].before.users == 2 and not restarts[0].before.serving
    testing.assert_invariants(result)


class SysctlTool:
    """A plugin tool that writes any kernel value, as a careless runbook's sysctl -w would."""

    actions: ClassVar[dict[str, dict[str, tuple[type, ...]]]] = {
        "set": {"key": (str,), "value": (int,)}
    }

    def __init__(self, host: Any) -> None:
        self.host = host

    def set(self, *, call: Any, key: str, value: int) -> ToolResult:
        before = self.host.read_sysctl(key).strip()
        self.host.set_sysctl(key, value)
        return ToolResult(
            tool="sysctl",
            action="set",
            status=ToolStatus.SUCCESS,
            changes=(Change(target=key, before=before, after=str(value), applied=True),),
            dry_run=False,
        )


class SysctlPlugin:
    def pytest_iris_add_tools(self) -> dict[str, Any]:
        return {"sysctl": SysctlTool}


def shrink_shmmax(message: Any, context: Any) -> RemediationCommand | None:
    if message.severity < 1 or context.memory.get("done"):
        return None
    context.memory["done"] = True
    return RemediationCommand(
        tool="sysctl",
        action="set",
        parameters={"key": "kernel.shmmax", "value": 33554432},
        dry_run=False,
    )


def test_kernel_below_what_the_instance_uses_is_caught() -> None:
    registry = Registry.standalone([SysctlPlugin()])
    chosen = scenario("shrink", [{"at": 1, "lines": ["1 [System.Monitor] anything"]}])
    result = play(shrink_shmmax, chosen, registry)
    broken = testing.kernel_not_below_use(result)
    assert len(broken) == 1
    assert "left kernel.shmmax=33554432 below the 1152385024 bytes (1099MB)" in broken[0]
    assert testing.kernel_not_below_use(play(RuleBasedRemediator(), chosen)) == []


def test_cpf_growing_past_shmmax_is_caught() -> None:
    chosen = load_scenario(REGISTRY.scenario_paths["global_buffers_too_small"])
    broken = testing.cpf_within_rules(play(GlobalsPastShmmax(), chosen))
    assert broken, "quadrupled globals past kernel.shmmax must be caught"
    assert (
        "config.globals" in broken[0] and "more than kernel.shmmax (2147483648 bytes" in broken[0]
    )
    assert testing.cpf_within_rules(play(RuleBasedRemediator(), chosen)) == []


def test_steady_state_not_restored_is_caught() -> None:
    broken = testing.steady_state_restored(play(nothing, WRITE_DAEMON))
    assert broken == [
        "steady_state_restored: users can connect does not hold after the remediation: "
        "instance runs without its write_daemon (logons hang)"
    ]


def test_lost_or_repeated_messages_are_caught(reference_lock: ChaosResult) -> None:
    assert reference_lock.delivered and testing.no_message_lost(reference_lock) == []
    dropped = dataclasses.replace(reference_lock, delivered=reference_lock.delivered[1:])
    lost = testing.no_message_lost(dropped)
    assert len(lost) == 1 and repr(reference_lock.delivered[0].text) in lost[0]
    assert "never delivered to the remediator" in lost[0]
    twice = dataclasses.replace(
        reference_lock, delivered=[*reference_lock.delivered, reference_lock.delivered[-1]]
    )
    assert "delivered 1 time(s) more than written" in testing.no_message_lost(twice)[0]
    swapped = dataclasses.replace(
        reference_lock,
        delivered=[*reference_lock.delivered[1:2], reference_lock.delivered[0],
                   *reference_lock.delivered[2:]],
    )  # fmt: skip
    assert testing.no_message_lost(swapped) == [
        "no_message_lost: messages reached the remediator out of their log order"
    ]


def test_a_missing_tool_result_is_caught(reference_lock: ChaosResult) -> None:
    assert testing.every_tool_result_recorded(reference_lock) == []
    journal = dataclasses.replace(
        reference_lock.journal,
        events=[e for e in reference_lock.journal.events if e.kind != "result"],
    )
    broken = testing.every_tool_result_recorded(
        dataclasses.replace(reference_lock, journal=journal)
    )
    commands = len(reference_lock.calls)
    assert broken == [
        f"every_tool_result_recorded: {commands} command(s) journaled but 0 result(s)"
    ]


def test_a_raising_remediator_is_caught() -> None:
    broken = testing.remediator_never_raised(play(raises, LOCK_WITH_USERS))
    assert broken and broken[0].startswith(
        "remediator_never_raised: remediator raised RuntimeError"
    )


def test_assert_invariants_reports_a_replayable_scenario_and_runs_user_checks(
    reference_lock: ChaosResult,
) -> None:
    testing.assert_invariants(reference_lock)
    seen: list[ChaosResult] = []

    def at_most_one_command(result: ChaosResult) -> list[str]:
        seen.append(result)
        return (
            [f"at_most_one_command: {len(result.calls)} commands"] if len(result.calls) > 1 else []
        )

    with pytest.raises(testing.InvariantViolation) as caught:
        testing.assert_invariants(reference_lock, at_most_one_command)
    assert seen == [reference_lock]
    assert caught.value.problems == [f"at_most_one_command: {len(reference_lock.calls)} commands"]
    text = str(caught.value)
    document = text.split("# --- iris_chaos_lock_users.yaml ---\n")[1].split("# --- end ---")[0]
    replay = Scenario.model_validate(yaml.safe_load(document))
    assert replay.faults == LOCK_WITH_USERS.faults and replay.host == LOCK_WITH_USERS.host
    assert "invariants" in replay.tags
    assert "pytest iris_chaos_lock_users.yaml" in text
    # only= picks the checks
    assert testing.check_invariants(reference_lock, only=[at_most_one_command]) != []
    assert testing.check_invariants(reference_lock, only=[testing.no_message_lost]) == []
