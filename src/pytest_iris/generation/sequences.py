"""Named sequences: what real instances write at startup, shutdown and in incidents.

Each sequence is a function of a :class:`~pytest_iris.generation.builder.Builder`
and keyword parameters, registered under a name with a one-line
description. :func:`render_sequence` runs one for a
:class:`~pytest_iris.generation.context.SequenceContext` and returns
validated :class:`~pytest_iris.models.IRISMessage` models; the stream
engine uses :func:`render_entries` (same lines, no models).

Timings follow the real logs where they exist (the 2023.1 startup in
``docs/sources/messages_real.log``: allocation, +3 ms AES-NI, +72 ms WIJ,
+200 ms new WIJ, +26 ms write daemon ...; the Caché write-daemon death:
19 s, 2 min 41 s, 2 min 1 s); elsewhere they are plausible guesses.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pytest_iris._limits import check_sequence_params
from pytest_iris.errors import ConfigError
from pytest_iris.generation.builder import Builder
from pytest_iris.generation.catalog import load_catalog
from pytest_iris.generation.context import SequenceContext
from pytest_iris.generation.entries import BLOCK, Entry, from_ms, to_message, to_ms
from pytest_iris.memory import (
    SharedMemoryPlan,
    allocated_message,
    allocated_message_2020,
    failed_huge_pages_message,
    failed_message,
)
from pytest_iris.seeds import derive_rng

if TYPE_CHECKING:
    from pytest_iris.log.model import IRISMessage
    from pytest_iris.registry import Registry

SequenceFunction = Callable[..., None]


@dataclass(frozen=True)
class Sequence:
    """A registered sequence: name, one-line description, function, parameters."""

    name: str
    description: str
    function: SequenceFunction
    params: dict[str, Any]


SEQUENCES: dict[str, Sequence] = {}


def sequence(name: str, description: str) -> Callable[[SequenceFunction], SequenceFunction]:
    """Register a sequence function under ``name``."""

    def register(function: SequenceFunction) -> SequenceFunction:
        params = {
            p.name: p.default
            for p in inspect.signature(function).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        SEQUENCES[name] = Sequence(name, description, function, params)
        return function

    return register


def sequence_names() -> list[str]:
    """The names of every sequence, in registration order."""
    return list(SEQUENCES)


def describe_sequences() -> dict[str, str]:
    """``{name: one-line description}`` for every sequence."""
    return {name: seq.description for name, seq in SEQUENCES.items()}


def get_sequence(name: str, registry: Registry | None = None) -> Sequence:
    """The sequence ``name``: what ``registry`` has under that name (built-in or added by a
    plugin through ``pytest_iris_add_sequences``).

    Without a registry only the built-ins are known (the caller passes the
    registry that holds a plugin's, e.g. :meth:`Registry.default`: this module
    is itself a built-in the registry loads, so it never builds one).
    """
    if registry is None:
        if name in SEQUENCES:
            return SEQUENCES[name]
        raise ConfigError(
            f"unknown log sequence {name!r}; available: {', '.join(SEQUENCES)} (the built-ins; "
            "a plugin's sequence is found through a registry: pass registry=Registry.default())"
        )
    added = registry.sequences
    render = added.get(name)
    if render is None:
        raise ConfigError(
            f"unknown log sequence {name!r}; available: {', '.join(added)} "
            "(plugins add sequences through the pytest_iris_add_sequences hook)"
        )
    builtin = SEQUENCES.get(name)
    if builtin is not None and _renders_builtin(render, name):
        return builtin
    return _hooked(name, render)


def _renders_builtin(render: Callable[..., Any], name: str) -> bool:
    """Whether ``render`` is the built-in plugin's ``partial(render_sequence, name)``."""
    return getattr(render, "func", None) is render_sequence and getattr(render, "args", ()) == (
        name,
    )


