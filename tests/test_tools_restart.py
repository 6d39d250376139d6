"""The restart tool on the sandbox host's fake process tree (psutil on its procfs).

The run with real processes and real sockets is in test_tools_restart_live.py.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

from pytest_iris.models import ToolStatus
from pytest_iris.sandbox import host as sandbox
from pytest_iris.testing import capture_events
from pytest_iris.tools.restart import RestartTool
from pytest_iris.tools.settings import ToolSettings
from pytest_iris.tracing import trace


def make_host(tmp_path: Path, **kwargs: Any) -> Any:
    return sandbox.SandboxHost(tmp_path / "host", **kwargs)


def tool_for(host: Any, **settings: Any) -> RestartTool:
    return RestartTool(
        "IRIS",
        procfs_path=host.proc,
        env=host.env,
        host_root=host.root,
        settings=ToolSettings(**settings),
    )


def all_pids(host: Any) -> list[int]:
    return sorted(pid for pids in host.pids().values() for pid in pids)


def test_finds_the_instance_processes_and_connections(tmp_path: Path) -> None:
    with make_host(tmp_path, users=2, web_users=1) as host:
        tool = tool_for(host)
        assert tool.install_dir == str(host.install_dir)
        assert tool.messages_log == host.messages_log
        assert [p.pid for p in tool.processes()] == all_pids(host)
        conns = tool.connections()
        assert [c.service for c in conns] == ["superserver", "superserver", "web"]
        assert [c.server_name for c in conns] == ["irisdb", "irisdb", "httpd"]
        instance_pids = set(all_pids(host))
        assert all(c.server_pid in instance_pids for c in conns)
        assert len(conns) == host.connections()


def test_refuses_to_stop_with_users_connected(tmp_path: Path) -> None:
    with make_host(tmp_path, users=2) as host:
        before = all_pids(host)
        tool = tool_for(host)
        with trace() as trace_id, capture_events() as events:
            result = tool.restart(dry_run=False)
        assert result.status is ToolStatus.FAILURE
        assert result.message.startswith("refusing to stop IRIS: 2 client connections established")
        for conn in result.details["connections"]:
            assert conn["remote"] in result.message  # says who is connected
        assert "force" in result.message
        assert result.changes == ()
        assert host.status() == "running"
        assert all_pids(host) == before
        events.assert_event("restart.refused", users=2, trace_id=trace_id)
        events.assert_no_event("restart.stop")


def test_forced_restart_stops_starts_and_confirms(tmp_path: Path) -> None:
    with make_host(tmp_path, users=1) as host:
        before = all_pids(host)
        result = tool_for(host).restart(force=True, dry_run=False)
        assert result.status is ToolStatus.SUCCESS, result.message
        after = all_pids(host)
        assert result.details["pids_before"] == before
        assert result.details["pids_after"] == after
        assert not set(before) & set(after)
        assert host.status() == "running"
        assert any("Allocated" in line and "shared memory" in line for line in result.confirmations)
        assert [(c.before, c.after, c.applied) for c in result.changes] == [
            ("running", "down", True),
            ("down", "running", True),
        ]
        assert result.details["commands"] == ["iris stop IRIS quietly", "iris start IRIS"]


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    with make_host(tmp_path) as host:
        before = host.log_text()
        result = tool_for(host).restart()
        assert result.ok
        assert result.dry_run
        assert result.message == "dry run: would run iris stop IRIS quietly; then iris start IRIS"
        assert host.log_text() == before
        assert result.changes[0].applied is False


def test_stop_then_start_of_an_idle_instance(tmp_path: Path) -> None:
    with make_host(tmp_path) as host:
        tool = tool_for(host)
        stopped = tool.stop(dry_run=False)
        assert stopped.ok, stopped.message
        assert host.status() == "down"
        assert tool.processes() == []
        assert tool.stop(dry_run=False).message == "IRIS is not running: nothing to stop"
        started = tool.start(dry_run=False)
        assert started.ok, started.message
        assert host.status() == "running"
        assert started.details["pids_after"] == all_pids(host)


def test_start_failure_reports_the_log_lines(tmp_path: Path) -> None:
    # globals 600 MB cannot fit a 32 MB shmmax: iris start fails as IRIS does
    with make_host(
        tmp_path,
        running=False,
        cpf={"config": {"globals": "0,0,600,0,0,0", "memlock": "64"}},
        kernel={"kernel.shmmax": 33554432},
    ) as host:
        result = tool_for(host).start(dry_run=False)
        assert result.status is ToolStatus.FAILURE
        assert "`iris start IRIS` failed" in result.message
        assert result.confirmations, "the failure lines of messages.log are the evidence"
        assert host.status() == "down"


FAKE_IRIS = """#!/bin/sh
# delegates to the sandbox's iris, except for the step under test
case "$1" in
  stop) [ "$FAKE_MODE" = hang ] && { echo $$ > "$PIDFILE"; sleep 30; }
        [ "$FAKE_MODE" = lie ] && exit 0 ;;
