"""The kernel tool: shared-memory tunables an IRIS instance needs, planned then applied.

It reads ``kernel.shmmax``, ``kernel.shmall``, ``kernel.sem``,
``kernel.msgmni``, ``vm.nr_hugepages`` and ``/proc/meminfo`` from a procfs
root (the real ``/proc`` or a sandbox's), plans what a shared-memory total
needs (facts.md §5.1: shmmax = total + a 16 MB margin, shmall in pages,
huge pages = total / Hugepagesize + 1 when they are used, msgmni = 3 per
instance), shows the plan as current / proposed / why, and applies it with
``sysctl -w`` found on the PATH of the given environment. A refusal by the
kernel raises :class:`~pytest_iris.errors.CommandPrivilegeError` naming the
exact commands a person would run as root.
"""

from __future__ import annotations

import os
import re
import shlex
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from pytest_iris._limits import MAX_RAM_MB
from pytest_iris.errors import CommandPrivilegeError, ToolError, ValidationError
from pytest_iris.logging import get_logger
from pytest_iris.models import ToolResult
from pytest_iris.tools._exec import Completed, run
from pytest_iris.tools.results import ResultBuilder, traced
from pytest_iris.tools.settings import ToolSettings

MIB = 1024 * 1024
#: IRIS instances one kernel plan sizes for (invented bound, as the CLI's --instances)
MAX_INSTANCES = 1_000
#: what ``sysctl`` (procps) prints when the kernel refuses a write
_DENIED = re.compile(
    r"permission denied|operation not permitted|read-only file system"
    r"|a password is required|not in the sudoers|is not allowed to execute",
    re.I,
)
#: how the tool escalates: never; retry a refused write with ``sudo -n``; always ``sudo -n``
SudoMode = Literal["never", "auto", "always"]
_log = get_logger("pytest_iris.tools.kernel")


class HasTotal(Protocol):
    """Anything with a shared-memory total, e.g. :class:`pytest_iris.memory.SharedMemoryPlan`."""

    @property
    def total_mb(self) -> int: ...


@dataclass(frozen=True)
class KernelState:
    """The tunables and memory figures read from one procfs root."""

    shmmax: int
    shmall: int
    sem: tuple[int, int, int, int]
    msgmni: int
    nr_hugepages: int
    mem_total_kb: int
    hugepages_total: int
    hugepages_free: int
    hugepagesize_kb: int

    def value(self, key: str) -> int | str:
        """The current value of ``key`` as ``sysctl`` shows it."""
        if key == "kernel.sem":
            return " ".join(str(v) for v in self.sem)
        attribute = key.split(".", 1)[1]
        value: int = getattr(self, attribute)
        return value

    @property
    def total_ram_mb(self) -> int:
        return self.mem_total_kb // 1024


@dataclass(frozen=True)
class PlannedValue:
    """One tunable in a plan: its current value, the value proposed, and why."""

    key: str
    current: int | str
    proposed: int | str
    why: str

    @property
    def needed(self) -> bool:
        return self.current != self.proposed

    @property
    def command(self) -> str:
        """The ``sysctl -w`` command that sets it, as a person would type it."""
        return shlex.join(["sysctl", "-w", f"{self.key}={self.proposed}"])