def _hooked(name: str, render: Callable[..., Any]) -> Sequence:
    """A plugin's ``render(context, **params) -> [IRISMessage]`` as a builder sequence."""
    params = {
        p.name: p.default
        for p in list(inspect.signature(render).parameters.values())[1:]
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        and p.default is not inspect.Parameter.empty
    }

    def function(b: Builder, **values: Any) -> None:
        pids = {**b.context.pids, **b.pids}
        context = replace(b.context, start=from_ms(b.ms), pids=pids)
        for message in render(context, **values):
            b.ms = max(b.ms, to_ms(message.timestamp))
            b.entries.append(
                Entry(
                    b.ms,
                    message.pid,
                    int(message.severity),
                    message.category,
                    message.text,
                    tuple(message.continuation),
                    f"plugin:{name}",
                )
            )

    doc = (render.__doc__ or "").strip().splitlines()
    return Sequence(name, doc[0] if doc else "added by a plugin", function, params)


def render_entries(
    name: str | Sequence,
    context: SequenceContext,
    *,
    builder: Builder | None = None,
    **params: Any,
) -> list[Entry]:
    """The entries of sequence ``name`` (or of an already resolved one; see :func:`render_sequence`)."""
    seq = name if isinstance(name, Sequence) else get_sequence(name)
    name = seq.name
    unknown = set(params) - set(seq.params)
    if unknown:
        allowed = ", ".join(f"{k}={v!r}" for k, v in seq.params.items()) or "none"
        raise ConfigError(
            f"sequence {name!r} has no parameter(s) {sorted(unknown)}; it takes: {allowed}"
        )
    params = check_sequence_params(name, params, seq.params)  # types, bounds, no newlines
    if builder is None:
        builder = Builder(context, derive_rng(context.seed, "sequence", name), load_catalog())
    start = len(builder.entries)
    seq.function(builder, **params)
    return builder.entries[start:]


def render_sequence(name: str, context: SequenceContext, **params: Any) -> list[IRISMessage]:
    """The messages sequence ``name`` writes for ``context``, first at ``context.start``.

    Deterministic: the same context (incl. ``seed``) and parameters give the
    same messages. Raises :class:`~pytest_iris.errors.ConfigError` for an
    unknown name or parameter, listing what is available.
    """
    entries = render_entries(name, context, **params)
    return [to_message(entry) for entry in entries if entry.severity != BLOCK]


# --- building blocks ---------------------------------------------------------------


def _allocation(b: Builder, plan: SharedMemoryPlan, *, huge_pages: bool, reduced: bool) -> None:
    """The two IRIS 2022.1+ allocation lines, same timestamp and PID; one line before 2022.1."""
    from pytest_iris.log.versions import profile

    if profile(b.context.profile).one_line_allocation:
        # messages_real.log lines 24, 33-34, 124, 133: "Allocated N: g, r" in one line.
        suffix = "_reduced" if reduced else ""
        b.emit(
            f"shm.allocated{suffix}",
            text=allocated_message_2020(plan, huge_pages=huge_pages),
        )
        return
    suffix = "_reduced" if reduced else ""
    b.emit(
        f"shm.allocated{suffix}",
        after=(100, 130),
        text=allocated_message(plan, huge_pages=huge_pages),
    )
    b.emit(f"shm.breakdown{suffix}", same=True, text=plan.breakdown_text())


def _cpu_and_wij(b: Builder) -> None:
    b.emit("startup.aesni", after=(1, 3))
    b.emit("startup.simd", same=True)
    b.emit("startup.using_wij", after=(60, 90))


def _startup_rest(b: Builder, *, fresh: bool, interoperability: bool) -> None:
    """From the WIJ lines to ``Enabling logons`` (messages_real.log 2023.1 startup)."""
    if fresh:
        b.emit("startup.no_journal_info", same=True)
        b.emit("startup.creating_wij", same=True)
        b.emit("startup.created_wij", after=(150, 260))
    b.emit("startup.banner", after=(4, 9))
    b.emit("startup.write_daemon_started", role="write_daemon", after=(20, 35))
    b.emit(
        "startup.mounted_rw", role="startup", after=(120, 170), directory=f"{b.context.mgr}/", sfn=0
    )
    for sfn, name in enumerate(b.context.databases, 1):
        b.emit("startup.mounted_rw", role="startup", after=(5, 40),
               directory=f"{b.context.mgr}/{name}/", sfn=sfn)  # fmt: skip
    b.emit("startup.webserver", role="web_server", after=(300, 900), port=b.context.web_port)
    b.emit("startup.enabling_logons", role="startup", after=(500, 900))
    if interoperability:
        b.emit("startup.interoperability", role="startup", after=(2, 6))


