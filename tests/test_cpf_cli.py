"""``pytest-iris cpf ...`` run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cpf_support import copy_real
from pytester_support import run_cli

FULL = "RedHatInsights-insights-core-test_iris-IRIS_CPF-2023.1.cpf"
ECP_SERVER = "IRISMeister-iris-ecp-cpf-UserCPF_server.cpf"


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(cwd, "cpf", *map(str, args), env={})


def test_set_dry_run_then_apply_then_rollback(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    original = path.read_bytes()

    dry = cli("set", path, "globals=1024", "[config]jrnbufs=128", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "dry run, 2 change(s) not applied" in dry.stdout
    assert "+globals=0,0,1024,0,0,0" in dry.stdout
    assert "restart required" in dry.stdout
    assert path.read_bytes() == original

    applied = cli("set", path, "config.globals=1024", "--apply", "--json", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    result = json.loads(applied.stdout)
    assert result["tool"] == "cpf" and result["dry_run"] is False
    assert result["changes"][0]["after"] == "0,0,1024,0,0,0"
    assert result["changes"][0]["applied"] is True
    assert len(result["trace_id"]) == 32
    assert b"globals=0,0,1024,0,0,0" in path.read_bytes()

    plan = cli("rollback", path, cwd=tmp_path)
    assert plan.returncode == 0 and "-globals=0,0,1024,0,0,0" in plan.stdout
    done = cli("rollback", path, "--apply", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == original


def test_invalid_value_exit_2_names_parameter_value_rule(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    original = path.read_bytes()
    run = cli("set", path, "jrnbufs=128", "MaxServerConn=300", "--apply", cwd=tmp_path)
    assert run.returncode == 2
    assert "[config]MaxServerConn='300' rejected" in run.stderr
    assert "rule: 0..254" in run.stderr
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.cpf"]
    bad = cli("set", path, "globals", cwd=tmp_path)
    assert bad.returncode == 2 and "is not NAME=VALUE" in bad.stderr


def test_show_validate_merge_and_missing_file(tmp_path: Path) -> None:
    path = copy_real(FULL, tmp_path)
    merge = copy_real(ECP_SERVER, tmp_path, target="merge.cpf")

    show = cli("show", path, "--ram-mb", "8192", cwd=tmp_path)
    assert show.returncode == 0, show.stderr
    assert "[config]globals" in show.stdout and "0,0,600,0,0,0" in show.stdout
    assert "MB global buffers" in show.stdout

    assert cli("validate", path, cwd=tmp_path).returncode == 0
    broken = tmp_path / "broken.cpf"
    broken.write_text("[config]\njrnbufs=1\n")
    invalid = cli("validate", broken, cwd=tmp_path)
    assert invalid.returncode == 1 and "jrnbufs='1' rejected" in invalid.stdout

    merged = cli("merge", path, merge, "--apply", cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr
    assert f"log: Merging {merge} into {path}" in merged.stdout
    assert "log: Validating [Actions] section" in merged.stdout
    assert b"MaxServers=10" in path.read_bytes()

    missing = cli("show", tmp_path / "nope.cpf", cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read CPF file" in missing.stderr
    assert cli("rollback", broken, "--apply", cwd=tmp_path).returncode == 1
