"""Every escape route from the issue, tried against canaries: refused, and the canary unchanged.

Each case runs ``tests/escape_routes.py`` in a private user + mount namespace
where canary files are bound over the real targets (``/proc/sys/kernel/shmmax``,
``/proc/sys/vm/nr_hugepages``, ``/etc/sysctl.d``): if a route got through, it
would change a canary, never the real host. A victim process started by the
test (outside the sandbox, and not a child of the guarded process) stands in
for a real process a signal must not reach. Run in both containment modes,
and with the live sandbox. Skipped where user namespaces are not permitted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROUTES_SCRIPT = Path(__file__).with_name("escape_routes.py")
DEADLINE_S = 120
WRITE_ROUTES = [
    "sh-c", "bash-lc", "sh-ec", "env-S", "eval", "command-substitution", "awk-system",
    "find-exec", "shell-script-file", "shell-stdin", "renamed-sysctl", "real-sysctl-by-path",
    "sandbox-sudo-sh", "sandbox-sudo-real-sysctl", "tee", "dd", "python-c",
    "multiprocessing-spawn", "os-system", "posix-spawn", "etc-sysctl-d", "sysctl-system",
]  # fmt: skip
SIGNAL_ROUTES = [
    "child-os-kill", "child-kill-command", "multiprocessing-kill", "pidfd-send-signal",
    "psutil-kill",
]  # fmt: skip
CANARY = "CANARY-do-not-change\n"

_WRAPPER = """set -e
if [ -n "$PROC_CANARIES" ]; then
  mount --bind "$CANARY_DIR/shmmax" /proc/sys/kernel/shmmax
  mount --bind "$CANARY_DIR/nr_hugepages" /proc/sys/vm/nr_hugepages