def _start(b: Builder, *, fresh: bool, interoperability: bool, abnormal: bool = False) -> None:
    ctx = b.context
    if abnormal:
        b.emit("startup.abnormal_shutdown", after=0)
    if ctx.globals_auto:
        b.emit("shm.auto_globals", after=0)
    if ctx.plan is not None:
        _allocation(b, ctx.plan, huge_pages=ctx.huge_pages, reduced=False)
    _cpu_and_wij(b)
    _startup_rest(b, fresh=fresh, interoperability=interoperability)


# --- the sequences -----------------------------------------------------------------


@sequence("startup", "instance start: shared memory (breakdown adds up), WIJ, banner, "
          "write daemon, database mounts, Enabling logons")  # fmt: skip
def _startup(b: Builder, *, fresh: bool = False, interoperability: bool = False) -> None:
    _start(b, fresh=fresh, interoperability=interoperability)


@sequence("shutdown", "clean shutdown: the two real entries (no journal restore, no "
          "transaction rollback at next startup); open_transactions=True: 'shutting down poorly'")  # fmt: skip
def _shutdown(b: Builder, *, open_transactions: bool = False) -> None:
    # messages_real.log lines 137-138: both entries in one millisecond, one pid.
    if open_transactions:  # documented_messages.md §3
        b.emit("shutdown.poorly", after=0)
    b.emit("shutdown.journal_restore", after=0 if not open_transactions else (50, 900))
    b.emit("shutdown.rollback", same=True)


#: The WIJ recovery program's block, as messages_real.log lines 111-122 show it
#: (blank first line included); numbers and paths are filled in.
WIJ_RECOVERY_BLOCK = (
    "",
    "*** Recovery started at {ctime}",
    "     Current default directory: {mgr}",
    "     Log file directory: {mgr}/",
    "     WIJ file spec: {wij}",
    "Recovering local ({wij}) image journal file...",
    "Starting WIJ recovery for '{wij}'.",
    "  {pending} blocks pending in this WIJ.",
    "WIJ pass # is 0.",
    "Starting fast WIJ compare",
    "Finished comparing {compared} blocks in {seconds} seconds",
    "Exiting with status 3 (Success)",
)


@sequence("wij_recovery", "start after a crash: the WIJ recovery block, the abnormal-shutdown "
          "line, then the normal startup")  # fmt: skip
def _wij_recovery(b: Builder, *, blocks: int | None = None) -> None:
    ctx = b.context
    # Real lines 110-125: the recovery program's unstamped block comes first, then
    # the startup begins within the same second.
    pending = blocks if blocks is not None else b.rng.choice((0, 0, b.rng.randint(1, 9000)))
    values = {
        "ctime": from_ms(b.ms).ctime(),
        "mgr": ctx.mgr,
        "wij": ctx.wij,
        "pending": pending,
        "compared": b.rng.randint(1, 400) + pending,
        "seconds": pending // 5000,
    }
    b.block(tuple(line.format_map(values) for line in WIJ_RECOVERY_BLOCK))
    b.emit("startup.abnormal_shutdown", after=0)
    if ctx.globals_auto:
        b.emit("shm.auto_globals", after=(1, 3))
    if ctx.plan is not None:
        _allocation(b, ctx.plan, huge_pages=ctx.huge_pages, reduced=False)
    _cpu_and_wij(b)
    _startup_rest(b, fresh=False, interoperability=False)


@sequence("backup", "external backup as IRIS 2021.1 logs it: freeze (with the unjournalled "
          "databases warnings and the journal switch), suspended, then thaw under another pid")  # fmt: skip
