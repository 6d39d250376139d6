"""``pytest-iris kernel`` and ``pytest-iris restart`` run as real subprocesses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pytester_support import run_cli
from tools_support import install, make_procfs

MIB = 1024 * 1024
CPF = "[config]\nglobals=0,0,600,0,0,0\ngmheap=0\njrnbufs=64\nroutines=0\n"


def cli(
    *args: str, deny: str = "none", root: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The command without the developer's PYTEST_IRIS_* (their log level would add lines)."""
    env = {} if root is None else {"FAKE_PROCFS": str(root / "proc"), "FAKE_DENY": deny}
    return run_cli(None, *args, env=env)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    host = tmp_path / "host"
    make_procfs(host / "proc")
    (host / "usr/irissys").mkdir(parents=True)
    (host / "usr/irissys/iris.cpf").write_text(CPF)
    install(host / "bin", "sysctl")
    return host


def test_kernel_plan_prints_current_proposed_and_why(root: Path) -> None:
    done = cli("kernel", "plan", "--root", str(root), "--shared-memory", "495", root=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "kernel plan for 495MB shared memory"
    row = next(line for line in done.stdout.splitlines() if line.startswith("kernel.shmmax"))
    assert row.split()[:3] == ["kernel.shmmax", "33554432", str(511 * MIB)]
    assert "495MB + 16MB margin" in row
    assert "success: dry run: 1 change planned" in done.stdout
    assert (root / "proc/sys/kernel/shmmax").read_text() == "33554432\n"
    assert done.stderr == ""  # events below warning stay quiet on a terminal


def test_kernel_apply_is_a_dry_run_without_apply(root: Path) -> None:
    done = cli("kernel", "apply", "--root", str(root), "--shared-memory", "495", root=root)
    assert done.returncode == 0
    assert f"planned: kernel.shmmax: 33554432 -> {511 * MIB}" in done.stdout
    assert (root / "proc/sys/kernel/shmmax").read_text() == "33554432\n"


def test_kernel_apply_sizes_from_the_cpf_and_persists(root: Path) -> None:
    done = cli("kernel", "apply", "--root", str(root), "--apply", "--persist", "--json", root=root)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success"
    assert result["dry_run"] is False
    shmmax = int((root / "proc/sys/kernel/shmmax").read_text())
    assert shmmax > 600 * MIB  # globals alone are 600 MB
    assert result["changes"][0] == {
        "target": "kernel.shmmax",
        "before": 33554432,
        "after": shmmax,
        "applied": True,
        "reason": result["changes"][0]["reason"],
    }
    conf = root / "etc/sysctl.d/99-intersystems-iris.conf"
    assert f"kernel.shmmax = {shmmax}" in conf.read_text()


def test_kernel_apply_refused_prints_the_commands(root: Path) -> None:
    done = cli(
        "kernel", "apply", "--root", str(root), "--shared-memory", "495", "--apply",
        root=root, deny="*",
    )  # fmt: skip
    assert done.returncode == 1
    assert f"run as root:\n  sudo sysctl -w kernel.shmmax={511 * MIB}" in done.stderr


def test_a_root_without_its_own_commands_never_runs_the_hosts(root: Path) -> None:
    (root / "bin/sysctl").unlink()
    done = cli("kernel", "apply", "--root", str(root), "--shared-memory", "495", "--apply")
    assert done.returncode == 1
    assert f"command 'sysctl' not found (PATH={root / 'bin'})" in done.stderr


def test_kernel_paths_outside_the_root_are_bad_input(root: Path) -> None:
    done = cli("kernel", "plan", "--root", str(root), "--cpf", "../../etc/passwd")
    assert done.returncode == 2
    assert "leaves the host root" in done.stderr


def test_restart_refuses_then_force_restarts_a_sandbox(tmp_path: Path) -> None:
    from pytest_iris.sandbox import host as sandbox

    host = sandbox.SandboxHost(tmp_path / "sandbox", users=1).build()
    done = cli("restart", "--root", str(host.root), "--apply")
    assert done.returncode == 1
    assert "refusing to stop IRIS: 1 client connection established" in done.stderr
    assert host.status() == "running"
    before = sorted(p for pids in host.pids().values() for p in pids)
    done = cli("restart", "--root", str(host.root), "--apply", "--force")
    assert done.returncode == 0, done.stderr
    assert "IRIS restarted: pids" in done.stdout
    assert any(
        line.startswith("log: ") and "Allocated" in line for line in done.stdout.splitlines()
    )
    after = sorted(p for pids in host.pids().values() for p in pids)
    assert not set(before) & set(after)


def test_restart_dry_run_by_default(tmp_path: Path) -> None:
    from pytest_iris.sandbox import host as sandbox

    host = sandbox.SandboxHost(tmp_path / "sandbox").build()
    log = host.log_text()
    done = cli("restart", "--root", str(host.root))
    assert done.returncode == 0
    assert "dry run: would run iris stop IRIS quietly; then iris start IRIS" in done.stdout
    assert host.log_text() == log
