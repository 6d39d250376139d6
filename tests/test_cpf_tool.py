"""CpfTool: dry run, apply, rollback, merge, the memory estimate, ToolResult contents."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cpf_support import REAL_CPF_DIR, copy_real, real_cpf_files
from pytest_iris.errors import ToolError, ValidationError
from pytest_iris.memory import plan_shared_memory
from pytest_iris.models import ToolStatus
from pytest_iris.tools.cpf import CpfFile, CpfTool, lookup, parse_actions, shared_memory_plan
from pytest_iris.tracing import trace

FULL = "RedHatInsights-insights-core-test_iris-IRIS_CPF-2023.1.cpf"
COLUMNAR = "IRISMeister-iris-columnar-demo-UserCPF_merge.cpf"


def test_dry_run_reports_and_writes_nothing(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    before = path.read_bytes()
    with trace("0af7651916cd43dd8448eb211c80319c"):
        result = CpfTool(path, total_ram_mb=8192).set({"globals": 1024, "jrnbufs": 128})
    assert result.status is ToolStatus.SUCCESS and result.dry_run
    assert result.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert [(c.target, c.before, c.after, c.applied) for c in result.changes] == [
        ("[config]globals", "0,0,600,0,0,0", "0,0,1024,0,0,0", False),
        ("[config]jrnbufs", "64", "128", False),
    ]
    assert "restart required" in result.changes[0].reason
    assert result.details["restart_required"] is True
    assert "-globals=0,0,600,0,0,0\n+globals=0,0,1024,0,0,0" in result.details["diff"]
    assert result.details["shared_memory_mb"] == {
        "before": plan_shared_memory(600, 0, 64, 0, 8192).total_mb,
        "after": plan_shared_memory(1024, 0, 128, 0, 8192).total_mb,
    }
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.cpf"]


def test_locksiz_takes_effect_immediately(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    result = CpfTool(path).set({"locksiz": 16777216}, apply=True)
    assert result.changes[0].reason == "bytes; immediately"
    assert "shared_memory_mb" not in result.details
    assert result.details["restart_required"] is False


def test_apply_then_rollback_restores_byte_for_byte(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    original = path.read_bytes()
    tool = CpfTool(path, today=lambda: date(2023, 6, 27))
    applied = tool.set({"globals": "0,0,2048,0,0,0", "gmheap": 307200}, apply=True)
    assert applied.ok and all(c.applied for c in applied.changes)
    assert applied.details["backup"].endswith("iris.cpf_20230627")
    changed = path.read_bytes()

    planned = tool.rollback()
    assert planned.dry_run and path.read_bytes() == changed
    assert {(c.target, c.before, c.after) for c in planned.changes} == {
        ("[config]globals", "0,0,2048,0,0,0", "0,0,600,0,0,0"),
        ("[config]gmheap", "307200", "0"),
    }

    rolled = tool.rollback(apply=True)
    assert rolled.ok and all(c.applied for c in rolled.changes)
    assert path.read_bytes() == original
    # the rolled-back state was saved too: nothing is lost, and rollback is undoable
    assert [p.read_bytes() for p in tool.backups()] == [original, changed]
    tool.rollback(apply=True)
    assert path.read_bytes() == changed


def test_rollback_without_backup_fails_cleanly(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    result = CpfTool(path).rollback(apply=True)
    assert result.status is ToolStatus.FAILURE
    assert "no backup" in result.message


def test_file_changed_on_disk_during_apply_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_real(FULL, tmp_path)
    tool = CpfTool(path)
    real_read = tool.read

    def read_then_someone_edits() -> CpfFile:
        document = real_read()
        path.write_bytes(path.read_bytes() + b"\n[Other]\nx=1\n")
        return document

    monkeypatch.setattr(tool, "read", read_then_someone_edits)
    with pytest.raises(ToolError, match="changed on disk"):
        tool.set({"jrnbufs": 128}, apply=True)
    edited = path.read_bytes()
    assert edited.endswith(b"[Other]\nx=1\n") and b"jrnbufs=64" in edited
    assert tool.backups() == []


def _merge_files() -> list[object]:
    """Every real partial CPF (the whole ones start with a [ConfigFile] section)."""
    names: list[object] = [
        p.name for p in real_cpf_files() if not CpfFile.read(p).has_section("ConfigFile")
    ]
    return names or [pytest.param("none", marks=pytest.mark.skip(reason=f"no {REAL_CPF_DIR}"))]


def test_corpus_has_merge_files() -> None:
    if not real_cpf_files():
        pytest.skip(f"real CPF corpus not found at {REAL_CPF_DIR}")
    assert len(_merge_files()) == len(real_cpf_files()) - 2


@pytest.mark.parametrize("merge_name", _merge_files())
def test_every_real_merge_file_merges_into_a_full_cpf(merge_name: str, tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    merge = copy_real(merge_name, tmp_path, target="merge.cpf")
    merge_doc = CpfFile.read(merge)
    result = CpfTool(path, total_ram_mb=8192).merge(merge, apply=True)
    assert result.ok, result.message
    merged = CpfFile.read(path)
    for entry in merge_doc.entries():
        if entry.section and entry.section != "Actions":
            parameter = lookup(entry.section, entry.key)
            expected = entry.value
            if parameter is not None and parameter.name == "globals" and "," not in expected:
                expected = f"0,0,{expected},0,0,0"
            assert merged.get(entry.section, entry.key) == expected
    assert "[Actions]" not in path.read_text(encoding="utf-8", errors="surrogateescape")
    assert result.confirmations[0] == f"Merging {merge} into {path}"
    assert result.confirmations[1:3] == (
        f"Validating CPF file {path}_Merge",
        f"No errors found in CPF file {path}_Merge",
    )
    assert len(result.details["actions"]) == len(parse_actions(merge_doc))


def test_merge_records_actions(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    merge = copy_real(COLUMNAR, tmp_path, target="merge.cpf")
    result = CpfTool(path).merge(merge)
    assert result.dry_run
    assert [(a["line"], a["verb"], a["properties"]["Name"]) for a in result.details["actions"]] == [
        (13, "CreateDatabase", "MYAPP"),
        (14, "CreateNamespace", "MYAPP"),
        (15, "CreateDatabase", "NYTAXI"),
        (16, "CreateNamespace", "NYTAXI"),
    ]
    assert result.confirmations[-2:] == (
        "Reading [Actions] section",
        "Validating [Actions] section",
    )
    assert {c.target for c in result.changes} >= {"[config]globals", "[SQL]SaveMAC"}


def test_merge_with_invalid_value_writes_nothing(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    before = path.read_bytes()
    merge = tmp_path / "bad.cpf"
    merge.write_bytes(b"[config]\r\nglobals=0,0,64,0,0,0\r\njrnbufs=4096")
    with pytest.raises(ValidationError, match=r"bad.cpf:3: \[config\]jrnbufs='4096'"):
        CpfTool(path).merge(merge, apply=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.cpf", "iris.cpf"]


def test_malformed_action_rejected(tmp_path: Path) -> None:
    merge = CpfFile.parse("[Actions]\nCreateDatabase:Name=A,Directory=/x\nFrobnicate:Name=B\n")
    with pytest.raises(ValidationError, match=r":3: \[Actions\] line 'Frobnicate:Name=B'"):
        parse_actions(merge)
    with pytest.raises(ValidationError, match="has no Name="):
        parse_actions(CpfFile.parse("[Actions]\nModifyService:Enabled=1\n"))


def test_shared_memory_plan_from_cpf(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    assert shared_memory_plan(path, 8192) == plan_shared_memory(600, 0, 64, 0, 8192)
    auto = CpfFile.parse("[config]\nglobals=0,0,0,0,0,0\nroutines=0\n")
    plan = shared_memory_plan(auto, total_ram_mb=3812)
    assert (plan.global_buffers_mb, plan.routine_buffers_mb, plan.heap_mb) == (953, 95, 300)
    tuned = CpfFile.parse("[config]\nglobals=0,0,23552,0,0,0\ngmheap=1048576\nroutines=512\n")
    plan = shared_memory_plan(tuned, 1)
    assert (plan.global_buffers_mb, plan.routine_buffers_mb, plan.heap_mb) == (23552, 512, 1024)
    assert plan.journal_buffers_mb == 64


def test_show_lists_parameters_and_memory(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    result = CpfTool(path, total_ram_mb=8192).show()
    assert result.ok
    row = result.details["parameters"]["[config]gmheap"]
    assert row["value"] == "0" and row["unit"] == "KB" and row["restart_required"] is True
    expected = plan_shared_memory(600, 0, 64, 0, 8192)
    assert result.details["shared_memory"]["total_mb"] == expected.total_mb
    assert expected.breakdown_text() in result.message
    assert result.details["huge_pages"] == "preferred"


def test_validate_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_text(
        "[config]\nglobals=0,0,64\njrnbufs=2\ngmheap=16384\nlocksiz=33554432\nstray line\n"
    )
    result = CpfTool(path).validate()
    assert result.status is ToolStatus.FAILURE
    problems = result.details["problems"]
    assert len(problems) == 4
    assert problems[0].startswith("line 6: 'stray line'")
    assert "line 2: [config]globals='0,0,64' rejected" in problems[1]
    assert "line 3: [config]jrnbufs='2' rejected" in problems[2]
    assert "cannot exceed" in problems[3]


def test_missing_file_is_a_tool_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"cannot read CPF file .*iris\.cpf"):
        CpfTool(tmp_path / "iris.cpf").show()


def test_events_carry_the_trace_id(tmp_path: Path) -> None:
    from pytest_iris.testing import capture_events

    path = copy_real(FULL, tmp_path)
    tool = CpfTool(path, today=lambda: date(2024, 1, 2))
    with capture_events() as events, trace("4bf92f3577b34da6a3ce929d0e0e4736"):
        tool.set({"jrnbufs": 128}, apply=True)
        with pytest.raises(ValidationError):
            tool.set({"jrnbufs": 1}, apply=True)
    events.assert_event("cpf.backup", backup=str(tmp_path / "iris.cpf_20240102"))
    events.assert_event("cpf.set.applied", changes=["[config]jrnbufs"])
    rejected = events.assert_event("cpf.rejected", action="set")
    assert "[config]jrnbufs='1'" in rejected["error"]
    assert events.trace_ids() == {"4bf92f3577b34da6a3ce929d0e0e4736"}


def test_validate_flags_conflicting_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_text(
        "[config]\nglobals=0,0,32,0,0,0\nglobals=0,0,64,0,0,0\nroutines=64\nroutines=64\n"
    )
    result = CpfTool(path).validate()
    assert result.details["problems"] == [
        "lines 2, 3: [config]globals is set 2 times with different values; "
        "pytest-iris reads the last ('0,0,64,0,0,0')"
    ]


def test_existing_rule_breach_does_not_block_an_unrelated_fix(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_text("[config]\ngmheap=16384\nlocksiz=33554432\njrnbufs=64\n")
    assert CpfTool(path).set({"jrnbufs": 128}, apply=True).ok
    fixed = CpfTool(path).set({"gmheap": 65536}, apply=True)
    assert fixed.ok
    with pytest.raises(ValidationError, match="cannot exceed"):
        CpfTool(path).set({"gmheap": 20000})


def test_rollback_to_a_named_backup(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    original = path.read_bytes()
    days = iter([date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)])
    tool = CpfTool(path, today=lambda: next(days))
    tool.set({"jrnbufs": 96}, apply=True)
    tool.set({"jrnbufs": 128}, apply=True)
    result = tool.rollback(apply=True, backup="iris.cpf_20240101")
    assert result.details["restored_from"] == str(tmp_path / "iris.cpf_20240101")
    assert path.read_bytes() == original
    assert [c.after for c in result.changes] == ["64"]


def test_rollback_to_iris_last_good_cpf(tmp_path: Path) -> None:
    """Real install directories hold ``_LastGood_.cpf`` next to iris.cpf (not in facts.md)."""
    path = copy_real(FULL, tmp_path)
    last_good = copy_real(FULL, tmp_path, target="_LastGood_.cpf")
    CpfTool(path).set({"globals": 4096}, apply=True)
    result = CpfTool(path).rollback(apply=True, backup="_LastGood_.cpf")
    assert result.ok and path.read_bytes() == last_good.read_bytes()
    assert [(c.target, c.after) for c in result.changes] == [("[config]globals", "0,0,600,0,0,0")]
