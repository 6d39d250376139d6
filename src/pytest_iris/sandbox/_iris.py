"""The IRIS instance on a sandbox host: its process tree, start, stop, force.

Everything here acts on a locked :class:`HostState` and the procfs tunables,
and returns what the ``iris`` command prints; the caller renders procfs and
saves the state. What IRIS really does comes from ``docs/sources/facts.md``:

* start (§4.4, §3.8, §5.2): read the CPF, compute the shared memory with
  :mod:`pytest_iris.memory`, then the documented algorithm — huge pages when
  the pool is larger than the allocation, else standard pages when
  ``kernel.shmmax``/``kernel.shmall`` allow it, else cut buffers by 1/8 and
  begin again; ``memlock`` bit 64 (LargePagesRequired) aborts instead of
  falling back (even with no huge pages at all), bit 32 (LargePagesDisabled)
  skips huge pages. The console ends an abort with IRIS's real ``An error was
  detected during InterSystems IRIS startup.`` / ``** Startup aborted **``
  (commands.md §3.7) and a non-zero status.
* processes (§4.5): every kernel process is ``irisdb`` (comm and argv[0]);
  the daemon names WRTDMN/SWRTDMN and the ISC agent on 2188 are real, the
  argv after ``-s<mgr>`` is our invention (no real ``ps`` listing exists).
* start prints the console lines of the instance's version, with or
  without ``quietly`` (:mod:`._console`, :mod:`._versions`).
* stop: no real console text of ``iris stop`` is known (§4.4). Our choice:
  ``quietly`` prints nothing; without it a one-line notice. With users
  connected IRIS halts their jobs during shutdown, so their processes end and
  their connections close (the remediation tool is the one that must refuse
  to stop a busy instance). Stopping a stopped instance fails (status 1).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_iris.host import Outcome
from pytest_iris.sandbox import _cpfio, _log, _versions
from pytest_iris.sandbox._console import StartConsole, allocation_lines
from pytest_iris.sandbox._procfs import read_key
from pytest_iris.sandbox._roles import CLIENT_JOB, DAEMONS, GATEWAY_JOB
from pytest_iris.sandbox._state import HostState, Instance, Proc
from pytest_iris.sandbox._versions import VersionProfile

if TYPE_CHECKING:
    from pytest_iris.log.model import IRISMessage

#: facts.md §6.1 (docs ALOG: ``level=SEVERE event=Utility.Event text="Previous ..."``)
ABNORMAL_SHUTDOWN = "Previous system shutdown was abnormal, system forced down or crashed"

#: How many 1/8 reductions IRIS tries before giving up. Not documented: our choice.
MAX_REDUCTIONS = 8

#: Whether start/stop return what they logged as models (``Outcome.messages``, for
#: ``host.iris(...)`` in-process). The ``bin/iris`` process only prints and exits: its entry
#: point turns this off, and the command never imports pydantic.
keep_messages = True


def _messages(lines: _log.Writer) -> list[IRISMessage]:
    return lines.messages if keep_messages else []


def ctime(state: HostState, epoch: float) -> str:
    """The C ``ctime`` form IRIS prints, in the host's local time: ``Wed Aug  4 07:12:45 2021``."""
    return time.asctime(state.local(epoch).timetuple())


def profile(inst: Instance) -> VersionProfile:
    return _versions.profile(inst.version)


def mgr_dir(inst: Instance) -> Path:
    return Path(inst.directory) / "mgr"


def messages_log(inst: Instance) -> Path:
    return mgr_dir(inst) / "messages.log"


# -- process tree ---------------------------------------------------------


def spawn_agent(state: HostState) -> None:
    """The ISC agent (port 2188) runs as its own service, outside any instance."""
    if any(p.role == "agent" for p in state.processes.values()):
        return
    agent = state.spawn(
        "ISCAgent",
        ["/usr/local/etc/irissys/ISCAgent"],
        ppid=1,
        uid=0,
        role="agent",
        exe="/usr/local/etc/irissys/ISCAgent",
    )
    port = next((i.agent_port for i in state.instances.values()), 2188)
    state.listen(agent, port)


#: The effective user of the superserver and its jobs (facts.md §4.5: ``irisusr``,
#: uid 52773 in IRISMeister's scripts); the instance owner runs the daemons.
IRISUSR_UID = 52773