def _backup(
    b: Builder,
    *,
    freeze_seconds: int | None = None,
    unjournalled: tuple[str, ...] | list[str] | None = None,
) -> None:
    # Real lines 100-108: the freeze job logs 7 lines (3 in one millisecond, the
    # journal switch +109 ms, suspended +1005 ms), the thaw job 2 lines a second apart.
    seconds = freeze_seconds if freeze_seconds is not None else b.rng.randint(4, 90)
    if unjournalled is None:
        unjournalled = (f"{b.context.mgr}/irislocaldata/",)
    elif isinstance(unjournalled, str):  # from a 'backup:unjournalled=/a/,/b/' spec
        unjournalled = tuple(filter(None, unjournalled.split(",")))
    b.emit("backup.suspending", role="backup", after=0)
    for directory in unjournalled:
        b.emit("backup.not_journalled", role="backup", same=True, directory=directory)
    if unjournalled:
        b.emit("backup.not_journalled_count", role="backup", same=True, count=len(unjournalled))
    journal = b.journal_file(advance=True)
    b.emit("backup.journal_switch", role="backup", after=(100, 120), journal=journal)
    b.emit("backup.journal_restore", role="backup", same=True, journal=journal)
    b.emit("backup.freeze", role="backup", after=(1000, 1010))
    b.wait(seconds * 1000, seconds * 1000 + 999)
    b.emit("backup.resuming", role="backup_thaw", after=0)
    b.emit("backup.thaw", role="backup_thaw", after=(1000, 1002))


@sequence("cpf_merge", "CPF merge: validate, read and run [Actions]; fail=True adds the real "
          "ERROR #503/#507 pair")  # fmt: skip
def _cpf_merge(
    b: Builder, *, fail: bool = True, directory: str = "/vol-data/db/TEST-DATA/"
) -> None:
    b.emit("merge.merging", role="merge", after=0)
    b.emit("merge.validating", role="merge", after=(4, 8))
    b.emit("merge.no_errors", role="merge", after=(150, 200))
    b.emit("merge.reading_actions", role="merge", same=True)
    b.emit("merge.validating_actions", role="merge", same=True)
    if fail:
        b.emit("merge.actions_error", role="merge", after=(80, 400))
        b.emit("merge.action_failed", role="merge", same=True, action="CreateDatabase",
               line=2, directory=directory)  # fmt: skip


@sequence("license_limit", "license limit exceeded, counted up (severity 2)")
def _license_limit(b: Builder, *, times: int = 3) -> None:
    if times < 1:
        raise ConfigError(f"sequence 'license_limit': times must be >= 1, got {times}")
    for n in range(1, times + 1):
        b.emit(
            "license.exceeded", role="license", after=0 if n == 1 else (20_000, 600_000), times=n
        )


#: The mirror sequence's roles.
MIRROR_ROLES = ("backup", "primary", "failover", "takeover_failed", "trouble", "backup_down",
                "inconsistent")  # fmt: skip


@sequence("mirror", "mirror events: role='backup' (connect to primary, dejournal), 'primary', "
          "'failover' (primary AckDaemon lost, become primary), 'takeover_failed', 'trouble', "
          "'backup_down', 'inconsistent'")  # fmt: skip
def _mirror(b: Builder, *, role: str = "backup") -> None:
    ctx = b.context
    primary, _backup_name = ctx.mirror_members
    prefix = f"MIRROR-{ctx.mirror_name}-"
    if role == "backup":
        b.emit("mirror.becoming_backup", role="mirror", after=0, primary=primary)
        b.emit("mirror.client_connected", role="mirror_client", after=(2000, 6000), primary=primary)
        journal = b.journal_file(prefix=prefix)
        b.emit("mirror.dejournal_start", role="dejournal", after=(500, 3000), offset=0,
               number=b.journal_number, journal=journal)  # fmt: skip
        b.emit("mirror.applying", role="dejournal_reader", after=(800, 1500),
               offset=b.rng.randint(10_000, 900_000), number=b.journal_number, journal=journal)  # fmt: skip
    elif role == "primary":
        b.emit("mirror.becoming_primary", role="mirror", after=0)
    elif role == "failover":  # documented_messages.md §2: the backup loses the primary
        b.emit("mirror.ack_failed", role="mirror_client", after=0)
        b.emit("mirror.becoming_primary", role="mirror", after=(1000, 12000))
    elif role == "takeover_failed":  # ... and cannot reach its agent
        b.emit("mirror.ack_failed", role="mirror_client", after=0)
        b.emit("mirror.takeover_failed", role="mirror", after=(1000, 12000))
    elif role == "trouble":  # messages_real.log line 131
        b.emit("mirror.permanent_trouble", role="mirror", after=0, reason="131072/0")
    elif role == "backup_down":
        b.emit("mirror.backup_down", role="mirror", after=0)
    elif role == "inconsistent":  # documented_messages.md §1
        b.emit("mirror.inconsistent", role="mirror", after=0, mirror=ctx.mirror_name)
    else:
        raise ConfigError(
            f"sequence 'mirror': role must be one of {', '.join(MIRROR_ROLES)}, not {role!r}"
        )