esac
exec "$REAL_IRIS" "$@"
"""


def wrapped_env(host: Any, tmp_path: Path, mode: str) -> dict[str, str]:
    bin_dir = tmp_path / "wrap"
    bin_dir.mkdir()
    script = bin_dir / "iris-wrapped"  # not "iris": the containment guard allows only the sandbox's
    script.write_text(FAKE_IRIS)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = dict(host.env)
    env.update(
        PATH=f"{bin_dir}:{env['PATH']}",
        REAL_IRIS=str(host.bin_dir / "iris"),
        FAKE_MODE=mode,
        PIDFILE=str(tmp_path / "stop.pid"),
    )
    return env


def test_stop_that_hangs_is_killed_after_the_safety_timeout(tmp_path: Path) -> None:
    with make_host(tmp_path) as host:
        tool = tool_for(host, stop_timeout_s=0.5)
        tool.env = wrapped_env(host, tmp_path, "hang")
        tool.iris_cmd = "iris-wrapped"
        started = time.monotonic()
        result = tool.restart(dry_run=False)
        assert time.monotonic() - started < 10
        assert result.status is ToolStatus.FAILURE
        assert "`iris-wrapped stop IRIS quietly` did not finish within 0.5s (safety timeout)" in (
            result.message
        )
        hung = int((tmp_path / "stop.pid").read_text())
        # our own child's whole group was killed: the shell and its sleep are gone
        assert not Path(f"/proc/{hung}").exists()


def test_processes_that_do_not_end_fail_after_the_timeout(tmp_path: Path) -> None:
    with make_host(tmp_path) as host:
        tool = tool_for(host, stop_timeout_s=0.3, poll_interval_s=0.05)
        tool.env = wrapped_env(host, tmp_path, "lie")
        tool.iris_cmd = "iris-wrapped"
        result = tool.restart(dry_run=False)
        assert result.status is ToolStatus.FAILURE
        assert "still has processes" in result.message
        assert "(safety timeout)" in result.message
        assert host.status() == "running"  # it never started a second copy


def test_stopped_but_not_started_is_partial_with_the_evidence(tmp_path: Path) -> None:
    with make_host(tmp_path, cpf={"config": {"globals": "0,0,600,0,0,0"}}) as host:
        host.set_sysctl("kernel.shmmax", 33554432)  # the next start cannot allocate
        result = tool_for(host).restart(dry_run=False)
        assert result.status is ToolStatus.PARTIAL
        assert "`iris start IRIS` failed" in result.message
        assert [(c.before, c.after, c.applied) for c in result.changes] == [
            ("running", "down", True)
        ]
        assert result.details["pids_after"] == []
        assert any("Failed to allocate" in line for line in result.confirmations)
        assert host.status() == "down"
