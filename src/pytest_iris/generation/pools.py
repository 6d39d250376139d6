"""Pools of free-form values (users, hosts, namespaces ...) filled by Faker, once.

Calling Faker for every line is what makes naive generators slow (about
44,000 lines/s on the project's machines); the generator instead asks Faker
for a few dozen values of each kind when a stream is created and draws from
those lists with :class:`random.Random`. Faker is seeded from the stream's
seed, so the pools are the same on every run (for a given Faker version).
"""

from __future__ import annotations

import functools
import random
import threading
from dataclasses import dataclass
from typing import Any

#: Faker instance creation costs ~30 ms; one is shared and re-seeded per pool.
_LOCK = threading.Lock()

#: Application-ish words for namespace and database names (IRIS namespaces are
#: upper case, database directories lower case).
_STANDARD_NAMESPACES = ("USER", "%SYS", "HSLIB", "ENSDEMO")
#: Names of the Task Manager's system tasks (what a default instance schedules).
_TASKS = (
    "Purge Journal",
    "Purge Tasks",
    "Purge Audit Database",
    "Purge Error and Log Files",
    "Switch Journal",
    "Integrity Check",
    "Security Scan",
    "Update TimeZone Information",
    "Feature Tracker",
    "Diagnostic Report",
)
_KINDS = (
    "database_dir",
    "namespace",
    "user",
    "client_ip",
    "hostname",
    "routine",
    "task_name",
    "production",
    "job_pid",
    "control_pid",
    "int:LOW:HIGH",
)


@dataclass(frozen=True)
class ValuePools:
    """Lists of values per kind; :meth:`draw` picks one for a placeholder kind."""

    databases: tuple[str, ...]
    namespaces: tuple[str, ...]
    users: tuple[str, ...]
    client_ips: tuple[str, ...]
    hostnames: tuple[str, ...]
    routines: tuple[str, ...]
    tasks: tuple[str, ...]
    productions: tuple[str, ...]

    def draw(self, kind: str, rng: random.Random, env: dict[str, Any]) -> Any:
        """A value of ``kind``; ``env`` supplies ``mgr``, ``control_pid`` and ``next_pid``."""
        if kind.startswith("int:"):
            _, low, high = kind.split(":")
            return rng.randint(int(low), int(high))
        if kind == "database_dir":
            return f"{env['mgr']}/{rng.choice(self.databases)}/"
        if kind == "control_pid":
            return env["control_pid"]
        if kind == "job_pid":
            return env["control_pid"] + rng.randint(20, 4000)
        table = {
            "namespace": self.namespaces,
            "user": self.users,
            "client_ip": self.client_ips,
            "hostname": self.hostnames,
            "routine": self.routines,
            "task_name": self.tasks,
            "production": self.productions,
        }.get(kind)
        if table is None:
            from pytest_iris.errors import ConfigError

            raise ConfigError(f"unknown placeholder kind {kind!r}; known: {', '.join(_KINDS)}")
        return rng.choice(table)


@functools.lru_cache(maxsize=64)
def build_pools(seed: int, size: int = 24) -> ValuePools:
    """Pools of ``size`` values per kind from a Faker seeded with ``seed``."""
    with _LOCK:
        fake = _faker()
        fake.seed_instance(seed)
        words = _unique(lambda: fake.word().lower(), size)
        namespaces = _STANDARD_NAMESPACES + tuple(w.upper() for w in words[: size // 2])
        databases = ("user", "irislocaldata", "iristemp", *words)
        users = _unique(fake.user_name, size)
        ips = _unique(fake.ipv4_private, size)
        hosts = _unique(lambda: fake.hostname(0), size)
        routines = _unique(
            lambda: (
                f"{fake.word().capitalize()}.{fake.word().capitalize()}.{fake.word().capitalize()}"
            ),
            size,
        )
        tasks = _TASKS
        productions = _unique(
            lambda: f"{fake.word().capitalize()}PKG.{fake.word().capitalize()}Production", size
        )
    return ValuePools(databases, namespaces, users, ips, hosts, routines, tasks, productions)


@functools.cache
def _faker() -> Any:
    from faker import Faker

    return Faker("en_US")


def _unique(make: Any, size: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for _ in range(size * 8):
        value = str(make())
        if value and "]" not in value and "{" not in value and "}" not in value:
            seen.setdefault(value, None)
        if len(seen) >= size:
            break
    return tuple(seen)