@sequence("shard_attach", "sharding data node start as IRIS logs it: ShardRole change, "
          "data-node initialization, extent index, work queue daemon; licensed=False: the "
          "sharding licence error")  # fmt: skip
def _shard_attach(b: Builder, *, node: str = "node1", licensed: bool = True) -> None:
    if not licensed:  # facts.md §4.4 (ICM data node without a sharding licence)
        b.emit("shard.license_unavailable", role="startup", after=0)
        return
    # messages_real.log lines 68-72: same ms, +4.9 s, +60 s, +82 ms.
    b.emit("shard.role_changed", role="startup", after=0, shard_role=node)
    b.emit("shard.init_data_node", role="startup", same=True)
    b.emit("shard.extent_rebuilt", role="extent", after=(3000, 6000))
    b.emit("shard.workqueue", role="workqueue", after=(20_000, 70_000), parent=b.pid("startup"))
    b.emit("shard.init_done", role="startup", after=(50, 200))


@sequence("shm_failure", "shared memory allocation failing: outcome='standard' (huge pages -> "
          "standard pages), 'capability' (no CAP_IPC_LOCK -> standard pages), 'reduced' (-> 1/8 "
          "reduction), 'abort' or 'required' (startup aborts)")  # fmt: skip
def _shm_failure(b: Builder, *, outcome: str = "reduced", reductions: int = 1) -> None:
    ctx = b.context
    plan = ctx.effective_plan()
    if outcome not in ("standard", "capability", "reduced", "abort", "required"):
        raise ConfigError(
            "sequence 'shm_failure': outcome must be standard, capability, reduced, abort or "
            f"required, not {outcome!r}"
        )
    if outcome == "capability":
        # documented_messages.md §1: a non-root instance without CAP_IPC_LOCK, in this order.
        b.emit("shm.auto_configuring", after=0)
        b.emit("shm.cap_ipc_lock", after=(1, 20))
        b.emit("shm.failed_huge_pages", after=(1, 20),
               text=failed_huge_pages_message(plan.total_mb, advice=True))  # fmt: skip
        _allocation(b, plan, huge_pages=False, reduced=False)
        _cpu_and_wij(b)
        _startup_rest(b, fresh=False, interoperability=False)
        return
    if ctx.globals_auto:
        b.emit("shm.auto_globals", after=0)
    if outcome == "required":
        b.emit("shm.insufficient_huge_pages", after=(100, 130))
        b.emit("startup.error_detected", after=(1, 20))
        return
    b.emit("shm.failed_huge_pages", after=(100, 130), text=failed_huge_pages_message(plan.total_mb))
    if outcome == "standard":
        _allocation(b, plan, huge_pages=False, reduced=False)
    else:
        b.emit("shm.failed", after=(20, 60), text=failed_message(plan))
        steps = max(reductions, 1) if outcome == "reduced" else max(reductions, 2)
        for step in range(steps):
            plan = plan.reduced()
            if outcome == "abort" or step < steps - 1:
                b.emit("shm.failed", after=(20, 60), text=failed_message(plan))
        if outcome == "abort":
            b.emit("startup.error_detected", after=(1, 20))
            return
        _allocation(b, plan, huge_pages=False, reduced=True)
    _cpu_and_wij(b)
    _startup_rest(b, fresh=False, interoperability=False)


@sequence("write_daemon_death", "write daemon and helpers die, system freezes, the control "
          "process pauses users (real Caché 2017.2 timeline; style='iris' or 'cache')")  # fmt: skip
