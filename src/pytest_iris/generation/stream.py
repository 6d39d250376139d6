"""The stream engine: background noise plus scheduled sequences, seeded.

A :class:`LogStream` is a recipe, not a buffer: every iteration regenerates
the same bytes from ``random.Random`` instances derived from the seed (never
from ``hash()`` or the time), so a stream is byte-identical on every run,
machine and xdist worker, and any number of lines can be produced in
constant memory.

The noise path is the hot one. Faker fills value pools once; each noise
template is pre-rendered into a few dozen variants ("tails": severity,
category and text); the random draws for a chunk of lines (template
variant, job PID, clock step) are made in three ``choices`` calls; and the
timestamp is assembled from per-day and per-second string tables. No model
is built per line; :meth:`LogStream.entries` yields the same lines as
:class:`~pytest_iris.generation.entries.Entry` tuples, and a test checks
that both paths write identical bytes.
"""

from __future__ import annotations

import asyncio
import math
import random
import struct
from collections.abc import AsyncIterator, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Union

from pytest_iris import defaults
from pytest_iris._limits import MAX_LINES, MAX_RATE
from pytest_iris.errors import ConfigError
from pytest_iris.generation.builder import Builder
from pytest_iris.generation.catalog import Catalog, load_catalog
from pytest_iris.generation.context import DEFAULT_START, ROLES, SequenceContext
from pytest_iris.generation.entries import (
    BLOCK,
    END_MS,
    Entry,
    format_entry,
    from_ms,
    to_message,
    to_ms,
)
from pytest_iris.generation.pools import ValuePools, build_pools
from pytest_iris.generation.sequences import SEQUENCES as SEQUENCE_TABLE
from pytest_iris.generation.sequences import Sequence as NamedSequence
from pytest_iris.generation.sequences import get_sequence, render_entries
from pytest_iris.log.grammar import MILLIS3, day_prefix, format_tail, seconds_of_day
from pytest_iris.log.model import IRISMessage

if TYPE_CHECKING:
    from pytest_iris.registry import Registry
from pytest_iris.seeds import derive_rng, derive_seed

DAY_MS: Final = 86_400_000
#: Sequences that (re)start the instance: daemons get new PIDs before them.
RESTARTS: Final = frozenset({"startup", "wij_recovery", "shm_failure"})
#: Sequences placed last when no position is given.
ENDINGS: Final = frozenset({"shutdown"})
#: Sequences after which the instance is down or frozen: a restart right after
#: them follows with no noise in between, after some downtime.
DOWN: Final = frozenset({"shutdown", "write_daemon_death"})
_VARIANTS: Final = 32
#: Noise draws come from one 32-bit word per line: 12 bits pick a variant slot,
#: 12 bits a clock step, 4 bits a job (tables sized to match).
_SLOTS: Final = 4096
_DELTAS: Final = 4096
_JOBS: Final = 16
_PID_MAX: Final = 4_194_304
#: Share of consecutive entries stamped in the same millisecond, and share of noise
#: lines written by a process that has not logged before: measured on the real corpus
#: (docs/sources/messages_real.log: 18.9% and 0.42 distinct pids per entry; bench/fidelity.py
#: prints both beside a generated log). A same-millisecond line comes from the process
#: that wrote the line before it (as lines 1-2, 3-4, 5-7, 100-102 show).
SAME_MS: Final = 0.19
_FRESH_JOBS: Final = 8  # of the 16 job slots: a line drawn to one gets a new pid
_MS3: Final = MILLIS3


def _hms() -> list[str]:
    """``HH:MM:SS:`` for every second of a day, from the log grammar."""
    return seconds_of_day()


def _day_prefix(day_start_ms: int) -> str:
    return day_prefix(from_ms(day_start_ms))


