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
from typing import Any, Literal, get_args

from pytest_iris.host import Host

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


def take(host: Host) -> Snapshot:
    """Everything observable about ``host`` now (fake or live: only the Host protocol is used)."""
    host.refresh_procfs()
    status = host.status()
    return Snapshot(
        kernel={key: host.read_sysctl(key) for key in KERNEL_KEYS},
        hugepages_free=host.hugepages_free(),
        status=status,
        health=host.health(),
        processes=host.processes(),
        listening=host.listening(),
        connections=host.connections(),
        cpf=_cpf_values(host.cpf_path.read_text(encoding="utf-8")),
        log_lines=tuple(host.log_text().splitlines()),
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