def _write_daemon_death(b: Builder, *, style: str = "iris", seconds: int = 301) -> None:
    if style not in ("iris", "cache"):
        raise ConfigError(
            f"sequence 'write_daemon_death': style must be iris or cache, not {style!r}"
        )
    s = "_cache" if style == "cache" else ""
    wd, h1, h2 = (
        b.pid("write_daemon"),
        b.pid("write_daemon_helper_1"),
        b.pid("write_daemon_helper_2"),
    )
    _died(b, s, "WRTDMN", wd, after=0)
    _died(b, s, "SLAVWD", h1, after=(18_000, 20_000))
    b.emit(f"wd.terminated{s}", role="cleanup", after=(150_000, 170_000), daemon="WRTDMN", dead=wd)
    b.emit(f"wd.cleandeadjob{s}", role="cleanup", after=(5, 15), job=2)
    b.emit(f"wd.terminated{s}", role="cleanup", same=True, daemon="SWRTDMN", dead=h1)
    b.emit(f"wd.cleandeadjob{s}", role="cleanup", same=True, job=9)
    _died(b, s, "SLAVWD", h2, after=(115_000, 125_000))
    b.emit(f"wd.pausing_users{s}", after=(3, 8), seconds=seconds,
           wdpass=b.rng.randint(10_000, 250_000))  # fmt: skip


def _died(b: Builder, suffix: str, daemon: str, dead: int, *, after: tuple[int, int] | int) -> None:
    b.emit(f"wd.died{suffix}", after=after, daemon=daemon, dead=dead)


@sequence("lock_table", "lock table filling up: System Monitor warning (>85%), alert (>95%), "
          "optional full table, then OK")  # fmt: skip
def _lock_table(b: Builder, *, peak: int = 97, recover: bool = True) -> None:
    if not 86 <= peak <= 100:
        raise ConfigError(f"sequence 'lock_table': peak must be 86..100 (% full), got {peak}")
    b.emit("lock.warning", role="monitor", after=0, percent=b.rng.randint(86, min(peak, 94)))
    if peak > 95:
        b.emit("lock.alert", role="monitor", after=(30_000, 300_000), percent=peak)
    if peak >= 99:
        b.emit("lock.full", after=(1000, 60_000))
    if recover:
        b.emit("lock.ok", role="monitor", after=(60_000, 900_000), percent=b.rng.randint(40, 84))


@sequence("disk_space", "database disk filling up: warning (<250MB), alert (<50MB), then "
          "<FILEFULL>")  # fmt: skip
def _disk_space(b: Builder, *, database: str | None = None, alert: bool = True) -> None:
    ctx = b.context
    name = database or (ctx.databases[-1] if ctx.databases else "")
    directory = f"{ctx.mgr}/{name}/" if name else f"{ctx.mgr}/"
    b.emit(
        "disk.warning", role="monitor", after=0, directory=directory, free_mb=b.rng.randint(60, 249)
    )
    if alert:
        b.emit("disk.alert", role="monitor", after=(60_000, 1_800_000), directory=directory,
               free_mb=b.rng.randint(0, 49))  # fmt: skip
        b.emit("lm.filefull", role="expander", after=(1000, 120_000), directory=directory)


@sequence("journal_space", "journal directory filling up: warning, alert, and (disabled=True) "
          "the real write failure and 'Journaling will be disabled in N seconds'")  # fmt: skip
def _journal_space(b: Builder, *, disabled: bool = False) -> None:
    b.emit("journal.warning", role="monitor", after=0, free_mb=b.rng.randint(60, 249))
    b.emit("journal.alert", role="monitor", after=(60_000, 1_800_000), free_mb=b.rng.randint(0, 49))
    if disabled:  # documented_messages.md §3
        b.emit("lm.journal_write_failed", role="journal_daemon", after=(1000, 300_000))
        b.emit("lm.journal_will_disable", role="journal_daemon", after=(1, 20), seconds=60)