SequenceSpec = Union[str, "ScheduledSequence", tuple[str, Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class ScheduledSequence:
    """A sequence to place in a stream: name, parameters, and where (0..1 of the noise).

    ``at=None`` lets the engine choose: restarts first, ``shutdown`` last,
    the rest spread out at random, in the order given.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    at: float | None = None
    #: where the name is looked up (built-ins and plugins' sequences)
    registry: Registry | None = field(default=None, compare=False, repr=False)
    #: the sequence the name resolved to
    sequence: NamedSequence = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        registry = self.registry
        if registry is None and self.name not in SEQUENCE_TABLE:
            # not a built-in: the plugins of the pytest_iris entry-point group may have it
            from pytest_iris.registry import Registry

            registry = Registry.default()
        seq = get_sequence(self.name, registry)  # raises for an unknown name
        object.__setattr__(self, "sequence", seq)
        unknown = set(self.params) - set(seq.params)
        if unknown:
            raise ConfigError(
                f"sequence {self.name!r} has no parameter(s) {sorted(unknown)}; "
                f"it takes: {', '.join(seq.params) or 'none'}"
            )
        if self.at is not None and not 0.0 <= self.at <= 1.0:
            raise ConfigError(f"sequence {self.name!r}: at must be within 0..1, got {self.at!r}")

    @classmethod
    def parse(cls, spec: SequenceSpec, registry: Registry | None = None) -> ScheduledSequence:
        """From ``"name"``, ``"name:key=value,key=value"``, ``"name@0.5"``,
        ``(name, params)`` or ``{"name": ..., "params": ..., "at": ...}``."""
        if isinstance(spec, ScheduledSequence):
            return spec
        if isinstance(spec, tuple):
            return cls(spec[0], dict(spec[1]), registry=registry)
        if isinstance(spec, Mapping):
            extra = set(spec) - {"name", "params", "at"}
            if extra or "name" not in spec:
                raise ConfigError(f"sequence spec {dict(spec)!r}: expected keys name, params, at")
            where_at = spec.get("at")
            if where_at is not None and (
                isinstance(where_at, bool) or not isinstance(where_at, int | float)
            ):
                raise ConfigError(f"sequence spec {dict(spec)!r}: at must be a number in 0..1")
            return cls(str(spec["name"]), dict(spec.get("params") or {}), where_at, registry)
        if not isinstance(spec, str) or not spec:
            raise ConfigError(f"sequence spec must be a name or 'name:key=value,...', got {spec!r}")
        at: float | None = None
        if "@" in spec:
            spec, _, where = spec.rpartition("@")
            try:
                at = float(where)
            except ValueError:
                raise ConfigError(f"sequence spec {spec!r}: '@{where}' is not a number") from None
        name, _, rest = spec.partition(":")
        parsed: dict[str, Any] = {}
        for item in filter(None, rest.split(",")):
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigError(f"sequence spec {spec!r}: expected key=value, got {item!r}")
            parsed[key.strip()] = _value(value.strip())
        return cls(name.strip(), parsed, at, registry)


def _value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    try:
        return int(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Placement:
    """Where a scheduled sequence landed: 1-based first and last line numbers."""

    name: str
    params: Mapping[str, Any]
    first_line: int
    last_line: int
    entries: int


class _Pids:
    """A host's PID counter and one instance's processes: daemons keep theirs, jobs churn."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next = rng.randint(300, 60_000)
        self.daemons: dict[str, int] = {}
        self.jobs: list[int] = []

    def new(self) -> int:
        pid = self.next
        self.next += self.rng.randint(1, 9)
        if self.next >= _PID_MAX:
            self.next = 300
        return pid

    def spawn_instance(self) -> None:
        self.daemons = {role: self.new() for role in ROLES}
        self.jobs = [self.new() for _ in range(_JOBS)]

    def pick(self, words: Sequence[int], steps: Sequence[int]) -> list[int]:
        """The job pid of each noise line: the previous line's in the same millisecond,
        a new process for the top job slots, else one of the running jobs."""
        current = self.jobs
        fresh_from = _JOBS - _FRESH_JOBS
        out: list[int] = []
        prev = current[0]
        for w, step in zip(words, steps, strict=True):
            if step:
                slot = w >> 28
                if slot >= fresh_from:
                    prev = current[slot] = self.next
                    self.next += 1 + ((w >> 24) & 7)
                    if self.next >= _PID_MAX:
                        self.next = 300
                else:
                    prev = current[slot]
            out.append(prev)
        return out

    def churn(self) -> None:
        for _ in range(self.rng.randint(1, 3)):
            self.jobs[self.rng.randrange(len(self.jobs))] = self.new()


class _Table:
    """Pre-rendered noise variants for one instance lifetime."""

    __slots__ = ("entries", "pidfix", "slots", "tails")

    def __init__(
        self,
        catalog: Catalog,
        pools: ValuePools,
        rng: random.Random,
        env: dict[str, Any],
        daemons: Mapping[str, int],
        categories: bool = True,
    ) -> None:
        self.tails: list[str] = []
        self.pidfix: list[int] = []
        self.entries: list[tuple[int, str | None, str, str]] = []
        weights: list[float] = []
        for template in catalog.noise:
            pid = 0 if template.role == "job" else daemons.get(template.role, 0)
            if template.role != "job" and not pid:
                raise ConfigError(
                    f"noise template {template.id!r}: role {template.role!r} is not a daemon role "
                    f"({', '.join(ROLES)}) or 'job'"
                )
            kinds = dict(template.placeholders)
            for _ in range(_VARIANTS):
                values = {name: pools.draw(kind, rng, env) for name, kind in kinds.items()}
                text, _cont = template.render(values)
                category = template.category
                if not categories and not text.startswith("["):
                    category = None
                self.tails.append(format_tail(template.severity, category, text))
                self.pidfix.append(pid)
                self.entries.append((template.severity, category, text, template.id))
                weights.append(template.weight / _VARIANTS)
        self.slots = _slots(weights, _SLOTS)


@dataclass
class _Noise:
    t0: int
    idx: list[int]
    pids: list[int]
    deltas: list[int]
    table: _Table


class LogStream:
    """A seeded messages.log: background noise with sequences placed in it.

    ``count`` is the number of physical lines (continuation lines count);
    ``rate`` the mean noise entries per second of log time; ``jitter`` 0
    gives a steady clock, 1 an exponential (Poisson) one. ``sequences`` are
    names, ``"name:key=value"`` strings or :class:`ScheduledSequence`.
    The instance is described by ``context`` (or ``install_dir``,
    ``instance``, ``total_ram_mb``; ``context`` wins over them); ``catalog``
    replaces the built-in one (see :meth:`Catalog.extended`). ``registry``
    (:class:`~pytest_iris.registry.Registry`) is where sequence names and
    templates are found: the built-ins and what plugins add through the
    ``pytest_iris_add_sequences`` / ``pytest_iris_add_templates`` hooks. The
    shared-memory plan defaults to
    IRIS's automatic plan for that RAM, so the startup writes the
    ``Allocated`` lines with a breakdown that adds up.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        count: int = 1000,
        sequences: Iterable[SequenceSpec] = ("startup",),
        start: datetime | None = None,
        rate: float = 0.02,
        jitter: float = 0.8,
        install_dir: str = "/usr/irissys",
        instance: str = defaults.INSTANCE,
        total_ram_mb: int = defaults.TOTAL_RAM_MB,
        context: SequenceContext | None = None,
        catalog: Catalog | None = None,
        chunk: int = 256,
        registry: Registry | None = None,
        version: str | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"LogStream: seed must be an int, got {seed!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigError(f"LogStream: count must be a non-negative int, got {count!r}")
        if count > MAX_LINES:  # documented maximum (pytest_iris._limits)
            raise ConfigError(f"LogStream: count={count} is above the maximum {MAX_LINES}")
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise ConfigError(f"LogStream: rate must be a positive number of lines/s, got {rate!r}")
        if rate > MAX_RATE:
            raise ConfigError(f"LogStream: rate={rate!r} is above the maximum {MAX_RATE:g} lines/s")
        if not (isinstance(jitter, int | float) and 0 <= jitter <= 1):
            raise ConfigError(f"LogStream: jitter must be within 0..1, got {jitter!r}")
        if chunk < 1:
            raise ConfigError(f"LogStream: chunk must be >= 1, got {chunk!r}")
        self.seed = seed
        self.count = count
        self.rate = float(rate)
        self.jitter = float(jitter)
        self.chunk = chunk
        if catalog is None:
            catalog = registry.catalog if registry is not None else load_catalog()
        self.catalog = catalog
        # 64 pool sets cover every seed: Faker runs once per set and process
        self.pools = build_pools(derive_seed(seed, "pools") % 64)
        from pytest_iris.log.versions import profile

        if context is None:
            context = SequenceContext(
                profile=profile(version).name,
                install_dir=install_dir,
                instance=instance,
                start=start or DEFAULT_START,
                total_ram_mb=total_ram_mb,
                nodename=self.pools.hostnames[0] if self.pools.hostnames else "rhel8",
                globals_auto=True,
            )
        else:
            if start is not None:
                context = replace(context, start=start)
            if version is not None:
                context = replace(context, profile=profile(version).name)
        #: Caché and IRIS before 2020 write no ``[Category]`` (profile.categories).
        self.categories = profile(context.profile).categories
        if context.plan is None:
            context = replace(context, plan=context.effective_plan())
        self.context = replace(context, seed=seed)
        self.sequences = [ScheduledSequence.parse(spec, registry) for spec in sequences]
        self.placements = self._schedule()

    # -- schedule ------------------------------------------------------------

    def _schedule(self) -> list[Placement]:
        """Decide how much noise precedes each sequence (line numbers are then fixed)."""
        sizes = []
        for index, seq in enumerate(self.sequences):
            builder = Builder(self.context, self._seq_rng(index, seq), self.catalog)
            entries = render_entries(seq.sequence, self.context, builder=builder, **seq.params)
            sizes.append((sum(1 + len(e.continuation) for e in entries), len(entries)))
        noise = self.count - sum(lines for lines, _ in sizes)
        if noise < 0:
            raise ConfigError(
                f"LogStream: count={self.count} is smaller than the {self.count - noise} lines "
                f"the sequences {[s.name for s in self.sequences]} need"
            )
        rng = derive_rng(self.seed, "schedule")
        last = len(self.sequences) - 1
        wanted: list[float | None] = []
        for index, seq in enumerate(self.sequences):
            if seq.at is not None:
                wanted.append(seq.at)
            elif index == 0 and seq.name in RESTARTS:
                wanted.append(0.0)
            elif index == last and seq.name in ENDINGS:
                wanted.append(1.0)
            else:
                wanted.append(None)
        # the free ones spread out: sorted uniform draws between their placed neighbours
        free = [i for i, at in enumerate(wanted) if at is None]
        for i, at in zip(free, sorted(rng.uniform(0.05, 0.95) for _ in free), strict=True):
            wanted[i] = at
        # keep the given order: each position at least the one before it
        positions = []
        floor = 0
        stopped = None  # index of the sequence that left the instance down, if it is
        for index, at in enumerate(_ordered([w or 0.0 for w in wanted])):
            pos = max(floor, round(at * noise))
            name = self.sequences[index].name
            if index and name in RESTARTS and _down(self.sequences[index - 1]):
                pos = floor  # a stopped instance logs nothing until it starts again
            if stopped is not None:
                pos = floor  # nor between its stop, the sequences asked for after it and a start
            positions.append(pos)
            floor = pos
            if _stops(self.sequences[index]):
                stopped = index if stopped is None else stopped
            elif name in RESTARTS:
                stopped = None
        if stopped is not None:
            # nothing starts the instance again: the noise goes before it stopped (an aborted
            # start, commands.md §3.7, leaves it down: no instance writes the log after it)
            positions[stopped:] = [noise] * (len(positions) - stopped)
        self._noise_before = [b - a for a, b in zip([0, *positions], positions, strict=False)]
        self._noise_after = noise - (positions[-1] if positions else 0)
        placements = []
        line = 1
        for seq, before, (lines, count) in zip(
            self.sequences, self._noise_before, sizes, strict=True
        ):
            line += before
            placements.append(Placement(seq.name, dict(seq.params), line, line + lines - 1, count))
            line += lines
        return placements

    def _seq_rng(self, index: int, seq: ScheduledSequence) -> random.Random:
        return derive_rng(self.seed, "sequence", index, seq.name)

    # -- generation ----------------------------------------------------------

    def _segments(self) -> Iterator[_Noise | list[Entry]]:
        """Noise chunks and rendered sequences, in order; fresh state every call."""
        rng = derive_rng(self.seed, "stream")
        pids = _Pids(rng)
        pids.spawn_instance()
        epoch = 0
        table = self._table(pids, epoch)
        deltas = self._deltas()
        t = to_ms(self.context.start)
        journal = (self.context.journal_number, self.context.journal_day)
        for index, seq in enumerate(self.sequences):
            t = yield from self._noise(self._noise_before[index], t, rng, pids, table, deltas)
            if seq.name in RESTARTS and (index > 0 or self._noise_before[0] > 0):
                pids.spawn_instance()
                epoch += 1
                table = self._table(pids, epoch)
            if index > 0 or self._noise_before[0] > 0:
                t += rng.choice(deltas)
            if index and seq.name in RESTARTS and _down(self.sequences[index - 1]):
                t += rng.randint(30_000, 900_000)  # downtime before the restart
            self._check(t)
            context = replace(
                self.context,
                start=from_ms(t),
                pids=dict(pids.daemons),
                journal_number=journal[0],
                journal_day=journal[1],
            )
            builder = Builder(context, self._seq_rng(index, seq), self.catalog, next_pid=pids.next)
            entries = render_entries(seq.sequence, context, builder=builder, **seq.params)
            pids.next = builder.next_pid
            lines = sum(1 + len(e.continuation) for e in entries)
            placed = self.placements[index]
            if lines != placed.last_line - placed.first_line + 1:  # pragma: no cover - a bug
                raise ConfigError(
                    f"sequence {seq.name!r} wrote {lines} lines in place of the "
                    f"{placed.last_line - placed.first_line + 1} it was scheduled for"
                )
            journal = (builder.journal_number, builder.journal_day)
            if not self.categories:
                entries = [_uncategorized(e) for e in entries]
            if entries:
                t = entries[-1].ms
                self._check(t)
            yield entries
        yield from self._noise(self._noise_after, t, rng, pids, table, deltas)

    def _noise(
        self,
        count: int,
        t: int,
        rng: random.Random,
        pids: _Pids,
        table: _Table,
        deltas: list[int],
    ) -> Generator[_Noise, None, int]:
        """``count`` noise lines from clock ``t`` in chunks; returns the clock after them.

        One 32-bit word per line, all drawn in one ``getrandbits`` call and
        unpacked little-endian (the same on every platform).
        """
        slots = table.slots
        while count > 0:
            n = min(self.chunk, count)
            words = struct.unpack(f"<{n}I", rng.getrandbits(32 * n).to_bytes(4 * n, "little"))
            idx = [slots[w & 4095] for w in words]
            steps = [deltas[(w >> 12) & 4095] for w in words]
            jobs = pids.pick(words, steps)
            pids.churn()  # jobs come and go between chunks
            yield _Noise(t, idx, jobs, steps, table)
            t += sum(steps)
            self._check(t)
            count -= n
        return t

    def _check(self, t: int) -> None:
        if t >= END_MS:
            raise ConfigError(
                "LogStream: the log would run past 12/31/99 (messages.log years are 2000-2099); "
                "lower count, raise rate or start earlier"
            )

    def _table(self, pids: _Pids, epoch: int) -> _Table:
        env = {
            "mgr": self.context.mgr,
            "control_pid": pids.daemons["control"],
            "next_pid": pids.next,
        }
        rng = derive_rng(self.seed, "variants", epoch)
        return _Table(self.catalog, self.pools, rng, env, pids.daemons, self.categories)

    def _deltas(self) -> list[int]:
        """Clock steps in ms: 0 for a share :data:`SAME_MS`, else
        ``mean * ((1 - jitter) + jitter * Exp(1))`` with the mean raised so the rate holds."""
        rng = derive_rng(self.seed, "clock")
        mean = 1000.0 / self.rate / (1.0 - SAME_MS)
        steady = mean * (1.0 - self.jitter)
        spread = mean * self.jitter
        random_, log = rng.random, math.log
        # -log(1 - U) is an Exp(1) draw (what random.expovariate computes)
        return [
            0 if random_() < SAME_MS else max(1, int(steady - spread * log(1.0 - random_())))
            for _ in range(_DELTAS)
        ]

    # -- outputs -------------------------------------------------------------

    def chunks(self) -> Iterator[str]:
        """The log as blocks of whole lines, each ending in ``\\n`` (the fast path)."""
        hms = _hms()
        ms3 = _MS3
        for segment in self._segments():
            if isinstance(segment, list):
                if segment:
                    yield "".join(format_entry(e) + "\n" for e in segment)
                continue
            t = segment.t0
            day_start = t - t % DAY_MS
            day_end = day_start + DAY_MS
            prefix = _day_prefix(day_start)
            tails = segment.table.tails
            pidfix = segment.table.pidfix
            out: list[str] = []
            append = out.append
            for k, pid, d in zip(segment.idx, segment.pids, segment.deltas, strict=True):
                t += d
                if t >= day_end:
                    day_start = t - t % DAY_MS
                    day_end = day_start + DAY_MS
                    prefix = _day_prefix(day_start)
                sod = t - day_start
                append(
                    f"{prefix}{hms[sod // 1000]}{ms3[sod % 1000]} ({pidfix[k] or pid}) {tails[k]}"
                )
            out.append("")
            yield "\n".join(out)

    def entries(self) -> Iterator[Entry]:
        """The same log as :class:`Entry` tuples (the slow, inspectable path)."""
        for segment in self._segments():
            if isinstance(segment, list):
                yield from segment
                continue
            t = segment.t0
            fields = segment.table.entries
            pidfix = segment.table.pidfix
            for k, pid, d in zip(segment.idx, segment.pids, segment.deltas, strict=True):
                t += d
                severity, category, text, template = fields[k]
                yield Entry(t, pidfix[k] or pid, severity, category, text, (), template)

    def lines(self) -> Iterator[str]:
        """Physical lines without line breaks."""
        for block in self.chunks():
            yield from block[:-1].split("\n")

    def text(self) -> str:
        """The whole log as one string (ends with ``\\n`` unless empty)."""
        return "".join(self.chunks())

    def messages(self) -> Iterator[IRISMessage]:
        """Validated models, one per entry."""
        for entry in self.entries():
            if entry.severity != BLOCK:  # an unstamped block is not a message
                yield to_message(entry)

    def __iter__(self) -> Iterator[IRISMessage]:
        return self.messages()

    async def amessages(
        self, *, delay: float = 0.0, every: int = 256
    ) -> AsyncIterator[IRISMessage]:
        """The messages as an async iterator, yielding to the loop every ``every`` messages
        (sleeping ``delay`` s there, to pace a consumer)."""
        for n, message in enumerate(self.messages(), 1):
            yield message
            if n % every == 0:
                await asyncio.sleep(delay)

    def __aiter__(self) -> AsyncIterator[IRISMessage]:
        return self.amessages()

    def write(self, path: Any) -> Any:
        """Write the whole log to ``path`` atomically; returns the path."""
        from pytest_iris.atomic import write_atomic

        return write_atomic(path, self.chunks(), make_parents=True)

    def placement(self, name: str) -> Placement:
        """Where the first sequence called ``name`` landed."""
        for placed in self.placements:
            if placed.name == name:
                return placed
        raise ConfigError(
            f"sequence {name!r} is not scheduled in this stream "
            f"(scheduled: {', '.join(p.name for p in self.placements) or 'none'})"
        )


def _uncategorized(entry: Entry) -> Entry:
    """``entry`` as Caché writes it: no ``[Category]`` (messages_real.log lines 84-97).

    A text that starts with ``[`` keeps its category: without one it would read
    back as a category itself.
    """
    if entry.category is None or entry.text.startswith("["):
        return entry
    return entry._replace(category=None)


def _slots(weights: Sequence[float], size: int) -> list[int]:
    """``size`` slots holding each index in proportion to its weight (largest remainder)."""
    total = sum(weights)
    if total <= 0:
        raise ConfigError("the template catalog has no noise templates (weight > 0)")
    exact = [w * size / total for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: size - sum(counts)]:
        counts[i] += 1
    return [i for i, c in enumerate(counts) for _ in range(c)]


def _down(seq: ScheduledSequence) -> bool:
    """Whether the instance is down (or frozen) after ``seq``."""
    if seq.name in DOWN:
        return True
    return seq.name == "shm_failure" and seq.params.get("outcome") in ("abort", "required")


def _stops(seq: ScheduledSequence) -> bool:
    """Whether the instance is down after ``seq``: shut down, or its start aborted.

    After ``** Startup aborted **`` (commands.md §3.7, facts.md §4.4) no IRIS
    process runs, so nothing more is logged until the next start. (A write
    daemon death freezes the instance without stopping it: not counted here.)
    """
    if seq.name == "shutdown":
        return True
    return seq.name == "shm_failure" and seq.params.get("outcome") in ("abort", "required")


def _ordered(values: Sequence[float]) -> list[float]:
    """``values`` made non-decreasing (a later sequence never lands before an earlier one)."""
    out: list[float] = []
    for value in values:
        out.append(max(value, out[-1]) if out else value)
    return out
