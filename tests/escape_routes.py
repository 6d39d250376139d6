"""Escape routes tried from inside an active sandbox (run by tests/test_escapes.py).

``python escape_routes.py ROUTE ROOT VICTIM_PID [live]`` builds a sandbox host
at ROOT, turns its guard on, tries ROUTE and prints one JSON line: whether
the guard raised, the exit status of the child it started, and the child's
stderr. It runs only inside the test's private mount namespace, where canary
files are bound over ``/proc/sys/kernel/shmmax``, ``/proc/sys/vm/nr_hugepages``
and ``/etc/sysctl.d``: a route that got through would change a canary, never
the real host.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SYSCTL = shutil.which("sysctl", path="/usr/sbin:/sbin:/usr/bin:/bin") or "/usr/sbin/sysctl"
TARGET = "/proc/sys/kernel/shmmax"
WRITE = f"echo 4242 > {TARGET}"


def _run(argv: list[str], env: dict[str, str] | None = None, **options: Any) -> dict[str, Any]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, **options)
    return {"status": done.returncode, "stderr": done.stderr[-500:]}


def _spawn_child(target: str) -> None:  # multiprocessing 'spawn' child: a fresh interpreter
    with open(target, "w") as handle:
        handle.write("4242\n")


def _kill_child(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)


def _spawned(function: Callable[[Any], None], argument: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=function, args=(argument,))
    process.start()
    process.join(60)
    return {"status": process.exitcode, "stderr": ""}


def routes(host: Any, victim: int, scratch: Path) -> dict[str, Callable[[], dict[str, Any]]]:
    copy = scratch / "innocent-name"
    script = scratch / "script.sh"
    script.write_text(WRITE + "\n")
    env = dict(host.env)
    return {
        "sh-c": lambda: _run(["sh", "-c", WRITE]),
        "bash-lc": lambda: _run(["bash", "-lc", WRITE]),
        "sh-ec": lambda: _run(["sh", "-ec", WRITE]),
        "env-S": lambda: _run(["env", "-S", f"sh -c '{WRITE}'"]),
        "eval": lambda: _run(["sh", "-c", f"eval '{WRITE}'"]),
        "command-substitution": lambda: _run(["sh", "-c", "$(echo sys)$(echo ctl) -w kernel.shmmax=4242"]),
        "awk-system": lambda: _run(["awk", f'BEGIN {{ exit system("{WRITE}") }}']),
        "find-exec": lambda: _run(["find", "/", "-maxdepth", "0", "-exec", "sh", "-c", WRITE, ";"]),
        "shell-script-file": lambda: _run(["sh", str(script)]),
        "shell-stdin": lambda: _run(["sh"], input=WRITE + "\n"),
        "renamed-sysctl": lambda: (shutil.copy(SYSCTL, copy), _run([str(copy), "-w", "kernel.shmmax=4242"]))[1],
        "real-sysctl-by-path": lambda: _run([SYSCTL, "-w", "kernel.shmmax=4242"], env=env),
        "sandbox-sudo-sh": lambda: _run(["sudo", "-n", "sh", "-c", WRITE], env=env),
        "sandbox-sudo-real-sysctl": lambda: _run(["sudo", "-n", str(copy if copy.exists() else SYSCTL), "-w", "kernel.shmmax=4242"], env=env),
        "tee": lambda: _run(["tee", TARGET], input="4242\n"),
        "dd": lambda: _run(["dd", f"of={TARGET}", "status=none"], input="4242\n"),
        "python-c": lambda: _run([sys.executable, "-c", f"open({TARGET!r}, 'w').write('4242')"]),
        "multiprocessing-spawn": lambda: _spawned(_spawn_child, TARGET),
        "os-system": lambda: {"status": os.system(f"sh -c '{WRITE}'") >> 8, "stderr": ""},
        "posix-spawn": lambda: _waited(os.posix_spawn("/bin/sh", ["sh", "-c", WRITE], dict(os.environ))),
        "etc-sysctl-d": lambda: _run(["sh", "-c", "echo kernel.shmmax=4242 > /etc/sysctl.d/99-escape.conf"]),
        "sysctl-system": lambda: _run(["sh", "-c", f"echo kernel.shmmax=4242 > {scratch}/x.conf && {SYSCTL} -p {scratch}/x.conf"]),
        "child-os-kill": lambda: _run([sys.executable, "-c", f"import os; os.kill({victim}, 15)"]),
        "child-kill-command": lambda: _run(["sh", "-c", f"/bin/kill -TERM {victim}"]),
        "multiprocessing-kill": lambda: _spawned(_kill_child, victim),
        "pidfd-send-signal": lambda: _pidfd(victim),
        "psutil-kill": lambda: _psutil(victim),
    }  # fmt: skip


def _waited(pid: int) -> dict[str, Any]:
    _, status = os.waitpid(pid, 0)
    return {"status": os.waitstatus_to_exitcode(status), "stderr": ""}


def _pidfd(victim: int) -> dict[str, Any]:
    fd = os.pidfd_open(victim)
    try:
        signal.pidfd_send_signal(fd, signal.SIGTERM)
    finally:
        os.close(fd)
    return {"status": 0, "stderr": ""}


def _psutil(victim: int) -> dict[str, Any]:
    import psutil

    psutil.Process(victim).terminate()
    return {"status": 0, "stderr": ""}


def main() -> int:
    route, root, victim = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    live = len(sys.argv) > 4 and sys.argv[4] == "live"
    scratch = root.parent / "scratch"
    scratch.mkdir(exist_ok=True)
    if live:
        from pytest_iris.sandbox.live import LiveSandbox

        host_cm: Any = LiveSandbox(root)
    else:
        from pytest_iris.sandbox.host import SandboxHost

        host_cm = SandboxHost(root)
    result: dict[str, Any] = {"raised": None, "status": None, "stderr": ""}
    with host_cm as host:
        from pytest_iris.sandbox import containment

        result["mode"] = containment.mode()
        try:
            result.update(routes(host, victim, scratch)[route]())
        except Exception as error:  # the guard refused in this process
            result["raised"] = f"{type(error).__name__}: {error}"
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
