"""Snapshots of a sandbox host and the difference between two of them.

A snapshot records what a remediation can change and a test wants to
assert on: the kernel tunables, huge pages, the instance's status, its
processes and listening ports, client connections, the CPF's values and
messages.log. ``diff(before, after)`` (or ``after - before``) says what
changed, in plain data a test can compare::

    before = host.snapshot()
    host.iris("stop", "IRIS", "quietly")
    change = host.snapshot() - before
    assert change.status == ("running", "down")
    assert change.stopped and not change.started
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from pytest_iris.sandbox.host import SandboxHost
    from pytest_iris.sandbox.live import LiveSandbox

#: The kernel tunables an IRIS host's state is made of (snapshots, scenarios).
KernelKey = Literal[
    "kernel.shmmax",
    "kernel.shmall",
    "kernel.shmmni",
    "kernel.sem",
    "kernel.msgmni",
    "vm.nr_hugepages",
]
KERNEL_KEYS: tuple[KernelKey, ...] = get_args(KernelKey)


@dataclass(frozen=True)
class Snapshot:
    """The observable state of a host at one moment."""

    kernel: dict[str, str]
    hugepages_free: int
    status: str
    health: str
    processes: dict[int, tuple[str, str]]  # pid -> (comm, role)
    listening: tuple[int, ...]
    connections: int
    cpf: dict[str, str]  # "section.key" -> value
    log_lines: tuple[str, ...]

    def __sub__(self, other: Snapshot) -> SnapshotDiff:
        return diff(other, self)


@dataclass(frozen=True)
class SnapshotDiff:
    """What changed from one snapshot to a later one (empty when nothing did)."""

    kernel: dict[str, tuple[str, str]] = field(default_factory=dict)
    cpf: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    status: tuple[str, str] | None = None
    health: tuple[str, str] | None = None
    started: dict[int, tuple[str, str]] = field(default_factory=dict)
    stopped: dict[int, tuple[str, str]] = field(default_factory=dict)
    listening: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    connections: tuple[int, int] | None = None
    hugepages_free: tuple[int, int] | None = None
    new_log_lines: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any(bool(getattr(self, name)) for name in self.__dataclass_fields__)

    def summary(self) -> str:
        """One line per change, for assertion messages."""
        lines = [f"{k}: {a} -> {b}" for k, (a, b) in self.kernel.items()]
        lines += [f"cpf {k}: {a} -> {b}" for k, (a, b) in self.cpf.items()]
        for name in ("status", "health", "listening", "connections", "hugepages_free"):
            value = getattr(self, name)
            if value is not None:
                lines.append(f"{name}: {value[0]} -> {value[1]}")
        if self.started:
            lines.append(f"started: {sorted(self.started)}")
        if self.stopped:
            lines.append(f"stopped: {sorted(self.stopped)}")
        lines += [f"log: {line}" for line in self.new_log_lines]
        return "\n".join(lines)


def _cpf_values(text: str) -> dict[str, str]:
    values, section = {}, ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
        elif "=" in line and not stripped.startswith("#"):
            key, value = line.split("=", 1)
            values[f"{section}.{key.strip()}"] = value.strip()
    return values


def take(host: SandboxHost) -> Snapshot:
    from pytest_iris.sandbox._procfs import read_key

    state = host.state()
    inst = state.instances[host.instance_name]
    kernel: dict[str, str] = {key: read_key(host.proc, key) for key in KERNEL_KEYS}
    meminfo = (host.proc / "meminfo").read_text(encoding="ascii")
    free = next(
        int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("HugePages_Free")
    )
    listening = tuple(sorted(s.lport for s in state.sockets.values() if s.state == "LISTEN"))
    from pytest_iris.sandbox._iris import established

    return Snapshot(
        kernel=kernel,
        hugepages_free=free,
        status=inst.status,
        health=inst.health,
        processes={p.pid: (p.comm, p.role) for p in state.processes.values()},
        listening=listening,
        connections=established(state, inst),
        cpf=_cpf_values(host.cpf_path.read_text(encoding="utf-8")),
        log_lines=tuple(host.messages_log.read_text(encoding="utf-8").splitlines()),
    )


def take_live(host: LiveSandbox) -> Snapshot:
    """The same snapshot of a live sandbox: its namespace's kernel and real processes."""
    values = host.sysctl("-n", *KERNEL_KEYS).stdout.splitlines()
    state = host.state()
    inst = state.instances[host.instance_name]
    with open("/proc/meminfo", encoding="ascii") as fh:  # huge pages are the real host's
        free = next(int(line.split()[1]) for line in fh if line.startswith("HugePages_Free"))
    processes = {}
    for role, pids in host.pids().items():
        for pid in pids:
            try:
                with open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
                    processes[pid] = (fh.read().strip(), role)
            except OSError:
                continue
    return Snapshot(
        kernel=dict(zip(KERNEL_KEYS, values, strict=False)),
        hugepages_free=free,
        status=inst.status,
        health=inst.health,
        processes=processes,
        listening=host.listening(),
        connections=host.connections(),
        cpf=_cpf_values(host.cpf_path.read_text(encoding="utf-8")),
        log_lines=tuple(host.messages_log.read_text(encoding="utf-8").splitlines()),
    )


def diff(before: Snapshot, after: Snapshot) -> SnapshotDiff:
    """What changed between ``before`` and ``after``."""

    def pair(name: str) -> Any:
        a, b = getattr(before, name), getattr(after, name)
        return None if a == b else (a, b)

    keys = before.cpf.keys() | after.cpf.keys()
    same_prefix = after.log_lines[: len(before.log_lines)] == before.log_lines
    new_lines = after.log_lines[len(before.log_lines) :] if same_prefix else after.log_lines
    return SnapshotDiff(
        kernel={
            k: (before.kernel[k], after.kernel[k])
            for k in before.kernel
            if before.kernel[k] != after.kernel.get(k)
        },
        cpf={
            k: (before.cpf.get(k), after.cpf.get(k))
            for k in sorted(keys)
            if before.cpf.get(k) != after.cpf.get(k)
        },
        status=pair("status"),
        health=pair("health"),
        started={p: v for p, v in after.processes.items() if p not in before.processes},
        stopped={p: v for p, v in before.processes.items() if p not in after.processes},
        listening=pair("listening"),
        connections=pair("connections"),
        hugepages_free=pair("hugepages_free"),
        new_log_lines=tuple(new_lines),
    )