fi
mount --bind "$CANARY_DIR/sysctl.d" /etc/sysctl.d
exec "$@"
"""


def _ns_flags() -> list[str]:
    """A private mount namespace (as root: no user namespace, so every uid stays mapped)."""
    return ["--mount"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--mount"]


def _unshare() -> str:
    found = shutil.which("unshare")
    if found is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([found, *_ns_flags(), "true"], capture_output=True, timeout=DEADLINE_S)
    if probe.returncode != 0:
        pytest.skip(f"user+mount namespaces not permitted: {probe.stderr.decode().strip()}")
    return found


@pytest.fixture
def victim() -> Iterator[int]:
    """A process outside the sandbox that is not a descendant of the guarded process."""
    read, write = os.pipe()
    starter = subprocess.Popen(
        [sys.executable, "-c",
         "import os, subprocess, sys\n"
         "p = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
         f"os.write({write}, str(p.pid).encode())\n"],
        pass_fds=(write,),
    )  # fmt: skip
    os.close(write)
    pid = int(os.read(read, 32))
    os.close(read)
    starter.wait(timeout=DEADLINE_S)  # the sleep is now an orphan: nobody's descendant here
    try:
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # the test started it (through the starter)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1].split()[0] != "Z"
    except OSError:
        return False


def _try(
    route: str, tmp_path: Path, victim: int, mode: str, live: bool = False
) -> dict[str, object]:
    """Run ``route`` in a canary namespace; assert the canaries and the victim untouched.

    The live sandbox mounts its own ``/proc``, which the kernel refuses while
    files are bound over the old one: live runs get the ``/etc/sysctl.d``
    canary only, and only routes that cannot reach ``/proc/sys``.
    """
    unshare = _unshare()
    canaries = tmp_path / "canaries"
    (canaries / "sysctl.d").mkdir(parents=True)
    for name in ("shmmax", "nr_hugepages"):
        (canaries / name).write_text(CANARY)
    env = {**os.environ, "CANARY_DIR": str(canaries), "PROC_CANARIES": "" if live else "1"}
    env.pop("PYTEST_IRIS_CONTAINMENT", None)
    if mode == "refuse":
        env["PYTEST_IRIS_CONTAINMENT"] = "refuse"
    argv = [unshare, *_ns_flags(), "--propagation", "private", "sh", "-c", _WRAPPER, "sh", sys.executable, str(ROUTES_SCRIPT),
            route, str(tmp_path / "host"), str(victim), *(["live"] if live else [])]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=DEADLINE_S, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    # the canaries are unchanged whatever the route did
    assert (canaries / "shmmax").read_text() == CANARY
    assert (canaries / "nr_hugepages").read_text() == CANARY
    assert list((canaries / "sysctl.d").iterdir()) == []
    assert _alive(victim)
    return result


def _refused(result: dict[str, object]) -> bool:
    stderr = str(result.get("stderr") or "")
    return bool(
        result.get("raised")
        or result.get("status") not in (0, None)
        or "Read-only file system" in stderr
        or "ContainmentError" in stderr
    )


@pytest.mark.parametrize("mode", ["namespaces", "refuse"])
@pytest.mark.parametrize("route", WRITE_ROUTES + SIGNAL_ROUTES)
def test_escape_route_is_refused_and_the_canary_unchanged(
    tmp_path: Path, victim: int, route: str, mode: str
) -> None:
    result = _try(route, tmp_path, victim, mode)
    assert result["mode"] == mode
    assert _refused(result), result
    if mode == "refuse" and not route.startswith("sandbox-sudo"):
        assert result["raised"], result  # refused in this process: no child ever started


@pytest.mark.parametrize("route", ["etc-sysctl-d", "child-os-kill", "child-kill-command",
                                   "pidfd-send-signal", "psutil-kill"])  # fmt: skip
def test_live_sandbox_guard_refuses_the_same_routes(
    tmp_path: Path, victim: int, route: str
) -> None:
    from pytest_iris.sandbox.live import namespaces_available

    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    result = _try(route, tmp_path, victim, "namespaces", live=True)
    assert _refused(result), result


def test_sandbox_commands_still_work_when_contained(tmp_path: Path) -> None:
    """Containment must not break the sandbox: its sysctl and sudo act on the fake host."""
    from pytest_iris.sandbox.host import SandboxHost

    with SandboxHost(tmp_path / "host") as host:
        done = subprocess.run(
            ["sudo", "-n", "sysctl", "-w", "kernel.shmmax=123456789"], env=host.env,
            capture_output=True, text=True, timeout=DEADLINE_S,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert (host.root / "proc/sys/kernel/shmmax").read_text().strip() == "123456789"
        plain = subprocess.run(["sh", "-c", "echo contained"], capture_output=True, text=True,
                               timeout=DEADLINE_S)  # fmt: skip
        from pytest_iris.sandbox import containment

        if containment.mode() == "namespaces":
            assert plain.stdout == "contained\n"


def test_report_header_names_the_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.stdout.fnmatch_lines(["iris sandbox containment: *"])


@pytest.fixture
def landlock_host(tmp_path: Path) -> Iterator[Any]:
    """An active sandbox whose children are contained with a Landlock signal scope."""
    from pytest_iris.sandbox import containment
    from pytest_iris.sandbox.host import SandboxHost

    if os.environ.get("PYTEST_IRIS_CONTAINMENT") == "refuse":
        pytest.skip("containment forced to refuse mode")
    with SandboxHost(tmp_path / "host") as host:
        if containment.mode() != "namespaces" or not containment.signal_scope():
            pytest.skip("needs namespaces and a Landlock signal scope (Linux 6.12+)")
        yield host


def test_contained_child_is_the_real_process(landlock_host: Any) -> None:
    """Its pid, ``$$`` and a SIGTERM from ``terminate()`` are what a test sees without a sandbox."""
    child = subprocess.Popen(
        ["sh", "-c", "echo $$; readlink /proc/self/ns/pid /proc/self/ns/mnt; "
         "[ -w /proc/sys/kernel/shmmax ] && echo writable || echo read-only; exec sleep 600"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    lines = [child.stdout.readline().strip() for _ in range(4)]
    child.terminate()
    assert child.wait(timeout=DEADLINE_S) == -signal.SIGTERM  # not ended by a SIGKILL
    child.stdout.close()
    assert int(lines[0]) == child.pid
    assert lines[1] == os.readlink("/proc/self/ns/pid")  # no PID namespace of its own
    assert lines[2] != os.readlink("/proc/self/ns/mnt")  # a mount namespace of its own
    assert lines[3] == "read-only"


def test_contained_child_signals_its_own_children_only(
    victim: int, landlock_host: Any, tmp_path: Path
) -> None:
    """Its own child gets a SIGTERM; a process outside it (the victim) is out of reach."""
    script = tmp_path / "signals.sh"  # a file: the guard refuses the builtin kill in a -c
    script.write_text(
        f"sleep 600 & kill -TERM $! && wait $!; echo own=$?\n"
        f"kill -0 {victim} 2>/dev/null; echo outside=$?\n"
    )
    done = subprocess.run(["sh", str(script)], capture_output=True, text=True,
                          timeout=DEADLINE_S)  # fmt: skip
    assert done.stdout.split() == ["own=143", "outside=1"], done.stderr
    assert _alive(victim)


def test_report_header_imports_no_containment_machinery() -> None:
    code = (
        "import sys\n"
        "from pytest_iris.plugins import sandbox\n"
        "line = sandbox.pytest_report_header(None)\n"
        "assert line.startswith('iris sandbox containment: '), line\n"
        "print(sorted(m for m in sys.modules if m.startswith('pytest_iris.sandbox')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=DEADLINE_S, check=True)  # fmt: skip
    assert done.stdout.strip() == "['pytest_iris.sandbox', 'pytest_iris.sandbox._mode']"
