"""End to end on the sandbox: a shared-memory startup failure, fixed by the tools.

messages.log shows the failed start; a remediation (here written out by hand,
as a user's remediator would) plans and applies the CPF and kernel fixes and
restarts; the "Allocated" line follows. Every step goes through the
Dispatcher, in one trace.
"""

from __future__ import annotations

from pathlib import Path

from pytest_iris.log.reader import LogEntry
from pytest_iris.models import RemediationCommand, Severity, ToolResult, ToolStatus
from pytest_iris.sandbox import host as sandbox
from pytest_iris.testing import capture_events
from pytest_iris.tools.dispatch import Dispatcher
from pytest_iris.tracing import trace


def entries(host: object) -> list[LogEntry]:
    return [e for e in host.messages() if isinstance(e, LogEntry)]  # type: ignore[attr-defined]


def test_failed_start_fixed_by_cpf_and_kernel_then_allocated(tmp_path: Path) -> None:
    host = sandbox.SandboxHost(
        tmp_path / "host",
        running=False,
        cpf={"config": {"globals": "0,0,2048,0,0,0"}},
        kernel={"kernel.shmmax": 1 << 30},  # 1 GB: too small for 2 GB of globals
    )
    with host:
        dispatcher = Dispatcher.for_sandbox(host)
        failed = dispatcher.dispatch_sync(
            RemediationCommand(tool="restart", action="start", dry_run=False)
        )
        assert failed.status is ToolStatus.FAILURE
        severe = [e.message for e in entries(host) if e.message.severity >= Severity.SEVERE]
        assert any(m.text.startswith("Failed to allocate") for m in severe)
        assert host.status() == "down"

        with trace() as trace_id, capture_events() as events:

            def run(tool: str, action: str, **parameters: object) -> ToolResult:
                command = RemediationCommand(
                    tool=tool,  # type: ignore[arg-type]
                    action=action,
                    parameters=parameters,
                    dry_run=False,
                    trace_id=trace_id,
                )
                result = dispatcher.dispatch_sync(command)
                assert result.ok, result.message
                assert result.trace_id == trace_id
                return result

            # the plan first (a dry run): what would it take to keep 2 GB of globals?
            plan = dispatcher.dispatch_sync(
                RemediationCommand(tool="kernel", action="plan", trace_id=trace_id)
            )
            assert plan.ok
            assert plan.dry_run
            assert [c.target for c in plan.changes] == ["kernel.shmmax"]
            # fix both: a smaller cache in the CPF, and a kernel sized for it
            run("cpf", "set", changes={"globals": "0,0,1536,0,0,0"})
            kernel = run("kernel", "apply", persist=True)
            restarted = run("restart", "restart")

        allocated = [line for line in restarted.confirmations if "Allocated" in line]
        assert allocated, restarted.confirmations
        assert host.status() == "running"
        total_mb = int(allocated[0].split("Allocated ")[1].split("MB")[0])
        shmmax = int(host.read_sysctl("kernel.shmmax"))
        assert shmmax == (total_mb + 16) * 1024 * 1024
        assert kernel.changes[0].after == shmmax
        assert "globals=0,0,1536,0,0,0" in host.cpf_path.read_text()
        assert (host.root / "etc/sysctl.d/99-intersystems-iris.conf").exists()
        assert events.assert_one_trace() == trace_id
        for name in ("kernel.plan", "kernel.sysctl", "restart.start", "dispatch.done"):
            events.assert_event(name, trace_id=trace_id)
