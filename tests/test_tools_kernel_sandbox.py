"""The kernel tool against the sandbox host: its procfs, its sysctl, its sudo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_iris.errors import CommandPrivilegeError
from pytest_iris.models import ToolStatus
from pytest_iris.sandbox import host as sandbox
from pytest_iris.testing import capture_events
from pytest_iris.tools.kernel import MIB, KernelTool


def host_for(tmp_path: Path, **kwargs: Any) -> Any:
    kwargs.setdefault("kernel", {"kernel.shmmax": 33554432, "vm.nr_hugepages": 0})
    return sandbox.SandboxHost(tmp_path / "host", running=False, **kwargs)


def test_reads_the_sandbox_procfs(tmp_path: Path) -> None:
    with host_for(tmp_path, total_ram_mb=8192) as host:
        state = KernelTool(host.proc, env=host.env).read()
        assert state.shmmax == 33554432 == int(host.read_sysctl("kernel.shmmax"))
        assert state.total_ram_mb == 8192
        assert state.value("kernel.sem") == host.read_sysctl("kernel.sem").replace("\t", " ")


def test_applies_through_the_sandbox_sysctl_as_root(tmp_path: Path) -> None:
    with host_for(tmp_path) as host:
        tool = KernelTool(host.proc, env=host.env)
        result = tool.apply(tool.plan(1099, huge_pages=True), dry_run=False)
        assert result.status is ToolStatus.SUCCESS, result.message
        assert int(host.read_sysctl("kernel.shmmax")) == (1099 + 16) * MIB
        assert int(host.read_sysctl("vm.nr_hugepages")) == result.changes[-1].after


def test_non_root_user_is_refused_with_the_commands(tmp_path: Path) -> None:
    with host_for(tmp_path, user="irisowner") as host:
        tool = KernelTool(host.proc, env=host.env)
        with pytest.raises(CommandPrivilegeError) as caught:
            tool.apply(tool.plan(1099), dry_run=False)
        assert caught.value.commands == (f"sudo sysctl -w kernel.shmmax={1115 * MIB}",)
        assert 'permission denied on key "kernel.shmmax"' in str(caught.value)
        assert host.read_sysctl("kernel.shmmax") == "33554432"


def test_sudo_auto_escalates_when_sudo_allows_it(tmp_path: Path) -> None:
    with host_for(tmp_path, user="irisowner", sudo="nopasswd") as host:
        tool = KernelTool(host.proc, env=host.env, sudo="auto")
        with capture_events() as events:
            result = tool.apply(tool.plan(1099), dry_run=False)
        assert result.ok, result.message
        assert int(host.read_sysctl("kernel.shmmax")) == 1115 * MIB
        events.assert_event("kernel.sudo", key="kernel.shmmax")


@pytest.mark.parametrize(
    ("sudo", "why"),
    [("password", "a password is required"), ("denied", "not in the sudoers file")],
)
def test_sudo_that_cannot_help_keeps_both_reasons(tmp_path: Path, sudo: str, why: str) -> None:
    with host_for(tmp_path, user="irisowner", sudo=sudo) as host:
        tool = KernelTool(host.proc, env=host.env, sudo="auto")
        with pytest.raises(CommandPrivilegeError) as caught:
            tool.apply(tool.plan(1099), dry_run=False)
        message = str(caught.value)
        assert 'permission denied on key "kernel.shmmax"' in message
        assert why in message
        assert f"run as root:\n  sudo sysctl -w kernel.shmmax={1115 * MIB}" in message
        assert host.read_sysctl("kernel.shmmax") == "33554432"
