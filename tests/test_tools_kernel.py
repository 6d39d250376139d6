"""The kernel tool against a procfs tree in tmp_path with a stand-in ``sysctl``.

The namespaced runs with the real ``sysctl`` live in test_tools_kernel_live.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pytest_iris.errors import CommandPrivilegeError, PrivilegeError, ToolError, ValidationError
from pytest_iris.memory import SharedMemoryPlan
from pytest_iris.models import ToolStatus
from pytest_iris.testing import capture_events
from pytest_iris.tools.kernel import MIB, KernelTool
from pytest_iris.tracing import trace
from tools_support import install, make_procfs


@pytest.fixture
def procfs(tmp_path: Path) -> Path:
    return make_procfs(tmp_path / "proc")


@pytest.fixture
def fake_env(tmp_path: Path, procfs: Path) -> dict[str, str]:
    bin_dir = install(tmp_path / "bin", "sysctl")
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_PROCFS": str(procfs), "FAKE_DENY": "none"}


def read(procfs: Path, key: str) -> str:
    return (procfs / "sys" / Path(*key.split("."))).read_text().strip()


def test_read_parses_tunables_and_meminfo(procfs: Path) -> None:
    state = KernelTool(procfs).read()
    assert state.shmmax == 33554432
    assert state.sem == (32000, 1024000000, 500, 32000)
    assert state.value("kernel.sem") == "32000 1024000000 500 32000"
    assert state.mem_total_kb == 16303420
    assert state.hugepagesize_kb == 2048
    assert state.total_ram_mb == 15921


def test_missing_or_garbled_procfs_names_the_file(tmp_path: Path) -> None:
    procfs = make_procfs(tmp_path / "proc")
    (procfs / "sys/kernel/shmmax").write_text("lots\n")
    with pytest.raises(ToolError, match=r"sys/kernel/shmmax holds 'lots', not integers"):
        KernelTool(procfs).read()
    (procfs / "sys/kernel/shmmax").unlink()
    with pytest.raises(ToolError, match=r"kernel.shmmax: .*sys/kernel/shmmax does not exist"):
        KernelTool(procfs).read()
    make_procfs(procfs)
    (procfs / "meminfo").write_text("MemTotal 12 kB\n")
    with pytest.raises(ToolError, match=r"meminfo:1: not a meminfo line"):
        KernelTool(procfs).read()


def test_plan_for_the_real_495mb_allocation(procfs: Path) -> None:
    # 06/26/23 ... Allocated 495MB shared memory (messages_real.log line 1)
    real = SharedMemoryPlan(32, 80, 64, 4, 300, 5, 9, rounding_mb=1)
    assert real.total_mb == 495
    plan = KernelTool(procfs, page_size=4096).plan(real)
    by_key = {v.key: v for v in plan.values}
    need = (495 + 16) * MIB
    assert by_key["kernel.shmmax"].proposed == need
    assert "495MB + 16MB margin = 511MB" in by_key["kernel.shmmax"].why
    # shmall (2097152 pages = 8 GB) already covers 511 MB
    assert not by_key["kernel.shmall"].needed
    assert not by_key["vm.nr_hugepages"].needed
    assert not by_key["kernel.msgmni"].needed
    assert [v.key for v in plan.changes] == ["kernel.shmmax"]
    assert plan.commands() == [f"sysctl -w kernel.shmmax={need}"]
    text = plan.render()
    assert "kernel.shmmax" in text
    assert "33554432" in text
    assert str(need) in text


def test_plan_shmall_in_pages_and_margin_from_settings(tmp_path: Path) -> None:
    from pytest_iris.tools.settings import ToolSettings

    procfs = make_procfs(tmp_path / "proc", **{"kernel.shmall": "1000"})
    tool = KernelTool(procfs, page_size=4096, settings=ToolSettings(shmmax_margin_mb=0))
    plan = tool.plan(100)
    shmall = {v.key: v for v in plan.values}["kernel.shmall"]
    assert shmall.proposed == 100 * MIB // 4096 == 25600
    assert {v.key: v for v in plan.values}["kernel.shmmax"].proposed == 100 * MIB


def test_plan_huge_pages_matches_the_documented_example(procfs: Path) -> None:
    # docs: 3580 MB of shared memory with 2 MB pages -> at least 1791 pages
    plan = KernelTool(procfs).plan(3580, huge_pages=True, margin_mb=0)
    huge = {v.key: v for v in plan.values}["vm.nr_hugepages"]
    assert huge.proposed == 1791
    assert "1791 pages" in huge.why


def test_plan_msgmni_three_per_instance(tmp_path: Path) -> None:
    procfs = make_procfs(tmp_path / "proc", **{"kernel.msgmni": "4"})
    plan = KernelTool(procfs).plan(100, instances=2)
    assert {v.key: v for v in plan.values}["kernel.msgmni"].proposed == 6


def test_plan_already_met_has_no_changes(tmp_path: Path) -> None:
    procfs = make_procfs(tmp_path / "proc", **{"kernel.shmmax": str(10**12)})
    plan = KernelTool(procfs).plan(495)
    assert plan.changes == ()


@pytest.mark.parametrize("bad", [0, -5])
def test_plan_rejects_a_bad_total(procfs: Path, bad: int) -> None:
    with pytest.raises(ValidationError, match=r"a whole number of MB in 1\.\."):
        KernelTool(procfs).plan(bad)


def test_dry_run_changes_nothing(procfs: Path, fake_env: dict[str, str]) -> None:
    tool = KernelTool(procfs, env=fake_env)
    with trace() as trace_id, capture_events() as events:
        result = tool.apply(tool.plan(495))
    assert result.status is ToolStatus.SUCCESS
    assert result.dry_run
    assert result.message == "dry run: 1 change planned"
    assert [(c.target, c.before, c.applied) for c in result.changes] == [
        ("kernel.shmmax", 33554432, False)
    ]
    assert read(procfs, "kernel.shmmax") == "33554432"
    assert result.trace_id == trace_id
    events.assert_event("kernel.plan", trace_id=trace_id, total_mb=495)
    events.assert_event("kernel.dry_run", trace_id=trace_id)
    events.assert_no_event("kernel.sysctl")


def test_apply_runs_sysctl_and_reads_back(procfs: Path, fake_env: dict[str, str]) -> None:
    tool = KernelTool(procfs, env=fake_env)
    plan = tool.plan(3580, huge_pages=True)
    with capture_events() as events:
        result = tool.apply(plan, dry_run=False)
    assert result.status is ToolStatus.SUCCESS, result.message
    assert read(procfs, "kernel.shmmax") == str((3580 + 16) * MIB)
    assert read(procfs, "vm.nr_hugepages") == "1791"
    assert all(c.applied for c in result.changes)
    assert f"kernel.shmmax = {(3580 + 16) * MIB}" in result.confirmations
    assert [e["key"] for e in events.named("kernel.sysctl")] == ["kernel.shmmax", "vm.nr_hugepages"]
    # applying the same plan again finds nothing left to do
    assert tool.plan(3580, huge_pages=True).changes == ()


def test_refusal_names_the_commands_to_run(procfs: Path, fake_env: dict[str, str]) -> None:
    fake_env["FAKE_DENY"] = "vm.nr_hugepages"
    tool = KernelTool(procfs, env=fake_env)
    plan = tool.plan(3580, huge_pages=True)
    with pytest.raises(CommandPrivilegeError) as caught:
        tool.apply(plan, dry_run=False)
    error = caught.value
    assert isinstance(error, PrivilegeError)
    assert error.commands == ("sudo sysctl -w vm.nr_hugepages=1791",)
    assert "sudo sysctl -w vm.nr_hugepages=1791" in str(error)
    assert 'permission denied on key "vm.nr_hugepages"' in str(error)
    # shmmax went through before the refusal: the result says so
    assert error.result.status is ToolStatus.PARTIAL
    assert [(c.target, c.applied) for c in error.result.changes] == [
        ("kernel.shmmax", True),
        ("vm.nr_hugepages", False),
    ]
    assert read(procfs, "vm.nr_hugepages") == "0"


def test_refusal_of_the_first_key_lists_every_command(
    procfs: Path, fake_env: dict[str, str]
) -> None:
    fake_env["FAKE_DENY"] = "*"
    tool = KernelTool(procfs, env=fake_env)
    with pytest.raises(CommandPrivilegeError) as caught:
        tool.apply(tool.plan(3580, huge_pages=True), dry_run=False)
    assert caught.value.commands == (
        f"sudo sysctl -w kernel.shmmax={(3580 + 16) * MIB}",
        "sudo sysctl -w vm.nr_hugepages=1791",
    )
    assert caught.value.result.status is ToolStatus.FAILURE


def test_other_sysctl_failure_is_a_failure_result(procfs: Path, fake_env: dict[str, str]) -> None:
    tool = KernelTool(procfs, env=fake_env)
    plan = tool.plan(495)
    (procfs / "sys/kernel/shmmax").unlink()
    result = tool.apply(plan, dry_run=False)
    assert result.status is ToolStatus.FAILURE
    assert "sysctl -w kernel.shmmax=" in result.message
    assert "cannot stat" in result.message


def test_missing_sysctl_is_a_tool_error(procfs: Path, tmp_path: Path) -> None:
    tool = KernelTool(procfs, sysctl="sysctl", env={"PATH": str(tmp_path / "nowhere")})
    with pytest.raises(ToolError, match=r"command 'sysctl' not found \(PATH=.*nowhere\)"):
        tool.apply(tool.plan(495), dry_run=False)


def test_persist_writes_a_sysctl_d_file_keeping_other_lines(
    procfs: Path, fake_env: dict[str, str], tmp_path: Path
) -> None:
    conf = tmp_path / "etc/sysctl.d/99-iris.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("# site settings\nvm.swappiness = 5\nkernel.shmmax = 1\n")
    os.chmod(conf, 0o640)
    tool = KernelTool(procfs, env=fake_env)
    result = tool.apply(tool.plan(495), dry_run=False, persist=conf)
    assert result.ok
    need = (495 + 16) * MIB
    assert conf.read_text() == f"# site settings\nvm.swappiness = 5\nkernel.shmmax = {need}\n"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert [p.name for p in conf.parent.iterdir()] == ["99-iris.conf"]  # no temp file left


def test_persist_in_a_dry_run_shows_the_file_only(
    procfs: Path, fake_env: dict[str, str], tmp_path: Path
) -> None:
    conf = tmp_path / "99-iris.conf"
    tool = KernelTool(procfs, env=fake_env)
    result = tool.apply(tool.plan(495), persist=conf)
    assert not conf.exists()
    assert result.details["persist"]["text"].endswith(f"kernel.shmmax = {(495 + 16) * MIB}\n")


def test_a_call_outside_any_trace_has_one_id_and_leaves_none(
    procfs: Path, fake_env: dict[str, str]
) -> None:
    from pytest_iris.tracing import current_trace_id

    assert current_trace_id() is None
    tool = KernelTool(procfs, env=fake_env)
    plan = tool.plan(495)
    with capture_events() as events:
        result = tool.apply(plan, dry_run=False)
    assert events.assert_one_trace() == result.trace_id
    assert current_trace_id() is None  # nothing leaks into later tests of this worker
