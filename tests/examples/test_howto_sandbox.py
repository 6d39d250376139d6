"""How-to: the sandbox's ``iris`` command per IRIS version, and recovery after ``iris force``.

The same two tests as the README's *The `iris` command* example.
"""

from __future__ import annotations

import pytest

from pytest_iris.log import read_log
from pytest_iris.sandbox import SandboxHost


@pytest.mark.iris_host(version="2020.4", cpf={"config": {"globals": "0,0,0,0,0,0"}})
def test_a_2020_console(iris_sandbox: SandboxHost) -> None:
    out = iris_sandbox.run(["iris", "stop", "IRIS", "restart"]).stdout
    assert "Automatically configuring buffers\n" in out
    assert "MB shared memory: " in out and "Copyright (c) 1986-2020" in out


def test_force_then_start_recovers_the_wij(iris_sandbox: SandboxHost) -> None:
    iris_sandbox.run(["iris", "force", "IRIS"])
    assert "1 alert(s)" in iris_sandbox.run(["iris", "start", "IRIS"]).stdout
    kinds = [item.kind for item in read_log(iris_sandbox.messages_log)]
    assert "wij-recovery" in kinds and "problem" not in kinds
