"""The dispatcher: validation, routing, path confinement, time budget, trace ids."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_iris.errors import ToolError, ValidationError
from pytest_iris.models import IRISMessage, RemediationCommand, Severity, ToolResult, ToolStatus
from pytest_iris.testing import capture_events
from pytest_iris.tools.actions import TOOL_FACTORIES, ToolCall
from pytest_iris.tools.dispatch import Dispatcher
from pytest_iris.tools.kernel import MIB
from pytest_iris.tools.settings import ToolSettings
from pytest_iris.tracing import current_trace_id, trace
from tools_support import install, make_procfs

CPF = "[Startup]\r\nSystemMode=\r\n\r\n[config]\r\nglobals=0,0,600,0,0,0\r\ngmheap=0\r\njrnbufs=64\r\nroutines=0"


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A host root: procfs, an iris.cpf in the default install dir, a stand-in sysctl."""
    root = tmp_path / "host"
    make_procfs(root / "proc")
    cpf = root / "usr/irissys/iris.cpf"
    cpf.parent.mkdir(parents=True)
    cpf.write_bytes(CPF.encode())
    install(root / "bin", "sysctl")
    return root


def dispatcher(host: Path, **kwargs: Any) -> Dispatcher:
    env = {"PATH": f"{host / 'bin'}:/usr/bin:/bin", "FAKE_PROCFS": str(host / "proc")}
    env["FAKE_DENY"] = kwargs.pop("deny", "none")
    env["FAKE_SLOW"] = kwargs.pop("slow", "")
    return Dispatcher(host, env=env, total_ram_mb=16384, **kwargs)


def command(tool: str, action: str, **parameters: Any) -> RemediationCommand:
    dry_run = parameters.pop("dry_run", True)
    return RemediationCommand(tool=tool, action=action, parameters=parameters, dry_run=dry_run)  # type: ignore[arg-type]


# -- validation: failures, never exceptions ---------------------------------------


def test_unknown_action_is_a_validation_failure(host: Path) -> None:
    result = dispatcher(host).dispatch_sync(command("kernel", "reboot"))
    assert result.status is ToolStatus.FAILURE
    assert (
        result.message
        == "invalid command: tool 'kernel' has no action 'reboot' (known: apply, plan)"
    )
    assert result.details["error"] == "ValidationError"


def test_unknown_tool_is_a_validation_failure(host: Path) -> None:
    result = dispatcher(host).dispatch_sync({"tool": "firewall", "action": "open"})
    assert result.status is ToolStatus.FAILURE
    assert result.tool == "firewall"
    assert result.details["error"] == "ValidationError"
    assert result.message.startswith(
        "invalid command: unknown tool 'firewall' (known: cpf, kernel, restart;"
    )


def test_unknown_or_mistyped_parameter_is_named(host: Path) -> None:
    d = dispatcher(host)
    result = d.dispatch_sync(command("restart", "restart", forcefully=True))
    assert "unknown parameter 'forcefully' (accepted: force, instance)" in result.message
    result = d.dispatch_sync(command("kernel", "plan", shared_memory_mb="lots"))
    assert "parameter 'shared_memory_mb' must be int, got 'lots'" in result.message
    result = d.dispatch_sync(command("kernel", "plan", shared_memory_mb=True))
    assert "must be int, got True" in result.message


@pytest.mark.parametrize(
    "path", ["../outside.cpf", "/usr/../../outside.cpf", "usr/irissys/../../../x", "\x00"]
)
def test_paths_cannot_leave_the_host_root(host: Path, path: str) -> None:
    result = dispatcher(host).dispatch_sync(command("cpf", "show", path=path))
    assert result.status is ToolStatus.FAILURE
    assert "parameter 'path'" in result.message
    assert not (host.parent / "outside.cpf").exists()