@sequence("process_crash", "a user process caught a signal; the parent cleans up and halts")
def _process_crash(b: Builder, *, signal: int = 11, job_type: str = "Callin Connection") -> None:
    pid = b.new_pid()
    b.emit("crash.signal", pid=pid, after=0, dead=pid, job_type=job_type,
           directory=f"{b.context.mgr}/user/", signal=signal)  # fmt: skip
    b.emit("crash.cleanup", pid=pid, after=(1, 5))


@sequence("journal_switch", "the two-line journaling system message of a journal file switch "
          "(messages_real.log lines 103-104)")  # fmt: skip
def _journal_switch(b: Builder) -> None:
    b.emit("backup.journal_switch", role="journal_daemon", after=0,
           journal=b.journal_file(advance=True))  # fmt: skip


#: The Log Monitor list (documented_messages.md §3) by the names log_monitor takes:
#: the template id without its ``lm.`` prefix.
def log_monitor_errors() -> list[str]:
    """Names the ``log_monitor`` sequence accepts for ``error=``."""
    return [t.id[3:] for t in load_catalog() if t.id.startswith("lm.")]


@sequence("log_monitor", "one error of the Log Monitor's always-notify list (write daemon, "
          "journal, WIJ, ECP, audit, write errors): error=<name>, e.g. wd_panic_mode")  # fmt: skip
def _log_monitor(b: Builder, *, error: str = "wd_panic_mode") -> None:
    names = log_monitor_errors()
    if error not in names:
        raise ConfigError(
            f"sequence 'log_monitor': error must be one of {', '.join(names)}, not {error!r}"
        )
    ctx = b.context
    name = ctx.databases[-1] if ctx.databases else "user"
    values: dict[str, Any] = {
        "directory": f"{ctx.mgr}/{name}/",
        "previous": f"{ctx.mgr}/irisaudit/",
        "sfn": b.rng.randint(1, 12),
        "block": b.rng.randint(3, 2_000_000),
        "code": b.rng.choice((5, 13, 28)),
        "journal": b.journal_file(),
        "bytes": 4_293_918_720,
        "seconds": b.rng.choice((60, 120, 300)),
        "wdpass": b.rng.randint(10_000, 250_000),
        "reason": b.rng.randint(1, 9),
    }
    role = "write_daemon" if error.startswith("wd_") else "control"
    b.emit(f"lm.{error}", role=role, after=0, **values)


@sequence("license_error", "licence trouble as IRIS logs it: kind='no_key' (LMF: no valid key), "
          "'invalid_key' (licence server refused the key), 'validate' (key must be validated)")  # fmt: skip
def _license_error(b: Builder, *, kind: str = "no_key") -> None:
    templates = {
        "no_key": "license.no_key",
        "invalid_key": "license.lmf_invalid_key",
        "validate": "startup.license_validate",
    }
    if kind not in templates:
        raise ConfigError(
            f"sequence 'license_error': kind must be one of {', '.join(templates)}, not {kind!r}"
        )
    b.emit(templates[kind], role="license", after=0)


@sequence("durable_sys", "container start with durable %SYS (messages_real.log lines 46-53): "
          "data directory, version check, update, permissions; fail=True: the real "
          "'Cannot create target' error (line 41)")  # fmt: skip
def _durable_sys(b: Builder, *, fail: bool = False, data_dir: str = "/durable/iris/") -> None:
    root = b.context.root
    if fail:
        b.emit("durable.move_failed", role="startup", after=0, directory=data_dir)
        return
    versionid = b.context.version_id
    b.emit("durable.data_directory", role="startup", after=0, directory=data_dir)
    b.emit("durable.qlist", role="startup", after=(2, 4), root=root)
    b.emit("durable.same_versions", role="startup", after=(15, 20))
    b.emit("durable.source", role="startup", after=(2, 4), root=root, versionid=versionid)
    b.emit("durable.destination", role="startup", after=(1, 2), directory=data_dir,
           versionid=versionid)  # fmt: skip
    b.emit("durable.update", role="startup", after=(1, 3), root=root, directory=data_dir,
           versionid=versionid)  # fmt: skip
    b.emit("durable.chmod_tree", role="startup", after=(5, 9), root=root)
    b.emit("durable.chmod_root", role="startup", after=(60, 90), root=root)