def _irisdb(state: HostState, inst: Instance, role: str, args: list[str], *, ppid: int,
            uid: int, rss: int = 20480, cwd: str = "") -> Proc:  # fmt: skip
    irisdb = f"{inst.directory}/bin/irisdb"
    return state.spawn(
        "irisdb", [irisdb, f"-s{inst.directory}/mgr", *args], ppid=ppid, uid=uid, role=role,
        instance=inst.name, exe=irisdb, cwd=cwd or f"{inst.directory}/mgr", rss_kb=rss,
    )  # fmt: skip


def _next_job(state: HostState, inst: Instance) -> int:
    """The next free ``-p`` job slot of the instance (our numbering: 1 up)."""
    used = {
        int(arg[2:])
        for p in state.processes.values()
        if p.instance == inst.name
        for arg in p.cmdline[2:4]
        if arg.startswith("-p") and arg[2:].isdigit()
    }
    slot = 1
    while slot in used:
        slot += 1
    return slot


def spawn_instance(state: HostState, inst: Instance) -> dict[str, int]:
    """Create the processes and listening sockets of a running instance.

    Every kernel process is ``irisdb`` (facts.md §4.5); daemons run as the
    instance owner, the superserver and its jobs as ``irisusr``.
    """
    owner, name = inst.owner_uid, inst.name
    cpf_arg = f"-C{inst.cpf}*{name}"
    roles: dict[str, int] = {}
    control = _irisdb(state, inst, "control", ["-cc", "-B", cpf_arg], ppid=1, uid=owner).pid
    roles["control"] = control
    for role, routine, job in DAEMONS:
        if job:
            args = ["-cj", f"-p{_next_job(state, inst)}", routine]
            roles[role] = _irisdb(state, inst, role, args, ppid=control, uid=IRISUSR_UID).pid
            continue
        rss = 65536 if role == "write_daemon" else 20480
        roles[role] = _irisdb(state, inst, role, ["-cd", "-B", routine], ppid=control,
                              uid=owner, rss=rss).pid  # fmt: skip
        if role == "write_daemon":
            for n in range(inst.write_daemon_helpers):
                roles[f"write_daemon_helper_{n + 1}"] = _irisdb(
                    state, inst, "write_daemon_helper", ["-cd", "-B", "SWRTDMN"], ppid=control,
                    uid=owner,
                ).pid  # fmt: skip
    args = ["-cj", f"-p{_next_job(state, inst)}", "SuperServer^%SYS.SERVER"]
    superserver = _irisdb(state, inst, "superserver", args, ppid=control, uid=IRISUSR_UID)
    roles["superserver"] = superserver.pid
    state.listen(superserver, inst.superserver_port)
    httpd_bin = f"{inst.directory}/httpd/bin/httpd"
    web = state.spawn(
        "httpd",
        [httpd_bin, "-f", f"{inst.directory}/httpd/conf/httpd.conf", "-d", f"{inst.directory}/httpd"],
        ppid=control, uid=owner, role="web_server", instance=name, exe=httpd_bin,
        cwd=f"{inst.directory}/httpd",
    )  # fmt: skip
    state.listen(web, inst.web_port, family=6)
    roles["web_server"] = web.pid
    return roles


def connect_users(state: HostState, inst: Instance, users: int, web_users: int) -> None:
    """Clients connecting: a superserver job per user, web users through httpd.

    Each web user's requests reach IRIS through the web gateway, which the
    superserver serves with a ``%SYS.cspServer3`` job (commands.md §6). The
    gateway's own loopback connection to the superserver is not modelled: a
    tool counting superserver clients would count it as a user.
    """
    superserver = next(
        p for p in state.processes.values() if p.instance == inst.name and p.role == "superserver"
    )
    web = next(
        p for p in state.processes.values() if p.instance == inst.name and p.role == "web_server"
    )
    for n in range(users):
        args = ["-cj", f"-p{_next_job(state, inst)}", CLIENT_JOB]
        job = _irisdb(state, inst, "user_job", args, ppid=superserver.pid, uid=IRISUSR_UID,
                      rss=8192, cwd=f"{inst.directory}/mgr/user")  # fmt: skip
        state.accept(job, inst.superserver_port, f"10.0.1.{20 + (n % 200)}")
    inst.users += users
    for n in range(web_users):
        state.accept(web, inst.web_port, f"::ffff:10.0.2.{20 + (n % 200)}", family=6)
        args = ["-cj", f"-p{_next_job(state, inst)}", GATEWAY_JOB]
        _irisdb(state, inst, "gateway_job", args, ppid=superserver.pid, uid=IRISUSR_UID,
                rss=8192, cwd=f"{inst.directory}/mgr/user")  # fmt: skip
    inst.web_users += web_users


