"""The kernel tool bounds what the CLI bounds, for every caller (dispatcher, remediators).

User trial: through the dispatcher (as a remediator's command), ``kernel.apply`` with
``shared_memory_mb=10**30`` succeeded, setting kernel.shmmax to a 37-digit number no
kernel takes, and ``instances=10**9`` set kernel.msgmni to 3,000,000,000; the CLI
refuses both (1..67108864 MB, 1..1000 instances).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris._limits import MAX_RAM_MB
from pytest_iris.sandbox import SandboxHost
from pytest_iris.tools.dispatch import Dispatcher


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"shared_memory_mb": 10**30},
            f"shared memory total must be a whole number of MB in 1..{MAX_RAM_MB}, "
            "got 1000000000000000000000000000000",
        ),
        ({"instances": 10**9}, "instances must be in 1..1000, got 1000000000"),
        (
            {"shared_memory_mb": 1024, "margin_mb": 10**20},
            f"margin_mb must be in 0..{MAX_RAM_MB}, got 100000000000000000000",
        ),
    ],
)
def test_an_absurd_kernel_plan_is_refused(
    tmp_path: Path, parameters: dict[str, int], message: str
) -> None:
    with SandboxHost(tmp_path / "host") as host:
        before = host.sysctl("kernel.shmmax").stdout
        result = Dispatcher.for_sandbox(host).dispatch_sync(
            {"tool": "kernel", "action": "apply", "dry_run": False, "parameters": parameters}
        )
        assert result.status == "failure"
        assert message in result.message
        assert host.sysctl("kernel.shmmax").stdout == before
