"""Two ``pytest-iris cpf set --apply`` on one file at once: both changes land.

200 pairs run in two long-lived worker processes (each calls the real CLI
entry, ``pytest_iris.cli.main``, once per pair), released together for each
pair so the two writers really race on the same file; a few pairs also run
as whole ``pytest-iris`` processes. Starting 400 interpreters would cost
minutes on two cores; the race is the same either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from pytest_iris.errors import ValidationError
from pytest_iris.tools.cpf import CpfFile, CpfTool
from pytest_iris.tools.cpf.storage import BackupRetention, backups
from pytester_support import run_cli, start_cli

PAIRS = 200
START = "[ConfigFile]\nProduct=IRIS\n\n[config]\nglobals=0,0,64,0,0,0\n\n[Race]\na=0\nb=0\n"

WORKER = r"""
import contextlib, io, sys
from pytest_iris.cli import main
key = sys.argv[1]
for line in sys.stdin:
    path, value = line.split()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = main(["cpf", "set", path, f"[Race]{key}={value}", "--apply", "--allow-unknown"])
    print(status, out.getvalue().replace("\n", " | "), flush=True)
"""


def _workers(*keys: str) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, key],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        for key in keys
    ]


def test_200_concurrent_pairs_lose_no_change_and_share_no_backup(tmp_path: Path) -> None:
    workers = _workers("a", "b")
    files = []
    try:
        for number in range(PAIRS):
            directory = tmp_path / f"pair{number}"
            directory.mkdir()
            path = directory / "iris.cpf"
            path.write_text(START)
            files.append(path)
            for worker, value in zip(workers, (f"A{number}", f"B{number}"), strict=True):
                assert worker.stdin is not None
                worker.stdin.write(f"{path} {value}\n")
            for worker in workers:  # both were released before either answered
                assert worker.stdout is not None
                reply = worker.stdout.readline()
                assert reply.startswith("0 ") and "applied" in reply, reply
    finally:
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.close()
            worker.wait(timeout=60)
    for number, path in enumerate(files):
        cpf = CpfFile.read(path)
        assert (cpf.get("Race", "a"), cpf.get("Race", "b")) == (f"A{number}", f"B{number}")
        saved = backups(path)
        assert len(saved) == 2 and len({p.name for p in saved}) == 2
        contents = [p.read_text() for p in saved]
        assert START in contents  # the first writer saved the original
        assert any(f"A{number}" in c or f"B{number}" in c for c in contents)
        assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_whole_cli_processes_race_safely(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_text(START)
    command = ["cpf", "set", str(path), "--apply", "--allow-unknown"]
    for number in range(3):
        children = [start_cli(None, *command, f"[Race]{key}={key}{number}") for key in "ab"]
        for child in children:
            _out, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
        cpf = CpfFile.read(path)
        assert (cpf.get("Race", "a"), cpf.get("Race", "b")) == (f"a{number}", f"b{number}")
    assert len(backups(path)) == 6


def test_backups_are_named_from_the_given_clock(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_text(START)
    tool = CpfTool(path, now=lambda: datetime(2031, 2, 3, 4, 5, 6), allow_unknown=True)
    result = tool.set({"[Race]a": "1"}, apply=True)
    assert Path(result.details["backup"]).name == "iris.cpf_20310203"


def test_retention_prunes_by_count_and_age(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_text(START)
    days = iter([date(2024, 1, d) for d in range(1, 11)] + [date(2024, 3, 1)])
    tool = CpfTool(
        path,
        today=lambda: next(days),
        allow_unknown=True,
        retention=BackupRetention(keep=4, max_age_days=None),
    )
    for value in range(10):
        tool.set({"[Race]a": str(value + 1)}, apply=True)
    assert [p.name for p in tool.backups()] == [f"iris.cpf_2024010{d}" for d in (7, 8, 9)] + [
        "iris.cpf_20240110"
    ]
    tool.retention = BackupRetention(keep=None, max_age_days=30)
    tool.set({"[Race]a": "99"}, apply=True)  # 2024-03-01: every January backup is too old
    assert [p.name for p in tool.backups()] == ["iris.cpf_20240301"]  # the new one is kept


@pytest.mark.parametrize(("keep", "age"), [(0, 1), (10**6, 1), (1, -1), (1, 10**6)])
def test_retention_bounds_are_validated(keep: int, age: int) -> None:
    with pytest.raises(ValidationError, match="allowed"):
        BackupRetention(keep=keep, max_age_days=age)


def test_rollback_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_text(START)
    other = tmp_path / "other.cpf"
    other.write_text("[ConfigFile]\nProduct=Cache\n\n[config]\nglobals=0,0,1,0,0,0\n")
    junk = tmp_path / "passwd"
    junk.write_text("root:x:0:0:root:/root:/bin/bash\n")
    unrelated = tmp_path / "unrelated.cpf"
    unrelated.write_text("[Elsewhere]\nx=1\n")
    for candidate, why in [(other, "Product"), (junk, "not a"), (unrelated, "no \\[section\\]")]:
        with pytest.raises(ValidationError, match=why):
            CpfTool(path).rollback(apply=True, backup=candidate)
        assert path.read_text() == START and CpfTool(path).backups() == []
    forced = CpfTool(path).rollback(apply=True, backup=other, force=True)
    assert forced.ok and path.read_text() == other.read_text()


def test_cli_rollback_refusal_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "iris.cpf"
    path.write_text(START)
    junk = tmp_path / "junk"
    junk.write_bytes(os.urandom(64).replace(b"\n", b"x") + b"\n")
    run = run_cli(None, "cpf", "rollback", str(path), "--apply", "--backup", str(junk))
    assert run.returncode == 2
    last = run.stderr.splitlines()[-1]  # before it: the JSON log event of the rejection
    assert last.startswith("pytest-iris cpf rollback: ") and "is not a backup of" in last
    assert "Traceback" not in run.stderr
    assert path.read_text() == START
