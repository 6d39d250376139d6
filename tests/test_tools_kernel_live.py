"""The kernel tool with the REAL ``sysctl`` and the real ``/proc``, never on the host.

Every run happens in a child that first drops to ``nobody`` (setpriv), so the
host's kernel can refuse it whatever it tries:

- live apply: nobody -> ``unshare --user --map-root-user --ipc``. Inside, the
  namespace's root may set the IPC tunables of its own new IPC namespace
  (``kernel.shmmax``, ``kernel.shmall``, ...) and nothing global: a write to
  ``vm.nr_hugepages`` is refused by the real kernel.
- privilege failure as a non-root user: root -> ``unshare --ipc`` (a private
  IPC namespace, in case) -> nobody, where every ``sysctl -w`` is refused.

The child imports a world-readable copy of the tool (tools_support.NobodyPython),
never the checkout, so the tests pass from a checkout under a private directory.
Skipped with the reason when namespaces, setpriv or an interpreter nobody
can run are not available.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools_support import NOBODY, NobodyPython, Unavailable

SCRIPT = """
import json, sys
from pytest_iris.errors import CommandPrivilegeError
from pytest_iris.testing import capture_events
from pytest_iris.tools.kernel import KernelTool
from pytest_iris.tracing import trace

args = json.loads(sys.argv[1])
tool = KernelTool("/proc", "sysctl", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
out = {"before": tool.read().shmmax}
with trace() as trace_id, capture_events() as events:
    plan = tool.plan(args["total_mb"], huge_pages=args["huge_pages"])
    try:
        result = tool.apply(plan, dry_run=False)
        out["result"] = result.model_dump(mode="json")
    except CommandPrivilegeError as error:
        out["error"] = str(error)
        out["commands"] = list(error.commands)
        out["result"] = error.result.model_dump(mode="json")
out["after"] = int(open("/proc/sys/kernel/shmmax").read())
out["trace_id"] = trace_id
out["event_traces"] = sorted(events.trace_ids())
print(json.dumps(out))
"""

#: What SCRIPT imports: these (and what they load) are copied where nobody can read them.
IMPORTS = [
    "pytest_iris.errors",
    "pytest_iris.testing",
    "pytest_iris.tools.kernel",
    "pytest_iris.tracing",
    "pytest_iris.atomic",
]


@pytest.fixture(scope="module")
def nobody() -> Iterator[NobodyPython]:
    """An interpreter nobody can run and a readable copy of the tool, wherever the checkout is."""
    try:
        runner = NobodyPython.prepare(IMPORTS)
    except Unavailable as why:
        pytest.skip(f"cannot run code as nobody here: {why}")
    yield runner
    runner.close()


def run_tool(nobody: NobodyPython, prefix: list[str], **args: Any) -> dict[str, Any]:
    done = nobody.run(prefix, SCRIPT, json.dumps(args))
    if done.returncode != 0 and ("unshare failed" in done.stderr or "unshare:" in done.stderr):
        pytest.skip(f"namespaces not permitted here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def host_shmmax() -> str:
    return Path("/proc/sys/kernel/shmmax").read_text()


def test_live_apply_in_an_ipc_namespace_with_the_real_sysctl(nobody: NobodyPython) -> None:
    before_host = host_shmmax()
    # 2**64 - 1 - 2**24 is the kernel default; ask for more than any real default
    # cannot work, so lower it first inside the namespace with the real sysctl.
    prefix = [
        *NOBODY,
        "unshare",
        "--user",
        "--map-root-user",
        "--ipc",
        "sh",
        "-c",
        'sysctl -q -w kernel.shmmax=33554432 kernel.shmall=8192 && exec "$@"',
        "sh",
    ]
    out = run_tool(nobody, prefix, total_mb=495, huge_pages=False)
    assert out["before"] == 33554432
    result = out["result"]
    assert result["status"] == "success", result
    need = (495 + 16) * 1024 * 1024
    assert out["after"] == need  # the real kernel holds the new value, read back from /proc
    assert [c["target"] for c in result["changes"]] == ["kernel.shmmax", "kernel.shmall"]
    assert f"kernel.shmmax = {need}" in result["confirmations"]
    assert out["event_traces"] == [out["trace_id"]] == [result["trace_id"]]
    assert host_shmmax() == before_host  # the host never saw it


def test_live_refusal_of_a_global_tunable_names_the_command(nobody: NobodyPython) -> None:
    before_host = host_shmmax()
    nr = Path("/proc/sys/vm/nr_hugepages").read_text()
    prefix = [
        *NOBODY,
        "unshare",
        "--user",
        "--map-root-user",
        "--ipc",
        "sh",
        "-c",
        'sysctl -q -w kernel.shmmax=33554432 && exec "$@"',
        "sh",
    ]
    pages = 100000 * 1024 // 2048 + 1
    if int(nr) >= pages:
        pytest.skip("host already has enough huge pages for the plan")
    out = run_tool(nobody, prefix, total_mb=100000, huge_pages=True)
    # shmmax (namespaced) went through; vm.nr_hugepages (global) was refused
    assert out["result"]["status"] == "partial"
    assert out["commands"] == [f"sudo sysctl -w vm.nr_hugepages={pages}"]
    assert 'permission denied on key "vm.nr_hugepages"' in out["error"]
    assert Path("/proc/sys/vm/nr_hugepages").read_text() == nr
    assert host_shmmax() == before_host


def test_privilege_failure_as_a_non_root_user(nobody: NobodyPython) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create the private IPC namespace before dropping to nobody")
    # root lowers shmmax in a private IPC namespace, then the tool runs as nobody there
    prefix = [
        "unshare",
        "--ipc",
        "sh",
        "-c",
        f'sysctl -q -w kernel.shmmax=33554432 && exec {" ".join(NOBODY)} "$@"',
        "sh",
    ]
    before_host = host_shmmax()
    out = run_tool(nobody, prefix, total_mb=495, huge_pages=False)
    need = (495 + 16) * 1024 * 1024
    assert out["result"]["status"] == "failure"
    assert out["commands"][0] == f"sudo sysctl -w kernel.shmmax={need}"
    assert f"run as root:\n  sudo sysctl -w kernel.shmmax={need}" in out["error"]
    assert host_shmmax() == before_host