def established(state: HostState, inst: Instance) -> int:
    """Client connections on the instance's superserver and web ports."""
    ports = {inst.superserver_port, inst.web_port}
    return sum(1 for s in state.sockets.values() if s.state == "ESTABLISHED" and s.lport in ports)


# -- start ----------------------------------------------------------------


@dataclass
class _Kernel:
    shmmax: int
    shmall_pages: int
    shmmni: int
    huge_free: int
    huge_kb: int


def _kernel(proc_root: Path, state: HostState, inst: Instance) -> _Kernel:
    def num(key: str) -> int:
        try:
            return int(read_key(proc_root, key).split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    used = sum(
        i.huge_pages for i in state.instances.values() if i.status == "running" and i is not inst
    )
    return _Kernel(
        shmmax=num("kernel.shmmax"),
        shmall_pages=num("kernel.shmall"),
        shmmni=num("kernel.shmmni"),
        huge_free=max(num("vm.nr_hugepages") - used, 0),
        huge_kb=state.hugepagesize_kb,
    )


def start(
    state: HostState,
    proc_root: Path,
    inst: Instance,
    *,
    quietly: bool = False,
    durable: bool = True,
) -> Outcome:
    """``iris start <instance>``: allocate shared memory as IRIS does, then spawn.

    Console lines per version (:mod:`._console`); messages.log gets the WIJ
    recovery block first when the last shutdown was abnormal (``iris force``
    or a crash), then ``Previous system shutdown was abnormal`` (facts.md
    §6.1), the shared-memory lines and the generator's startup sequence.
    """
    out = Outcome()
    if inst.status == "running":
        out.status = 1
        out.stderr = f"InterSystems IRIS instance {inst.name} is already running.\n"
        return out
    cpf = Path(inst.cpf)
    state.advance(1.0)
    prof = profile(inst)
    console = StartConsole(prof, inst.name, cpf.name, quietly)
    config = _cpfio.startup_config(cpf, state.total_ram_mb, version=prof.log_version)
    plan, flags = config.plan, config.memlock
    inst.superserver_port, inst.web_port = config.superserver_port, config.web_port
    kern = _kernel(proc_root, state, inst)
    control_pid = state.new_pid()
    lines = _log.Writer(state, control_pid)
    if inst.abnormal:
        _log.wij_recovery(state, inst, messages_log(inst), durable=durable)
        lines.add(2, "Utility.Event", ABNORMAL_SHUTDOWN)
    if config.globals_auto:
        from pytest_iris.memory import auto_globals_message

        lines.add(0, "Generic.Event", auto_globals_message())
        console.auto_globals()
    from pytest_iris.memory import (
        failed_huge_pages_message,
        failed_message,
        insufficient_huge_pages_message,
    )

    huge_pages = 0
    allocated = None
    required = bool(flags & 64)
    for attempt in range(MAX_REDUCTIONS + 1):
        if attempt:
            plan = plan.reduced()
        total_mb = plan.total_mb
        if not flags & 32 and (kern.huge_free > 0 or required):
            need = math.ceil(total_mb * 1024 / kern.huge_kb)
            if kern.huge_free > need:  # the pool must be *greater than* the allocation
                huge_pages, allocated = need, plan
                break
            if required:
                # memlock bit 64, LargePagesRequired: no fallback, the start aborts
                # (facts.md §3.8: "will abort startup if ... cannot be allocated in huge pages")
                lines.add(2, "Generic.Event", insufficient_huge_pages_message())
                console.huge_pages_required()
                break
            lines.add(1, "Generic.Event", failed_huge_pages_message(total_mb))
        pages = math.ceil(plan.total_bytes / 4096)
        if kern.shmmni >= 1 and plan.total_bytes <= kern.shmmax and pages <= kern.shmall_pages:
            allocated = plan
            break
        lines.add(2, "Generic.Event", failed_message(plan))
        console.unable(plan)
    if allocated is None:
        _log.catalog_line(lines, inst, {"control": control_pid}, "startup.error_detected")
        lines.write(messages_log(inst), durable=durable)
        out.status = 1
        out.stdout = console.aborted(None if required else plan)
        out.messages = _messages(lines)
        return out
    sev = 1 if attempt else 0  # the reduced success is a warning (facts.md §5.2)
    for n, text in enumerate(allocation_lines(prof, allocated, huge_pages=bool(huge_pages))):
        lines.add(sev, "Generic.Event", text, same_stamp=n > 0)
    console.allocated(allocated, huge_pages=bool(huge_pages))
    # the control process takes the PID the allocation lines were logged under
    state.next_pid = control_pid
    roles = spawn_instance(state, inst)
    inst.status, inst.since, inst.abnormal, inst.health = "running", state.clock, False, "ok"
    inst.crashed = False
    inst.huge_pages, inst.shm_mb = huge_pages, allocated.total_mb
    inst.users = inst.web_users = 0
    _log.startup_tail(lines, inst, roles)
    if prof.no_key:  # commands.md §3.1: the alert the real start counts
        _log.no_licence_key(lines, inst, roles)
    lines.write(messages_log(inst), durable=durable)
    out.stdout = console.started(sum(1 for e in lines.entries if e.severity >= 2))
    out.messages = _messages(lines)
    return out


# -- stop -----------------------------------------------------------------


def stop(state: HostState, inst: Instance, *, quietly: bool = False) -> Outcome:
    """``iris stop <instance> [quietly]``: shutdown lines, then every process ends."""
    out = Outcome()
    if inst.status != "running":
        out.status = 1
        out.stderr = f"InterSystems IRIS instance {inst.name} is not running.\n"
        return out
    state.advance(1.0)
    pids = state.instance_pids(inst.name)
    roles = {p.role: p.pid for p in (state.processes[x] for x in pids)}
    lines = _log.Writer(state, roles.get("control", pids[0] if pids else 0))
    _log.shutdown(lines, inst, roles, users=established(state, inst))
    for pid in sorted(pids, key=lambda p: state.processes[p].ppid == 1):
        state.exit(pid)
    inst.status, inst.since = "down", state.clock
    inst.huge_pages = inst.shm_mb = inst.users = inst.web_users = 0
    lines.write(messages_log(inst))
    out.stdout = "" if quietly else f"Stopping InterSystems IRIS instance {inst.name}...\n"
    out.messages = _messages(lines)
    return out


def force(state: HostState, inst: Instance, *, crashed: bool = False) -> Outcome:
    """``iris force``: processes end at once, nothing is logged, next start recovers.

    ``iris force`` prints nothing (commands.md §5.2: ``$ docker compose exec
    ap1a iris force iris`` shows no output).
    """
    for pid in state.instance_pids(inst.name):
        state.exit(pid)
    inst.status, inst.since, inst.abnormal, inst.crashed = "down", state.clock, True, crashed
    inst.huge_pages = inst.shm_mb = inst.users = inst.web_users = 0
    return Outcome()


# -- a process killed by a signal -----------------------------------------


def _daemon_name(role: str) -> str | None:
    if role == "write_daemon":
        return "WRTDMN"
    return "SLAVWD" if role.startswith("write_daemon_helper") else None


def process_killed(state: HostState, proc: Proc) -> None:
    """A fake process ends by a signal; the instance reacts as far as is known.

    * control process: the instance is down, abnormally (the next start logs
      ``Previous system shutdown was abnormal ...``);
    * write daemon or helper: the control process logs ``Daemon WRTDMN (pid N)
      died. Freezing system`` (severity 3) and ``iris list`` shows ``state: alert``;
    * user job: its client connection closes;
    * anything else simply ends.
    """
    inst = state.instances.get(proc.instance) if proc.instance else None
    if inst is None or inst.status != "running":
        state.exit(proc.pid)
        return
    if proc.role == "control":
        force(state, inst, crashed=True)
        return
    state.exit(proc.pid)
    if proc.role == "user_job":
        inst.users = max(inst.users - 1, 0)
    elif (daemon := _daemon_name(proc.role)) is not None:
        roles = {p.role: p.pid for p in state.processes.values() if p.instance == inst.name}
        roles[proc.role] = proc.pid
        writer = _log.Writer(state, roles.get("control", 0))
        _log.catalog_line(writer, inst, roles, "wd.died", daemon=daemon, dead=proc.pid)
        writer.write(messages_log(inst))
        inst.health = "alert"
