"""How-to examples of docs/tools.md: each one is included in that page."""

import os
from pathlib import Path

import pytest

from pytest_iris import (
    CommandPrivilegeError,
    Dispatcher,
    KernelTool,
    RemediationCommand,
    SharedMemoryPlan,
    ValidationError,
)
from pytest_iris.memory import allocated_messages, plan_shared_memory
from pytest_iris.settings import load_settings
from pytest_iris.tools.cpf import CpfFile, CpfTool, shared_memory_plan


def test_plan_the_kernel_for_495_mb():
    # a procfs tree: the real /proc, a sandbox's, or (here) a few files
    for key, value in {
        "kernel/shmmax": "33554432",
        "kernel/shmall": "2097152",
        "kernel/sem": "32000 1024000000 500 32000",
        "kernel/msgmni": "32000",
        "vm/nr_hugepages": "0",
    }.items():
        Path("proc/sys", key).parent.mkdir(parents=True, exist_ok=True)
        Path("proc/sys", key).write_text(value + "\n")
    Path("proc/meminfo").write_text("MemTotal: 16303420 kB\nHugepagesize: 2048 kB\n")

    tool = KernelTool("proc")
    plan = tool.plan(SharedMemoryPlan(32, 80, 64, 4, 300, 5, 9, rounding_mb=1))  # 495 MB
    print(plan.render())  # parameter, current, proposed, why
    assert plan.commands() == ["sysctl -w kernel.shmmax=535822336"]  # (495 + 16) MB

    result = tool.apply(plan, persist="99-iris.conf")  # dry run: shows, changes nothing
    assert result.ok and result.dry_run and not Path("99-iris.conf").exists()
    assert [(c.target, c.before, c.after, c.applied) for c in result.changes] == [
        ("kernel.shmmax", 33554432, 535822336, False)
    ]
    assert result.details["persist"]["text"].endswith("kernel.shmmax = 535822336\n")

    huge = tool.plan(3580, huge_pages=True, margin_mb=0)
    assert [v.proposed for v in huge.changes if v.key == "vm.nr_hugepages"] == [1791]


def test_without_privilege_the_error_names_the_sudo_command():
    for key, value in {
        "kernel/shmmax": "33554432",
        "kernel/shmall": "2097152",
        "kernel/sem": "250 32000 32 128",
        "kernel/msgmni": "32000",
        "vm/nr_hugepages": "0",
    }.items():
        Path("proc/sys", key).parent.mkdir(parents=True, exist_ok=True)
        Path("proc/sys", key).write_text(value + "\n")
    Path("proc/meminfo").write_text("MemTotal: 16303420 kB\n")
    # a stand-in sysctl that answers like procps does for a user without the privilege
    Path("bin").mkdir()
    Path("bin/sysctl").write_text(
        '#!/bin/sh\necho "sysctl: permission denied on key \\"${2%%=*}\\"" >&2\nexit 1\n'
    )
    os.chmod("bin/sysctl", 0o755)

    tool = KernelTool("proc", env={"PATH": os.path.abspath("bin")})
    with pytest.raises(CommandPrivilegeError) as caught:
        tool.apply(tool.plan(495), dry_run=False)
    assert caught.value.commands == ("sudo sysctl -w kernel.shmmax=535822336",)
    assert caught.value.result.status == "failure"
    assert str(caught.value).endswith("run as root:\n  sudo sysctl -w kernel.shmmax=535822336")


@pytest.mark.iris_host(users=2)
def test_busy_instance_is_not_restarted(iris_sandbox):
    from pytest_iris import RestartTool

    tool = RestartTool("IRIS", procfs_path=iris_sandbox.proc, env=iris_sandbox.env)
    refused = tool.restart(dry_run=False)
    assert refused.status == "failure"
    assert refused.message.startswith("refusing to stop IRIS: 2 client connections established")
    assert iris_sandbox.status() == "running"

    forced = tool.restart(force=True, dry_run=False)
    assert forced.ok, forced.message
    assert any("Allocated" in line for line in forced.confirmations)
    assert forced.details["pids_before"] != forced.details["pids_after"]


@pytest.mark.iris_host(kernel={"kernel.shmmax": 33554432}, running=False)
def test_kernel_plan_on_the_sandbox(iris_dispatcher):
    plan = iris_dispatcher.dispatch_sync({"tool": "kernel", "action": "plan"})
    assert plan.ok
    shmmax = next(c for c in plan.changes if c.target == "kernel.shmmax")
    assert shmmax.before == 33554432 and shmmax.after > shmmax.before