def test_a_symlink_out_of_the_root_is_refused(host: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.cpf"
    secret.write_text("[config]\nglobals=0,0,1,0,0,0")
    (host / "link.cpf").symlink_to(secret)
    result = dispatcher(host).dispatch_sync(command("cpf", "show", path="/link.cpf"))
    assert result.status is ToolStatus.FAILURE
    assert "leaves the host root" in result.message


def test_absolute_paths_are_taken_from_the_root(host: Path) -> None:
    d = dispatcher(host)
    assert d.confine("/usr/irissys/iris.cpf", parameter="path") == host / "usr/irissys/iris.cpf"
    assert d.confine("etc/sysctl.d/x.conf", parameter="persist") == host / "etc/sysctl.d/x.conf"
    with pytest.raises(ValidationError, match="leaves the host root"):
        d.confine("../x", parameter="path")


# -- routing ---------------------------------------------------------------------


def test_kernel_plan_from_the_hosts_cpf(host: Path) -> None:
    from pytest_iris.tools.cpf import CpfTool

    total = CpfTool(host / "usr/irissys/iris.cpf", total_ram_mb=16384).shared_memory_plan().total_mb
    result = dispatcher(host).dispatch_sync(command("kernel", "plan"))
    assert result.status is ToolStatus.SUCCESS, result.message
    assert result.action == "plan"
    assert result.dry_run
    assert [(c.target, c.after) for c in result.changes] == [("kernel.shmmax", (total + 16) * MIB)]
    assert (host / "proc/sys/kernel/shmmax").read_text() == "33554432\n"


def test_kernel_apply_with_persist_inside_the_root(host: Path) -> None:
    result = dispatcher(host).dispatch_sync(
        command("kernel", "apply", shared_memory_mb=495, persist=True, dry_run=False)
    )
    assert result.status is ToolStatus.SUCCESS, result.message
    assert (host / "proc/sys/kernel/shmmax").read_text() == f"{511 * MIB}\n"
    conf = host / "etc/sysctl.d/99-intersystems-iris.conf"
    assert conf.read_text().endswith(f"kernel.shmmax = {511 * MIB}\n")


def test_privilege_refusal_is_a_failure_result_with_the_commands(host: Path) -> None:
    result = dispatcher(host, deny="*").dispatch_sync(
        command("kernel", "apply", shared_memory_mb=495, dry_run=False)
    )
    assert result.status is ToolStatus.FAILURE
    assert result.details["error"] == "CommandPrivilegeError"
    assert result.details["commands"] == [f"sudo sysctl -w kernel.shmmax={511 * MIB}"]
    assert "run as root" in result.message


def test_cpf_set_routes_to_the_cpf_tool_as_a_dry_run(host: Path) -> None:
    cpf = host / "usr/irissys/iris.cpf"
    result = dispatcher(host).dispatch_sync(
        command("cpf", "set", path="/usr/irissys/iris.cpf", changes={"globals": "0,0,256,0,0,0"})
    )
    assert result.status is ToolStatus.SUCCESS, result.message
    assert result.tool == "cpf"
    assert result.dry_run
    assert cpf.read_bytes() == CPF.encode()


def test_tool_errors_become_failure_results(host: Path) -> None:
    (host / "proc/sys/kernel/shmmax").unlink()
    result = dispatcher(host).dispatch_sync(command("kernel", "plan", shared_memory_mb=100))
    assert result.status is ToolStatus.FAILURE
    assert "sys/kernel/shmmax does not exist" in result.message
    assert result.details["error"] == "ToolError"


# -- time budget -------------------------------------------------------------------

HANGING_IRIS = "#!/bin/sh\nexec sleep 30\n"


def test_budget_exceeded_is_a_failure_result(host: Path) -> None:
    install(host / "bin", "iris", HANGING_IRIS)
    d = dispatcher(host, settings=ToolSettings(budget_s=0.4))
    started = time.monotonic()
    result = d.dispatch_sync(command("restart", "restart", dry_run=False))
    assert time.monotonic() - started < 10  # the tool's own timeouts are capped to the budget
    assert result.status is ToolStatus.FAILURE
    assert result.message == "restart restart exceeded its time budget of 0.4s"
    assert result.details["budget_s"] == 0.4


def test_budget_per_call_and_inside_a_running_loop(host: Path) -> None:
    install(host / "bin", "iris", HANGING_IRIS)

    async def main() -> Any:
        return await dispatcher(host).dispatch(
            command("restart", "start", dry_run=False), budget_s=0.3
        )

    result = asyncio.run(main())
    assert "exceeded its time budget of 0.3s" in result.message


# -- trace ids ---------------------------------------------------------------------


def test_trace_id_flows_from_message_to_command_to_tool_events(host: Path) -> None:
    d = dispatcher(host)
    with capture_events() as events:
        with trace() as trace_id:
            # what a remediator does: it sees a message and asks for a fix, in the same trace
            message = IRISMessage(
                timestamp=datetime(2026, 11, 26, 9, 0, 0),
                pid=704,
                severity=Severity.SEVERE,
                category="Generic.Event",
                text="Failed to allocate 1099MB shared memory using Huge Pages.",
            )
            fix = RemediationCommand(
                tool="kernel",
                action="plan",
                parameters={"shared_memory_mb": 1099},
                trace_id=current_trace_id(),
            )
        assert message.text and fix.trace_id == trace_id
        # dispatched later, outside that context: the command carries the id
        assert current_trace_id() != trace_id
        result = d.dispatch_sync(fix)
    assert result.trace_id == trace_id
    for name in ("dispatch.received", "kernel.plan", "kernel.dry_run", "dispatch.done"):
        events.assert_event(name, trace_id=trace_id)
    assert events.assert_one_trace() == trace_id


def test_a_command_without_trace_gets_one_for_the_whole_call(host: Path) -> None:
    with capture_events() as events:
        result = dispatcher(host).dispatch_sync(command("kernel", "plan", shared_memory_mb=100))
    assert result.trace_id is not None
    assert len(result.trace_id) == 32
    assert events.assert_one_trace() == result.trace_id


def test_rejected_commands_are_traced_too(host: Path) -> None:
    with capture_events() as events, trace() as trace_id:
        result = dispatcher(host).dispatch_sync(command("kernel", "reboot"))
    assert result.trace_id == trace_id
    events.assert_event("dispatch.rejected", trace_id=trace_id)


@pytest.mark.parametrize(
    ("memlock", "pool", "huge"),
    [("0", "0", False), ("0", "100", True), ("64", "0", True), ("32", "100", False)],
)
def test_huge_pages_default_follows_memlock_and_the_pool(
    host: Path, memlock: str, pool: str, huge: bool
) -> None:
    cpf = host / "usr/irissys/iris.cpf"
    cpf.write_bytes(CPF.encode() + f"\r\nmemlock={memlock}".encode())
    (host / "proc/sys/vm/nr_hugepages").write_text(pool + "\n")
    result = dispatcher(host).dispatch_sync(command("kernel", "plan"))
    assert result.ok, result.message
    assert ("using huge pages" in result.details["plan"].splitlines()[0]) is huge


def test_no_step_starts_after_the_budget_ran_out(host: Path) -> None:
    # three writes of >= 1.1 s each cannot all fit in 2 s: the second ends past the
    # deadline and the last one never starts. Each write's own timeout is the budget, so
    # a write may take up to 0.9 s more than its 1.1 s before it times out instead (a
    # loaded machine is slow); 0.3 s writes in 0.45 s left 0.15 s, which stalls overran
    (host / "proc/sys/kernel/shmall").write_text("1000\n")
    d = dispatcher(host, slow="1.1", settings=ToolSettings(budget_s=2.0))
    with capture_events() as events:
        result = d.dispatch_sync(
            command("kernel", "apply", shared_memory_mb=3580, huge_pages=True, dry_run=False)
        )
    assert "exceeded its time budget of 2.0s" in result.message
    # dispatch_sync returns once the tool's thread ended: it stopped at the cancel
    events.assert_event("kernel.cancelled")
    assert (host / "proc/sys/vm/nr_hugepages").read_text() == "0\n"


_segments = st.lists(st.sampled_from(["..", ".", "etc", "usr", "link", "", "x..y"]), max_size=8)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=_segments, absolute=st.booleans())
def test_confined_paths_never_leave_the_root(host: Path, parts: list[str], absolute: bool) -> None:
    link = host / "usr" / "link"
    if not link.is_symlink():
        link.symlink_to(host.parent)  # a link pointing out of the root
    value = ("/" if absolute else "") + "/".join(parts)
    d = dispatcher(host)
    try:
        confined = d.confine(value, parameter="path")
    except ValidationError:
        return
    assert confined.is_relative_to(host.resolve())
    assert os.path.realpath(confined) == str(confined)