@dataclass(frozen=True)
class KernelPlan:
    """What a shared-memory total needs from the kernel: a dry run until applied."""

    total_mb: int
    huge_pages: bool
    values: tuple[PlannedValue, ...]
    state: KernelState = field(repr=False)

    @property
    def changes(self) -> tuple[PlannedValue, ...]:
        """Only the values that differ from the current ones."""
        return tuple(v for v in self.values if v.needed)

    def commands(self, *, sudo: bool = False) -> list[str]:
        prefix = "sudo " if sudo else ""
        return [prefix + v.command for v in self.changes]

    def render(self) -> str:
        """The plan as a table a person reads: parameter, current, proposed, why."""
        rows = [("parameter", "current", "proposed", "why")]
        for v in self.values:
            rows.append((v.key, str(v.current), str(v.proposed) if v.needed else "-", v.why))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
            for row in rows
        ]
        head = f"kernel plan for {self.total_mb}MB shared memory" + (
            " using huge pages" if self.huge_pages else ""
        )
        return "\n".join([head, *lines])

    def sysctl_conf(self, existing: str = "") -> str:
        """A sysctl.d file holding the planned values, keeping unrelated lines of ``existing``."""
        wanted = {v.key: v.proposed for v in self.values if v.needed}
        lines = existing.splitlines()
        seen: set[str] = set()
        out: list[str] = []
        for line in lines:
            key = line.split("=", 1)[0].strip() if "=" in line else ""
            if key in wanted and not line.lstrip().startswith(("#", ";")):
                out.append(f"{key} = {wanted[key]}")
                seen.add(key)
            else:
                out.append(line)
        missing = [k for k in wanted if k not in seen]
        if missing:
            if not out:
                out.append(
                    f"# InterSystems IRIS: {self.total_mb}MB shared memory (written by pytest-iris)"
                )
            out.extend(f"{k} = {wanted[k]}" for k in missing)
        return "\n".join(out) + "\n"