def test_the_dispatcher_validates_and_routes():
    root = Path("host")
    for key, value in {
        "kernel/shmmax": "33554432",
        "kernel/shmall": "2097152",
        "kernel/sem": "250 32000 32 128",
        "kernel/msgmni": "32000",
        "vm/nr_hugepages": "0",
    }.items():
        (root / "proc/sys" / key).parent.mkdir(parents=True, exist_ok=True)
        (root / "proc/sys" / key).write_text(value + "\n")
    (root / "proc/meminfo").write_text("MemTotal: 16303420 kB\n")
    (root / "usr/irissys").mkdir(parents=True)
    (root / "usr/irissys/iris.cpf").write_text("[config]\nglobals=0,0,600,0,0,0\njrnbufs=64\n")

    dispatcher = Dispatcher(root, total_ram_mb=16384)
    plan = dispatcher.dispatch_sync(RemediationCommand(tool="kernel", action="plan"))
    assert plan.ok and plan.changes[0].target == "kernel.shmmax"  # sized from the host's CPF

    odd = dispatcher.dispatch_sync({"tool": "kernel", "action": "reboot"})
    assert odd.status == "failure"
    assert (
        odd.message == "invalid command: tool 'kernel' has no action 'reboot' (known: apply, plan)"
    )

    escape = dispatcher.dispatch_sync(
        RemediationCommand(tool="cpf", action="show", parameters={"path": "../../etc/passwd"})
    )
    assert escape.status == "failure" and "leaves the host root" in escape.message


def test_one_trace_from_command_to_tool(iris_events, tmp_path):
    from pathlib import Path

    from pytest_iris import Dispatcher, RemediationCommand
    from pytest_iris.tracing import current_trace_id, trace

    for key, value in {
        "kernel/shmmax": "33554432",
        "kernel/shmall": "2097152",
        "kernel/sem": "250 32000 32 128",
        "kernel/msgmni": "32000",
        "vm/nr_hugepages": "0",
    }.items():
        Path(tmp_path, "proc/sys", key).parent.mkdir(parents=True, exist_ok=True)
        Path(tmp_path, "proc/sys", key).write_text(value + "\n")
    Path(tmp_path, "proc/meminfo").write_text("MemTotal: 16303420 kB\n")

    with trace() as trace_id:  # e.g. opened when the failing message was read
        command = RemediationCommand(
            tool="kernel",
            action="plan",
            parameters={"shared_memory_mb": 1099},
            trace_id=current_trace_id(),
        )
    result = Dispatcher(tmp_path).dispatch_sync(command)
    assert result.trace_id == trace_id
    iris_events.assert_event("kernel.plan", total_mb=1099, trace_id=trace_id)
    assert iris_events.assert_one_trace() == trace_id


def test_tools_settings():
    settings = load_settings(tools={"budget_s": 20, "shmmax_margin_mb": 32})
    assert settings.tools.budget_s == 20 and settings.tools.dry_run is True


def test_set_apply_and_roll_back_a_cpf():
    Path("iris.cpf").write_bytes(
        b"[config]\r\nglobals=0,0,32,0,0,0\r\ngmheap=256000 \r\nroutines=80"
    )
    tool = CpfTool("iris.cpf", total_ram_mb=8192)

    dry = tool.set({"globals": 512, "[config]jrnbufs": 128})  # dry run: nothing written
    assert [(c.target, c.before, c.after, c.applied) for c in dry.changes] == [
        ("[config]globals", "0,0,32,0,0,0", "0,0,512,0,0,0", False),
        ("[config]jrnbufs", None, "128", False),
    ]
    assert dry.details["restart_required"] and "+globals=0,0,512,0,0,0" in dry.details["diff"]

    done = tool.set({"globals": 512}, apply=True)
    assert done.changes[0].applied and Path(done.details["backup"]).name.startswith("iris.cpf_")
    assert Path("iris.cpf").read_bytes() == (
        b"[config]\r\nglobals=0,0,512,0,0,0\r\ngmheap=256000 \r\nroutines=80"
    )

    plan = shared_memory_plan(CpfFile.read("iris.cpf"), total_ram_mb=8192)
    print(plan.total_mb, plan.breakdown_text())

    tool.rollback(apply=True)
    assert CpfFile.read("iris.cpf").get("config", "globals") == "0,0,32,0,0,0"


@pytest.mark.iris_host(memory_mb=8192)
def test_remediation_on_the_sandbox_cpf(iris_sandbox):
    tool = CpfTool(iris_sandbox.cpf_path, total_ram_mb=8192)
    result = tool.set({"globals": 1024, "jrnbufs": 128}, apply=True)
    assert result.ok and all(change.applied for change in result.changes)
    assert result.details["restart_required"]
    assert tool.shared_memory_plan().global_buffers_mb == 1024
    assert len(tool.backups()) == 1


def test_bad_jrnbufs_is_refused_and_nothing_written(tmp_path):
    cpf = tmp_path / "iris.cpf"
    cpf.write_bytes(b"[config]\nglobals=0,0,64,0,0,0\njrnbufs=64\n")
    with pytest.raises(
        ValidationError, match=r"\[config\]jrnbufs='4096' rejected.*rule: 16\.\.1024"
    ):
        CpfTool(cpf).set({"jrnbufs": 4096}, apply=True)
    assert cpf.read_bytes() == b"[config]\nglobals=0,0,64,0,0,0\njrnbufs=64\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.cpf"]


def test_the_allocated_lines_of_a_plan():
    plan = plan_shared_memory(32, 80, 64, 0, total_ram_mb=8192)
    assert allocated_messages(plan) == (
        "Allocated 495MB shared memory",
        "32MB global buffers, 80MB routine buffers, 64MB journal buffers, "
        "4MB buffer descriptors, 300MB heap, 5MB ECP, 9MB miscellaneous",
    )
    assert plan.reduced().global_buffers_mb == 28
