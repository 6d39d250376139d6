"""``iris start`` / ``iris stop`` of the live sandbox, and its ``bin/`` entry point.

Start writes the planned shared-memory sizes (the plan, then each 1/8
reduction) for the namespace's control process, which asks the kernel with
real ``shmget`` calls; the first size the namespace's ``kernel.shmmax``
accepts wins, and the log and console show the same lines as the fake host.
Stop sends SIGTERM to the control process (which ends its daemons, the
superserver its jobs) and to the clients, and waits until they are gone.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_iris.host import Outcome
from pytest_iris.sandbox import _iris, _log, _roles
from pytest_iris.sandbox._state import HostState, Instance, locked_state

if TYPE_CHECKING:
    from pytest_iris.sandbox.live.sandbox import LiveSandbox

_TIMEOUT = 20.0


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (zombies have an empty cmdline)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return bool(fh.read())
    except OSError:
        return False


def _start(host: LiveSandbox, state: HostState, inst: Instance, quietly: bool) -> Outcome:
    from pytest_iris.memory import failed_message
    from pytest_iris.sandbox import _cpfio
    from pytest_iris.sandbox._console import StartConsole, allocation_lines

    if inst.status == "running" and not host.pids().get("control"):
        # its control process was killed: a crash, recovered at this start
        inst.status, inst.abnormal, inst.crashed = "down", True, True
    if inst.status == "running":
        return Outcome(1, "", f"InterSystems IRIS instance {inst.name} is already running.\n")
    prof = _iris.profile(inst)
    config = _cpfio.startup_config(Path(inst.cpf), state.total_ram_mb, version=prof.log_version)
    plans = [config.plan]
    for _ in range(_iris.MAX_REDUCTIONS):
        plans.append(plans[-1].reduced())
    host._write_config(shm_sizes=[p.total_bytes for p in plans])
    for stale in os.listdir(host.live_dir / "up"):
        if stale in ("alloc", "control", "superserver", "web_server") or stale.startswith(
            ("job-", "gw-", "daemon-")
        ):
            os.unlink(host.live_dir / "up" / stale)
    state.advance(1.0)
    console = StartConsole(prof, inst.name, Path(inst.cpf).name, quietly)
    host._send("start")
    host._wait_for("alloc")
    index = int((host.live_dir / "up" / "alloc").read_text())
    control_pid = next(iter(host.pids().get("control", [])), 0) or state.new_pid()
    lines = _log.Writer(state, control_pid)
    if inst.abnormal:
        _log.wij_recovery(state, inst, _iris.messages_log(inst))
        lines.add(2, "Utility.Event", _iris.ABNORMAL_SHUTDOWN)
    if config.globals_auto:
        from pytest_iris.memory import auto_globals_message

        lines.add(0, "Generic.Event", auto_globals_message())
        console.auto_globals()
    for plan in plans[: index if index >= 0 else len(plans)]:
        lines.add(2, "Generic.Event", failed_message(plan))
        console.unable(plan)
    if index < 0:
        _log.catalog_line(lines, inst, {"control": control_pid}, "startup.error_detected")
        lines.write(_iris.messages_log(inst))
        return Outcome(1, console.aborted(plans[-1]), "", lines.messages)
    host._wait_for("control", "superserver", "web_server")
    host._wait_for(prefix="daemon-", count=len(daemon_argvs()))
    sev = 1 if index else 0
    for n, text in enumerate(allocation_lines(prof, plans[index])):
        lines.add(sev, "Generic.Event", text, same_stamp=n > 0)
    console.allocated(plans[index])
    found = host.pids()
    roles = {
        role: pids[0]
        for role, pids in found.items()
        if pids and role not in ("init", "agent", "client")
    }
    state.next_pid = (
        max(pid for pids in found.values() for pid in pids) + 1
    )  # short-lived jobs come next
    inst.status, inst.since, inst.abnormal, inst.health = "running", state.clock, False, "ok"
    inst.crashed = False
    inst.shm_mb = plans[index].total_mb
    _log.startup_tail(lines, inst, roles)
    if prof.no_key:  # commands.md §3.1: the alert the real start counts
        _log.no_licence_key(lines, inst, roles)
    lines.write(_iris.messages_log(inst))
    alerts = sum(1 for e in lines.entries if e.severity >= 2)
    return Outcome(0, console.started(alerts), "", lines.messages)


def _stop(host: LiveSandbox, state: HostState, inst: Instance, quietly: bool) -> Outcome:
    if inst.status != "running":
        return Outcome(1, "", f"InterSystems IRIS instance {inst.name} is not running.\n")
    from pytest_iris.sandbox import guard

    pids = host.pids()
    roles = {
        role: group[0]
        for role, group in pids.items()
        if group and role not in ("init", "agent", "client")
    }
    state.advance(1.0)
    lines = _log.Writer(state, roles.get("control", 0))
    _log.shutdown(lines, inst, roles, users=host.connections())
    doomed = [pid for role, group in pids.items() if role not in ("init", "agent") for pid in group]
    with guard.bypass():
        for pid in pids.get("control", []) + pids.get("client", []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 15)
    deadline = time.monotonic() + _TIMEOUT
    while time.monotonic() < deadline and any(_alive(p) for p in doomed):
        time.sleep(0.01)
    inst.status, inst.since = "down", state.clock
    inst.users = inst.web_users = inst.shm_mb = 0
    lines.write(_iris.messages_log(inst))
    return Outcome(
        0,
        "" if quietly else f"Stopping InterSystems IRIS instance {inst.name}...\n",
        "",
        lines.messages,
    )


def _force(host: LiveSandbox, state: HostState, inst: Instance) -> Outcome:
    """``iris force``: SIGKILL to every process of the instance; prints nothing (commands.md §5.2)."""
    from pytest_iris.sandbox import guard

    pids = host.pids()
    doomed = [pid for role, group in pids.items() if role not in ("init", "agent", "client")
              for pid in group]  # fmt: skip
    with guard.bypass():
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
    deadline = time.monotonic() + _TIMEOUT
    while time.monotonic() < deadline and any(_alive(p) for p in doomed):
        time.sleep(0.01)
    inst.status, inst.since, inst.abnormal, inst.crashed = "down", state.clock, True, False
    inst.users = inst.web_users = inst.shm_mb = 0
    return Outcome()


def iris_command(host: LiveSandbox, argv: list[str]) -> Outcome:
    from pytest_iris.sandbox import _commands

    sub = argv[0].lower() if argv else ""
    if sub not in ("start", "stop", "restart", "force"):
        return _commands.iris_command(host.root, argv)
    words = [a for a in argv[1:] if a.lower() not in ("quietly", "restart")]
    flags = {a.lower() for a in argv[1:]} - {w.lower() for w in words}
    with locked_state(host.root) as state:
        inst = state.instances.get(words[0] if words else "")
        if inst is None:
            return Outcome(1, "", f"iris: unknown instance '{words[0] if words else ''}'\n")
        if sub == "start":
            return _start(host, state, inst, "quietly" in flags)
        if sub == "force":
            return _force(host, state, inst)
        # `iris restart` prints only the start's console (commands.md §3.3): its stop is quiet
        out = _stop(host, state, inst, "quietly" in flags or sub == "restart")
        if out.status == 0 and (sub == "restart" or "restart" in flags):
            again = _start(host, state, inst, "quietly" in flags)
            out = Outcome(
                again.status, out.stdout + again.stdout, again.stderr, out.messages + again.messages
            )
        return out


def daemon_argvs() -> list[list[str]]:
    """The control process's daemons and system jobs, as the fake host runs them (``_roles.DAEMONS``)."""
    out: list[list[str]] = []
    slot = 0  # system jobs take the -p slots 1 up, in start order (_iris._next_job)
    for role, routine, job in _roles.DAEMONS:
        slot += job
        out.append(["-cj", f"-p{slot}", routine] if job else ["-cd", "-B", routine])
        if role == "write_daemon":
            out += [["-cd", "-B", "SWRTDMN"], ["-cd", "-B", "SWRTDMN"]]
    return out
