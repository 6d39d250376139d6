"""Pools of free-form values (users, hosts, namespaces ...): shipped precomputed.

Calling Faker for every line is what makes naive generators slow (about
44,000 lines/s on the project's machines), and importing Faker at all costs
every pytest run that has it installed (its own pytest plugin loads it). So
Faker is an extra (``pytest-iris[faker]``) used only to *regenerate* the
pools: :data:`POOL_SETS` sets of :data:`POOL_SIZE` values per kind, filled by
a Faker seeded with the set's number, stored as package data
(``pools.json``). A stream picks a set by its seed and draws from those lists
with :class:`random.Random`; the same seed gives the same values on every
machine, with or without Faker, whatever Faker version is installed.

Regenerate (needs the extra; ``tests/test_pools.py`` checks the file is what
this gives)::

    python -m pytest_iris.generation.pools            # rewrite pools.json
    python -m pytest_iris.generation.pools --check    # exit 1 when it differs
"""

from __future__ import annotations

import functools
import json
import random
import sys
import threading
from dataclasses import asdict, dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_iris.errors import ConfigError

#: how many precomputed sets ship (a stream's seed picks one) and their size
POOL_SETS = 64
POOL_SIZE = 24
_DATA = "pools.json"

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
            raise ConfigError(f"unknown placeholder kind {kind!r}; known: {', '.join(_KINDS)}")
        return rng.choice(table)


def build_pools(seed: int, size: int = POOL_SIZE) -> ValuePools:
    """Value set ``seed`` (0 .. POOL_SETS-1) from the shipped data, no Faker needed.

    Other seeds or sizes are filled by Faker on the spot (the ``faker`` extra).
    """
    if size == POOL_SIZE and 0 <= seed < POOL_SETS:
        return _shipped()[seed]
    return faker_pools(seed, size)


@functools.cache
def _shipped() -> tuple[ValuePools, ...]:
    raw = json.loads(resources.files(__package__).joinpath(_DATA).read_text("utf-8"))
    return tuple(
        ValuePools(**{f.name: tuple(values[f.name]) for f in fields(ValuePools)})
        for values in raw["sets"]
    )


@functools.lru_cache(maxsize=64)
def faker_pools(seed: int, size: int = POOL_SIZE) -> ValuePools:
    """Pools of ``size`` values per kind from a Faker seeded with ``seed`` (needs the extra)."""
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


def render_data() -> str:
    """The text of ``pools.json`` as Faker (the installed version) fills it."""
    sets = [asdict(faker_pools(seed)) for seed in range(POOL_SETS)]
    lines = ",\n".join(json.dumps(one, ensure_ascii=False) for one in sets)
    head = json.dumps({"generated_by": "python -m pytest_iris.generation.pools", "size": POOL_SIZE})
    return head[:-1] + ', "sets": [\n' + lines + "\n]}\n"


def data_path() -> Path:
    """Where the shipped ``pools.json`` is (in a source checkout: the file to rewrite)."""
    return Path(__file__).with_name(_DATA)


@functools.cache
def _faker() -> Any:
    try:
        from faker import Faker
    except ModuleNotFoundError:
        raise ConfigError(
            "value pools beyond the shipped ones need Faker: pip install 'pytest-iris[faker]'"
        ) from None
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


def main(argv: list[str] | None = None) -> int:
    """Rewrite ``pools.json`` from Faker, or with ``--check`` say whether it differs."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--check"]):
        print("usage: python -m pytest_iris.generation.pools [--check]", file=sys.stderr)
        return 2
    text = render_data()
    path = data_path()
    if args == ["--check"]:
        same = path.is_file() and path.read_text("utf-8") == text
        print(f"{path}: {'up to date' if same else 'differs from what Faker gives'}")
        return 0 if same else 1
    from pytest_iris.atomic import write_atomic

    write_atomic(path, text)
    print(f"wrote {path} ({POOL_SETS} sets of {POOL_SIZE} values per kind)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
