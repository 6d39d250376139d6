"""A CPF that does not read unambiguously is refused for edits (user trial: ``cpf set
broken.cpf locksiz=... --apply`` edited the second ``[config]`` of a file holding a
garbage line and a NUL byte, and printed the NUL raw in its diff)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from pytest_iris.errors import ValidationError
from pytest_iris.models import RemediationCommand, ToolStatus
from pytest_iris.testing import capture_events
from pytest_iris.tools.cpf import CpfFile, CpfTool
from pytest_iris.tools.dispatch import Dispatcher
from pytester_support import run_cli

#: the trial's file, byte for byte
BROKEN = b"[config]\nglobals=0,0,abc\nno equals here\n[config]\nlocksiz=33554432\n\x00\n"
REFUSAL = (
    "cannot be edited unambiguously: line 3: 'no equals here' is not a [section], "
    "key=value or comment (and 2 more problems); nothing was changed"
)


def broken(tmp_path: Path, data: bytes = BROKEN) -> Path:
    path = tmp_path / "broken.cpf"
    path.write_bytes(data)
    return path


def test_validate_names_each_structure_problem(tmp_path: Path) -> None:
    result = CpfTool(broken(tmp_path)).validate()
    assert result.status is ToolStatus.FAILURE
    problems = result.details["problems"]
    assert problems[:3] == [
        "line 3: 'no equals here' is not a [section], key=value or comment",
        "line 4: [config] repeats the section of line 1",
        "line 6: '\\x00' holds a control character",
    ]
    assert "\x00" not in result.message


@pytest.mark.parametrize("apply", [False, True])
def test_set_is_refused_dry_run_or_applied_and_writes_nothing(tmp_path: Path, apply: bool) -> None:
    path = broken(tmp_path)
    with capture_events() as events, pytest.raises(ValidationError) as caught:
        CpfTool(path).set({"locksiz": 65536}, apply=apply)
    assert str(caught.value) == f"{path}: {REFUSAL} (see 'pytest-iris cpf validate')"
    assert path.read_bytes() == BROKEN
    assert os.listdir(tmp_path) == ["broken.cpf"]  # no backup, no temporary file
    assert [e["event"] for e in events if e["event"].startswith("cpf.")] == ["cpf.rejected"]


def test_merge_into_a_broken_cpf_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path)
    merge = tmp_path.parent / f"{tmp_path.name}-merge.cpf"
    merge.write_text("[config]\nlocksiz=65536\n")
    with pytest.raises(ValidationError, match="cannot be edited unambiguously: line 3"):
        CpfTool(path).merge(merge, apply=True)
    assert path.read_bytes() == BROKEN
    assert os.listdir(tmp_path) == ["broken.cpf"]


@pytest.mark.parametrize(
    ("data", "first"),
    [
        (
            b"[config]\nlocksiz=0\n[Config]\ngmheap=0\n",
            "line 3: [Config] repeats the section of line 1",
        ),
        (
            b"[config]\nlocksiz=0\x1b[31m\n",
            "line 2: 'locksiz=0\\x1b[31m' holds a control character",
        ),
        (b"locksiz=0\n[config]\n", "line 1: 'locksiz=0' is outside any [section]"),
    ],
)
def test_each_structure_problem_alone_blocks_an_edit(
    tmp_path: Path, data: bytes, first: str
) -> None:
    path = broken(tmp_path, data)
    with pytest.raises(ValidationError) as caught:
        CpfTool(path).set({"locksiz": 65536}, apply=True)
    assert f"unambiguously: {first}; nothing was changed" in str(caught.value)
    assert path.read_bytes() == data


def test_a_bad_value_does_not_block_the_edit_that_fixes_it(tmp_path: Path) -> None:
    path = broken(tmp_path, b"[config]\r\nglobals=0,0,abc\r\nlocksiz=5\r\n")
    tool = CpfTool(path, total_ram_mb=8192, today=lambda: date(2026, 11, 30))
    assert tool.validate().status is ToolStatus.FAILURE  # both values are outside their rule
    result = tool.set({"globals": "0,0,256,0,0,0", "locksiz": 65536}, apply=True)
    assert result.status is ToolStatus.SUCCESS, result.message
    assert path.read_bytes() == b"[config]\r\nglobals=0,0,256,0,0,0\r\nlocksiz=65536\r\n"
    assert result.details["shared_memory_mb"]["before"] is None  # 'abc' is no size
    assert tool.validate().status is ToolStatus.SUCCESS


def test_the_dispatcher_returns_the_refusal_as_a_failure_result(tmp_path: Path) -> None:
    cpf = tmp_path / "usr/irissys/iris.cpf"
    cpf.parent.mkdir(parents=True)
    cpf.write_bytes(BROKEN)
    for dry_run in (True, False):
        result = Dispatcher(tmp_path, total_ram_mb=8192).dispatch_sync(
            RemediationCommand(
                tool="cpf",
                action="set",
                parameters={"changes": {"locksiz": 65536}},
                dry_run=dry_run,
            )
        )
        assert result.status is ToolStatus.FAILURE
        assert result.message == f"{cpf}: {REFUSAL} (see 'pytest-iris cpf validate')"
        assert result.details["error"] == "ValidationError"
        assert cpf.read_bytes() == BROKEN
        assert os.listdir(cpf.parent) == ["iris.cpf"]


def test_cli_refuses_with_one_line_and_exit_2(tmp_path: Path) -> None:
    path = broken(tmp_path)
    for extra in ((), ("--apply",)):
        done = run_cli(tmp_path, "cpf", "set", str(path), "locksiz=65536", *extra, env={})
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr == (
            f"pytest-iris cpf set: {path}: {REFUSAL} (see 'pytest-iris cpf validate')\n"
        )
        assert path.read_bytes() == BROKEN
        assert os.listdir(tmp_path) == ["broken.cpf"]


def test_rollback_of_a_broken_cpf_works_and_its_diff_escapes_control_bytes(
    tmp_path: Path,
) -> None:
    path = broken(tmp_path)
    good = b"[config]\nlocksiz=65536\n"
    (tmp_path / "broken.cpf_20261129").write_bytes(good)
    tool = CpfTool(path, today=lambda: date(2026, 11, 30))
    plan = tool.rollback()
    assert plan.status is ToolStatus.SUCCESS
    diff = plan.details["diff"]
    assert "-\\x00\n" in diff
    assert all(ch in "\t\n" or ch.isprintable() for ch in diff), repr(diff)
    assert tool.rollback(apply=True).status is ToolStatus.SUCCESS
    assert path.read_bytes() == good
    assert (tmp_path / "broken.cpf_20261130").read_bytes() == BROKEN


def test_a_diff_escapes_undecodable_bytes_and_keeps_tabs(tmp_path: Path) -> None:
    path = broken(tmp_path, b"[config]\nlocksiz=0\nName=caf\xe9\tx\n")
    assert CpfFile.read(path).structure_problems() == []
    diff = CpfTool(path).set({"locksiz": 65536}).details["diff"]
    assert "-locksiz=0\n+locksiz=65536\n" in diff
    assert " Name=caf\\xe9\tx\n" in diff