class KernelTool:
    """Reads, plans and applies the kernel tunables of one host (real or sandbox)."""

    def __init__(
        self,
        procfs_root: str | os.PathLike[str] = "/proc",
        sysctl: str = "sysctl",
        env: Mapping[str, str] | None = None,
        *,
        settings: ToolSettings | None = None,
        page_size: int | None = None,
        sudo: SudoMode | None = None,
        read_via: Literal["procfs", "sysctl"] | None = None,
    ) -> None:
        self.procfs_root = Path(procfs_root)
        self.sysctl = sysctl
        self.env = dict(env) if env is not None else None
        self.settings = settings or ToolSettings()
        self.page_size = page_size or os.sysconf("SC_PAGE_SIZE")
        self.sudo: SudoMode = sudo or self.settings.sudo
        #: where values are read: the procfs files, or ``sysctl -n`` (for a root
        #: whose tunables live in another IPC namespace, e.g. the live sandbox's
        #: procfs view); by default ``sysctl`` only for a procfs root without ``sys/``
        view_only = self.procfs_root.is_dir() and not (self.procfs_root / "sys").is_dir()
        self.read_via = read_via or ("sysctl" if view_only else "procfs")
        #: set by whoever runs the tool (the Dispatcher, at the end of its budget):
        #: no further ``sysctl -w`` is started once it is set
        self.cancel = threading.Event()

    # -- reading -----------------------------------------------------------

    def path_of(self, key: str) -> Path:
        """The procfs file of a sysctl key (``kernel.shmmax`` -> ``sys/kernel/shmmax``)."""
        return self.procfs_root / "sys" / Path(*key.split("."))

    @traced
    def read(self) -> KernelState:
        """The current tunables and memory figures; a missing or garbled file is a ToolError."""
        sem = self._ints("kernel.sem")
        if len(sem) != 4:
            raise ToolError(f"{self.path_of('kernel.sem')} holds {len(sem)} numbers, expected 4")
        meminfo = self._meminfo()
        state = KernelState(
            shmmax=self._int("kernel.shmmax"),
            shmall=self._int("kernel.shmall"),
            sem=(sem[0], sem[1], sem[2], sem[3]),
            msgmni=self._int("kernel.msgmni"),
            nr_hugepages=self._int("vm.nr_hugepages"),
            mem_total_kb=meminfo.get("MemTotal", 0),
            hugepages_total=meminfo.get("HugePages_Total", 0),
            hugepages_free=meminfo.get("HugePages_Free", 0),
            hugepagesize_kb=meminfo.get("Hugepagesize", 2048),
        )
        _log.debug("kernel.read", procfs_root=str(self.procfs_root), shmmax=state.shmmax)
        return state

    def _ints(self, key: str) -> list[int]:
        if self.read_via == "sysctl":
            return self._ints_from_sysctl(key)
        path = self.path_of(key)
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise ToolError(f"cannot read {key}: {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ToolError(f"cannot read {key} from {path}: {error}") from None
        try:
            return [int(part) for part in text.split()]
        except ValueError:
            raise ToolError(f"{path} holds {text.strip()!r}, not integers") from None

    def _ints_from_sysctl(self, key: str) -> list[int]:
        done = run([self.sysctl, "-n", key], env=self.env, timeout=self.settings.sysctl_timeout_s)
        if not done.ok:
            reason = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
            raise ToolError(f"cannot read {key}: `{done.command}` failed: {reason}")
        try:
            return [int(part) for part in done.stdout.split()]
        except ValueError:
            raise ToolError(
                f"`{done.command}` printed {done.stdout.strip()!r}, not integers"
            ) from None

    def _int(self, key: str) -> int:
        values = self._ints(key)
        if len(values) != 1:
            raise ToolError(f"{self.path_of(key)} holds {len(values)} numbers, expected 1")
        return values[0]

    def _meminfo(self) -> dict[str, int]:
        path = self.procfs_root / "meminfo"
        try:
            text = path.read_text(encoding="ascii")
        except OSError as error:
            raise ToolError(f"cannot read memory figures from {path}: {error}") from None
        figures: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), 1):
            name, sep, rest = line.partition(":")
            parts = rest.split()
            if not sep or not parts or not parts[0].isdigit():
                raise ToolError(f"{path}:{number}: not a meminfo line: {line!r}")
            figures[name.strip()] = int(parts[0])
        if "MemTotal" not in figures:
            raise ToolError(f"{path} has no MemTotal line")
        return figures

    # -- planning ----------------------------------------------------------

    @traced
    def plan(
        self,
        shared_memory: HasTotal | int,
        *,
        huge_pages: bool = False,
        instances: int = 1,
        margin_mb: int | None = None,
        state: KernelState | None = None,
    ) -> KernelPlan:
        """The values a shared-memory total (MB, or a plan's ``total_mb``) needs."""
        total_mb = shared_memory if isinstance(shared_memory, int) else shared_memory.total_mb
        # the CLI's bounds (pytest_iris._limits), here for every caller: a remediator's
        # shared_memory_mb=10**30 would otherwise set a kernel.shmmax no kernel takes
        if isinstance(total_mb, bool) or not 1 <= total_mb <= MAX_RAM_MB:
            raise ValidationError(
                f"shared memory total must be a whole number of MB in 1..{MAX_RAM_MB}, "
                f"got {total_mb!r}"
            )
        if not 1 <= instances <= MAX_INSTANCES:
            raise ValidationError(f"instances must be in 1..{MAX_INSTANCES}, got {instances}")
        margin = self.settings.shmmax_margin_mb if margin_mb is None else margin_mb
        if not 0 <= margin <= MAX_RAM_MB:
            raise ValidationError(f"margin_mb must be in 0..{MAX_RAM_MB}, got {margin}")
        state = state or self.read()
        need_bytes = (total_mb + margin) * MIB
        values = [self._shmmax(state, total_mb, margin, need_bytes)]
        values.append(self._shmall(state, need_bytes))
        values.append(
            PlannedValue(
                "kernel.sem",
                state.value("kernel.sem"),
                state.value("kernel.sem"),
                'kept: IRIS documents no requirement ("other parameters are sufficiently sized")',
            )
        )
        need_msgmni = 3 * instances
        values.append(
            PlannedValue(
                "kernel.msgmni",
                state.msgmni,
                max(state.msgmni, need_msgmni),
                f"3 per IRIS instance x {instances} = {need_msgmni}"
                + (" (already enough)" if state.msgmni >= need_msgmni else ""),
            )
        )
        values.append(self._hugepages(state, total_mb, huge_pages))
        plan = KernelPlan(total_mb, huge_pages, tuple(values), state)
        _log.info(
            "kernel.plan",
            total_mb=total_mb,
            huge_pages=huge_pages,
            changes={v.key: [v.current, v.proposed] for v in plan.changes},
        )
        return plan

    def _shmmax(self, state: KernelState, total_mb: int, margin: int, need: int) -> PlannedValue:
        why = (
            f"shared memory {total_mb}MB + {margin}MB margin = {total_mb + margin}MB ({need} bytes)"
        )
        if state.shmmax >= need:
            return PlannedValue(
                "kernel.shmmax", state.shmmax, state.shmmax, why + ": already enough"
            )
        return PlannedValue("kernel.shmmax", state.shmmax, need, why + f" > current {state.shmmax}")

    def _shmall(self, state: KernelState, need: int) -> PlannedValue:
        pages = -(-need // self.page_size)
        why = f"{need} bytes in {self.page_size}-byte pages = {pages} pages"
        if state.shmall >= pages:
            return PlannedValue(
                "kernel.shmall", state.shmall, state.shmall, why + ": already enough"
            )
        return PlannedValue(
            "kernel.shmall", state.shmall, pages, why + f" > current {state.shmall}"
        )

    def _hugepages(self, state: KernelState, total_mb: int, used: bool) -> PlannedValue:
        current = state.nr_hugepages
        if not used:
            return PlannedValue("vm.nr_hugepages", current, current, "kept: huge pages not used")
        size = state.hugepagesize_kb
        pages = -(-total_mb * 1024 // size) + self.settings.hugepages_margin  # whole pages
        why = (
            f"the pool must exceed {total_mb}MB: {total_mb * 1024}KB / {size}KB pages "
            f"+ {self.settings.hugepages_margin} = {pages} pages"
        )
        if current >= pages:
            return PlannedValue("vm.nr_hugepages", current, current, why + ": already enough")
        return PlannedValue("vm.nr_hugepages", current, pages, why + f" > current {current}")

    # -- applying ----------------------------------------------------------

    @traced
    def apply(
        self,
        plan: KernelPlan,
        *,
        dry_run: bool | None = None,
        persist: str | os.PathLike[str] | None = None,
    ) -> ToolResult:
        """Apply ``plan`` with ``sysctl -w`` (a dry run by default) and optionally persist it.

        Each value is read back from procfs after its ``sysctl`` to confirm it.
        A refusal raises :class:`CommandPrivilegeError` with the commands left
        to run and the result so far; any other ``sysctl`` failure ends the
        call with a failure (nothing applied) or partial result.
        """
        dry = self.settings.dry_run if dry_run is None else dry_run
        result = ResultBuilder("kernel", "apply", dry_run=dry)
        result.details["plan"] = plan.render()
        result.details["commands"] = plan.commands()
        if dry:
            for v in plan.changes:
                result.change(v.key, v.current, v.proposed, applied=False, reason=v.why)
            if persist is not None:
                result.details["persist"] = {
                    "path": os.fspath(persist),
                    "text": self._conf(plan, persist),
                }
            _log.info("kernel.dry_run", changes=len(plan.changes))
            count = len(plan.changes)
            return result.success(
                f"dry run: {count} change{'s' if count != 1 else ''} planned"
                if count
                else "dry run: the kernel already meets the plan"
            )
        applied = 0
        for index, v in enumerate(plan.changes):
            if self.cancel.is_set():
                for left in plan.changes[index:]:
                    result.change(
                        left.key, left.current, left.proposed, applied=False, reason=left.why
                    )
                _log.warning("kernel.cancelled", left=[left.key for left in plan.changes[index:]])
                return result.unfinished(f"cancelled before setting {v.key}: out of time")
            done = self._sysctl(v)
            _log.info("kernel.sysctl", key=v.key, value=v.proposed, returncode=done.returncode)
            if not done.ok:
                for left in plan.changes[index:]:
                    result.change(
                        left.key, left.current, left.proposed, applied=False, reason=left.why
                    )
                reason = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
                if done.timed_out:
                    reason = f"timed out after {self.settings.sysctl_timeout_s}s"
                if _DENIED.search(done.stderr + done.stdout):
                    commands = tuple("sudo " + left.command for left in plan.changes[index:])
                    partial = result.partial if applied else result.failure
                    outcome = partial(f"not permitted to set {v.key}: {reason}")
                    message = (
                        f"kernel tool lacks the privilege to set {v.key} ({reason}); "
                        "run as root:\n  " + "\n  ".join(commands)
                    )
                    _log.warning("kernel.privilege", key=v.key, commands=list(commands))
                    raise CommandPrivilegeError(message, commands, outcome)
                text = f"`{done.command}` failed: {reason}"
                return result.partial(text) if applied else result.failure(text)
            now = self._read_back(v.key)
            if str(now) != str(v.proposed):
                result.change(v.key, v.current, now, applied=True, reason=v.why)
                text = f"`{done.command}` succeeded but {self.path_of(v.key)} now holds {now}"
                return result.partial(text)
            result.change(v.key, v.current, v.proposed, applied=True, reason=v.why)
            result.confirm(*(line for line in done.stdout.splitlines() if line.strip()))
            applied += 1
        if persist is not None:
            self._persist(plan, Path(persist), result)
        _log.info("kernel.applied", applied=applied)
        return result.success(
            f"applied {applied} change{'s' if applied != 1 else ''}"
            if applied
            else "the kernel already meets the plan"
        )

    def _sysctl(self, value: PlannedValue) -> Completed:
        """``sysctl -w``, through ``sudo -n`` (never prompting) as the sudo mode says."""
        argv = [self.sysctl, "-w", f"{value.key}={value.proposed}"]
        timeout = self.settings.sysctl_timeout_s
        if self.sudo == "always":
            return run(["sudo", "-n", *argv], env=self.env, timeout=timeout)
        done = run(argv, env=self.env, timeout=timeout)
        if self.sudo == "auto" and not done.ok and _DENIED.search(done.stderr + done.stdout):
            _log.info("kernel.sudo", key=value.key)
            escalated = run(["sudo", "-n", *argv], env=self.env, timeout=timeout)
            if escalated.ok:
                return escalated
            # keep both reasons: the kernel's refusal and why sudo did not help
            return Completed(
                escalated.argv,
                escalated.returncode,
                escalated.stdout,
                f"{done.stderr.strip()}; {escalated.stderr.strip()}",
                escalated.timed_out,
            )
        return done

    def _read_back(self, key: str) -> int | str:
        values = self._ints(key)
        return " ".join(str(n) for n in values) if len(values) != 1 else values[0]

    def _conf(self, plan: KernelPlan, path: str | os.PathLike[str]) -> str:
        try:
            existing = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            existing = ""
        except OSError as error:
            raise ToolError(f"cannot read {os.fspath(path)}: {error}") from None
        return plan.sysctl_conf(existing)

    def _persist(self, plan: KernelPlan, path: Path, result: ResultBuilder) -> None:
        text = self._conf(plan, path)
        try:
            before = path.read_text(encoding="utf-8") if path.exists() else None
            path.parent.mkdir(parents=True, exist_ok=True)
            from pytest_iris.atomic import write_atomic

            write_atomic(path, text.encode("utf-8"))  # the CPF tool's: temp, fsync, rename
        except PermissionError as error:
            command = f"sudo tee {shlex.quote(str(path))} <<'EOF'\n{text}EOF"
            raise CommandPrivilegeError(
                f"kernel tool lacks the privilege to write {path} ({error.strerror}); "
                f"run as root:\n  {command}",
                (command,),
                result.partial(f"applied, but could not persist to {path}"),
            ) from None
        result.change(str(path), before, text, applied=True, reason="persist across reboots")
        result.details["persist"] = {"path": str(path), "text": text}
        _log.info("kernel.persist", path=str(path))