def test_serve_dispatches_what_a_transport_consumes(host: Path, tmp_path: Path) -> None:
    from pytest_iris import transport as transport_mod

    commands = [
        RemediationCommand(
            tool="kernel", action="plan", parameters={"shared_memory_mb": 495}, trace_id="a" * 32
        ),
        RemediationCommand(tool="kernel", action="reboot", trace_id="b" * 32),
    ]
    inbox = tmp_path / "commands.jsonl"
    inbox.write_text("".join(c.model_dump_json() + "\n" for c in commands))
    transport = transport_mod.FileTransport(tmp_path / "messages.log", commands_path=inbox)

    async def main() -> list[Any]:
        return [r async for r in dispatcher(host).serve(transport.consume(), limit=2)]

    first, second = asyncio.run(main())
    assert first.ok
    assert first.trace_id == "a" * 32
    assert first.details["command_id"] == commands[0].id
    assert second.status is ToolStatus.FAILURE
    assert second.trace_id == "b" * 32
    assert "no action 'reboot'" in second.message


class _QuietRestart:
    """A user's replacement restart tool: records what it was asked."""

    def __init__(self, host: Any) -> None:
        self.host = host

    def restart(self, force: bool = False, dry_run: bool = True) -> ToolResult:
        return ToolResult(
            tool="restart",
            action="restart",
            status=ToolStatus.SUCCESS,
            message=f"custom restart of {self.host.root.name} force={force} dry_run={dry_run}",
            dry_run=dry_run,
        )

    def status(self) -> str:
        return "not a ToolResult"


