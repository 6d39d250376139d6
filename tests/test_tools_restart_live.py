"""The restart tool against real processes and real sockets, inside Linux namespaces.

``unshare --pid --fork --mount-proc --net``: the child sees only its own
processes in ``/proc`` and has its own loopback, so nothing of the host is
visible or reachable. Inside, a real process named ``irisdb`` listens on
1972, a real client connects, and a stand-in ``iris`` stops the server by
the PID it was given. Skipped with the reason when namespaces are not
permitted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import json, os, socket, subprocess, sys, time
from pytest_iris.tools.restart import RestartTool
from pytest_iris.tools.settings import ToolSettings

work = sys.argv[1]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
server = (
    "import socket, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', 1972)); s.listen()\n"
    "conns = []\n"
    "while True:\n"
    "    conns.append(s.accept()[0])\n"
)
# argv[0] as a real instance's kernel process shows it: <install dir>/bin/irisdb
srv = subprocess.Popen([work + "/bin/irisdb", "-c", server], executable=sys.executable)
with open(os.path.join(work, "pids"), "w") as f:
    f.write(str(srv.pid))
deadline = time.monotonic() + 20
while True:
    try:
        client = socket.create_connection(("127.0.0.1", 1972))
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
env = {"PATH": work + ":/usr/bin:/bin", "PIDFILE": os.path.join(work, "pids"), "WORK": work}
tool = RestartTool("IRIS", procfs_path="/proc", env=env,
                   settings=ToolSettings(stop_timeout_s=10, poll_interval_s=0.05))
out = {"me": os.getpid(), "server": srv.pid}
out["processes"] = [p.pid for p in tool.processes()]
out["connections"] = [c.as_dict() for c in tool.connections()]
out["refused"] = tool.stop(dry_run=False).model_dump(mode="json")
out["unknown"] = RestartTool("OTHER", procfs_path="/proc", env=env).stop(dry_run=False).message
out["alive_after_refusal"] = srv.poll() is None
out["forced"] = tool.stop(force=True, dry_run=False).model_dump(mode="json")
srv.wait(timeout=10)
out["server_exit"] = srv.returncode
print(json.dumps(out))
"""

FAKE_IRIS = """#!/bin/sh
case "$1" in
  qlist) echo "IRIS^$WORK^2023.1.0.235.1com^running, since Thu Nov 26 09:00:00 2026" ;;
  stop) kill "$(cat "$PIDFILE")" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""


def test_refuses_with_a_real_client_then_stops_when_forced(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip")
    work = tmp_path / "work"
    work.mkdir()
    iris = work / "iris"
    iris.write_text(FAKE_IRIS)
    iris.chmod(0o755)
    src = str(Path(__file__).parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    prefix = ["unshare", "--pid", "--fork", "--mount-proc", "--net"]
    if os.geteuid() != 0:
        prefix[1:1] = ["--user", "--map-root-user"]
    done = subprocess.run(
        [*prefix, sys.executable, "-c", SCRIPT, str(work)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if (
        done.returncode != 0
        and "unshare" in done.stderr
        and "Operation not permitted" in done.stderr
    ):
        pytest.skip(f"namespaces not permitted: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["processes"] == [out["server"]]
    [conn] = out["connections"]
    assert conn["service"] == "superserver"
    assert conn["port"] == 1972
    assert conn["server_pid"] == out["server"]
    assert conn["client_pid"] == out["me"]  # who is connected: the real client process
    refused = out["refused"]
    assert refused["status"] == "failure"
    assert refused["message"].startswith("refusing to stop IRIS: 1 client connection established")
    assert f"client pid {out['me']}" in refused["message"]
    assert out["alive_after_refusal"] is True
    assert out["unknown"] == (
        "`iris qlist OTHER` does not list an instance named 'OTHER'; "
        "give install_dir= if this iris cannot tell"
    )
    forced = out["forced"]
    assert forced["status"] == "success", forced["message"]
    assert forced["details"]["pids_before"] == [out["server"]]
    assert forced["details"]["pids_after"] == []
    assert out["server_exit"] == -15  # ended by the stand-in iris stop's SIGTERM