def test_a_registered_tool_replaces_the_built_in(host: Path) -> None:
    d = dispatcher(host, tools={"restart": _QuietRestart, "kernel": TOOL_FACTORIES["kernel"]})
    done = d.dispatch_sync(command("restart", "restart", force=True, dry_run=False))
    assert done.ok
    assert done.message == "custom restart of host force=True dry_run=False"
    wrong = d.dispatch_sync(command("restart", "restart", forcefully=True))
    assert wrong.status is ToolStatus.FAILURE
    assert "restart restart: got an unexpected keyword argument 'forcefully'" in wrong.message
    odd = d.dispatch_sync(command("restart", "status"))
    assert "returned str, not a ToolResult" in odd.message
    hidden = d.dispatch_sync(command("restart", "__init__"))
    assert "has no action '__init__'" in hidden.message
    # the built-in factory given again is the built-in route
    assert d.dispatch_sync(command("kernel", "plan", shared_memory_mb=100)).ok


def test_built_in_tools_declare_their_actions_and_bind_to_a_host(host: Path) -> None:
    target = Dispatcher(host).target
    assert {name: sorted(f.actions) for name, f in TOOL_FACTORIES.items()} == {  # type: ignore[attr-defined]
        "cpf": ["merge", "rollback", "set", "show", "validate"],
        "kernel": ["apply", "plan"],
        "restart": ["restart", "start", "stop"],
    }
    assert all(factory(target).host is target for factory in TOOL_FACTORIES.values())


def test_another_root_never_runs_the_hosts_commands(host: Path) -> None:
    (host / "bin/sysctl").unlink()  # the root has no sysctl of its own
    result = Dispatcher(host).dispatch_sync(
        command("kernel", "apply", shared_memory_mb=495, dry_run=False)
    )
    assert result.status is ToolStatus.FAILURE
    assert f"command 'sysctl' not found (PATH={host / 'bin'})" in result.message


class _Backup:
    """A plugin's own tool, under a name no built-in has."""

    def __init__(self, host: Any) -> None:
        self.host = host

    def snapshot(self, label: str, dry_run: bool = True) -> ToolResult:
        return ToolResult(
            tool="backup",
            action="snapshot",
            status=ToolStatus.SUCCESS,
            message=f"snapshot {label} of {self.host.root.name}",
            dry_run=dry_run,
        )


def test_a_plugin_tool_is_dispatched_under_its_own_name(host: Path) -> None:
    d = dispatcher(host, tools={"backup": _Backup})
    done = d.dispatch_sync(command("backup", "snapshot", label="before-fix"))
    assert done.ok
    assert done.message == f"snapshot before-fix of {host.name}"
    unknown = dispatcher(host).dispatch_sync(command("backup", "snapshot", label="x"))
    assert unknown.status is ToolStatus.FAILURE
    assert "unknown tool 'backup'" in unknown.message


class _StepTimesOut:
    """A plugin's tool whose one step has its own timeout (capped to the budget) and raises."""

    def __init__(self, host: Any) -> None:
        self.host = host

    def step(self, call: ToolCall, dry_run: bool = True) -> ToolResult:
        while not call.cancel.wait(30):  # the step's own timeout: it ends at the budget's
            pass
        raise ToolError("`step` did not answer within its timeout")


def test_an_error_raised_at_the_budget_is_the_budgets_failure(host: Path) -> None:
    # the step's capped timeout and the budget end together: whichever answers first,
    # the result names the budget (CI saw the step's own message win that race)
    d = dispatcher(host, tools={"slow": _StepTimesOut})
    done = d.dispatch_sync(command("slow", "step"), budget_s=0.2)
    assert done.message == "slow step exceeded its time budget of 0.2s"

    async def main() -> ToolResult:
        return await d.dispatch(command("slow", "step"), budget_s=0.2)

    assert asyncio.run(main()).message == "slow step exceeded its time budget of 0.2s"
