"""Hypothesis strategies for chaos: faults, schedules, starting hosts and whole scenarios.

Every value drawn is valid: a :class:`~pytest_iris.chaos.schema.Fault`,
:class:`~pytest_iris.chaos.schema.HostSpec` or
:class:`~pytest_iris.chaos.schema.Scenario` built through the same pydantic
models (and bounds, :mod:`pytest_iris._limits`) that scenario files load
into, and what a scenario names is registered. Shrinking goes towards fewer
faults, earlier and closer together, and the plainest host.

:func:`faults` draws any kind the runner injects (all but ``llm``, which
needs a model or a cassette). :func:`scenarios` draws *incidents* the
sandbox keeps coherent, which a correct remediator can always answer: an
instance is never simply stopped, no daemon but the write daemon (whose
death the sandbox logs) is killed, no ``write_daemon_death`` lines are
written without the death (no remediator can see or undo those), and the
starting instance runs (the steady state holds before the faults). Hypothesis is the optional extra ``pytest-iris[hypothesis]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "pytest_iris.strategies needs Hypothesis: pip install 'pytest-iris[hypothesis]'"
    ) from error

from pytest_iris._limits import MAX_SCENARIO_S
from pytest_iris.chaos.schema import ACTIONS, Expect, Fault, HostSpec, Scenario, SteadyState

__all__ = [
    "ALL_KINDS",
    "CACHE_PRESSURE",
    "INCIDENTS",
    "faults",
    "hosts",
    "incidents",
    "scenarios",
    "schedules",
]

#: every fault kind :func:`faults` draws: the schema's actions but ``llm`` (it needs a
#: model or a cassette)
ALL_KINDS: tuple[str, ...] = tuple(action for action in ACTIONS if action != "llm")

#: The cache-pressure warning of the built-in ``global_buffers_too_small`` scenario.
#: INVENTED there (no real IRIS text for cache pressure is known, facts.md lists none).
CACHE_PRESSURE = (
    "1 [System.Monitor] GlobalBuffers Warning: database cache hit ratio is 71% "
    "under load ( Warnvalue is 90)."
)
#: an ordinary line nothing should answer (invented text, real category)
_INFO = "0 [Utility.Event] chaos search: an ordinary line"

MB = 1 << 20
GB = 1 << 30

#: Parameters of the built-in sequences, within their bounds (``_limits.SEQUENCE_INT_BOUNDS``)
#: and the values each sequence accepts; a sequence not listed runs with its defaults.
_SEQUENCE_PARAMS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "lock_table": {"peak": st.integers(86, 100), "recover": st.booleans()},
    "journal_space": {"disabled": st.booleans()},
    "license_limit": {"times": st.integers(1, 5)},
    "shm_failure": {
        "outcome": st.sampled_from(["reduced", "standard", "abort", "required"]),
        "reductions": st.integers(1, 3),
    },
    "write_daemon_death": {
        "style": st.sampled_from(["iris", "cache"]),
        "seconds": st.integers(0, 600),
    },
    "process_crash": {"signal": st.sampled_from([6, 9, 11])},
    "disk_space": {"alert": st.booleans()},
}
#: sequences :func:`scenarios` draws as incidents of their own (log lines only)
_INCIDENT_SEQUENCES = (
    "lock_table",
    "journal_space",
    "license_limit",
    "shm_failure",
    "process_crash",
    "disk_space",
)
#: kernel values a fault sets: the post-reboot defaults of the shm_exhaustion scenario
#: (32 MB / 8192 pages) up to plenty; huge pages from none to more than any plan needs
_SHMMAX = st.sampled_from([32 * MB, 256 * MB, 1 * GB, 2 * GB, 16 * GB])
_SHMALL = st.sampled_from([8192, 65536, 524288, 4194304])
_HUGEPAGES = st.sampled_from([0, 256, 1024, 4096])


def _params(name: str) -> st.SearchStrategy[dict[str, Any]]:
    known = _SEQUENCE_PARAMS.get(name, {})
    return st.fixed_dictionaries({}, optional=known) if known else st.just({})


def _sequence_fault(name: str) -> st.SearchStrategy[Fault]:
    return _params(name).map(lambda params: Fault(sequence=name, params=params))


def _cpf_values() -> st.SearchStrategy[dict[str, dict[str, str | int]]]:
    """CPF values within their rules: globals in MB, locksiz 0 or 64 KB steps, gmheap in KB."""
    values: st.SearchStrategy[dict[str, str | int]] = st.fixed_dictionaries(
        {},
        optional={
            "globals": st.integers(100, 4000).map(lambda mb: f"0,0,{mb},0,0,0"),
            "locksiz": st.sampled_from([0, 16777216, 33554432]),
            "gmheap": st.sampled_from([0, 65536, 131072, 262144]),
        },
    )
    return values.filter(_locksiz_fits).map(_in_config)


def _in_config(config: dict[str, str | int]) -> dict[str, dict[str, str | int]]:
    return {"config": config} if config else {}


def _locksiz_fits(config: dict[str, Any]) -> bool:
    """The lock table comes out of gmheap: locksiz <= gmheap KB * 1024 when gmheap > 0."""
    gmheap, locksiz = int(config.get("gmheap", 0)), int(config.get("locksiz", 0))
    return not gmheap or locksiz <= gmheap * 1024


def faults(
    *,
    kinds: Sequence[str] = ALL_KINDS,
    sequences: Sequence[str] | None = None,
    roles: Sequence[str] = ("write_daemon", "journal_daemon", "garbage_collector"),
    iris: Sequence[str] = ("start", "stop", "restart"),
    max_users: int = 8,
) -> st.SearchStrategy[Fault]:
    """One fault of any of ``kinds`` (at ``0``: :func:`schedules` sets the times).

    ``sequences``: the log sequences to draw from (default: the built-ins with
    known parameters); ``roles``: daemons a ``kill`` aims at; ``iris``: the
    ``iris`` commands; ``max_users``: connections a ``connect``/``disconnect``
    opens or closes. Scenarios that hold ``endpoint`` faults need ``transport: http``.
    """
    unknown = sorted(set(kinds) - set(ALL_KINDS))
    if unknown:
        raise ValueError(f"faults(kinds=...): unknown kind(s) {unknown}; allowed: {ALL_KINDS}")
    names = list(sequences) if sequences is not None else sorted(_SEQUENCE_PARAMS)
    users = st.integers(1, max_users)
    by_kind: dict[str, st.SearchStrategy[Fault]] = {
        "sequence": st.sampled_from(names).flatmap(
            lambda name: _params(name).map(lambda p: Fault(sequence=name, params=p))
        ),
        "lines": st.lists(st.sampled_from([CACHE_PRESSURE, _INFO]), min_size=1, max_size=3).map(
            lambda lines: Fault(lines=lines)
        ),
        "kernel": st.fixed_dictionaries(
            {},
            optional={
                "kernel.shmmax": _SHMMAX,
                "kernel.shmall": _SHMALL,
                "vm.nr_hugepages": _HUGEPAGES,
            },
        )
        .filter(bool)
        .map(lambda values: Fault(kernel=values)),
        "cpf": _cpf_values().filter(bool).map(lambda values: Fault(cpf=values)),
        "kill": st.sampled_from(list(roles)).map(lambda role: Fault(kill=role)),
        "connect": users.map(lambda n: Fault(connect=n)),
        "disconnect": users.map(lambda n: Fault(disconnect=n)),
        "iris": st.sampled_from(list(iris)).map(lambda what: Fault(iris=what)),
        "endpoint": st.sampled_from(["down", "up"]).map(lambda state: Fault(endpoint=state)),
    }
    return st.one_of([by_kind[kind] for kind in kinds])


def incidents(*, max_users: int = 8) -> st.SearchStrategy[list[Fault]]:
    """One incident as the faults that make it (a list, so an incident may be several faults).

    What a correct remediator can always see and answer: log sequences, the
    cache-pressure warning, kernel and CPF edits (felt at the next start),
    users coming and going, a maintenance restart, and a write-daemon kill
    (which the sandbox logs).
    """
    users = st.integers(1, max_users)
    kinds: list[st.SearchStrategy[Fault]] = [
        *[_sequence_fault(name) for name in _INCIDENT_SEQUENCES],
        st.just(Fault(lines=[CACHE_PRESSURE])),
        faults(kinds=("kernel",)),
        faults(kinds=("cpf",)),
        users.map(lambda n: Fault(connect=n)),
        users.map(lambda n: Fault(disconnect=n)),
        st.just(Fault(iris="restart")),
        # the sandbox logs the death ("Daemon WRTDMN (pid N) died. Freezing system")
        st.just(Fault(kill="write_daemon")),
    ]  # fmt: skip
    # one flat choice: each incident is as likely as another, so overlaps are common
    return st.one_of(kinds).map(lambda fault: [fault])


#: what :func:`schedules` draws by default
INCIDENTS = incidents()


def schedules(
    *,
    max_faults: int = 4,
    within_s: float = 600,
    faults: st.SearchStrategy[Fault] | st.SearchStrategy[list[Fault]] | None = None,
) -> st.SearchStrategy[list[Fault]]:
    """Time-ordered faults on one host clock, each at a whole second in ``0..within_s``.

    Times are drawn independently, so faults overlap (equal times, or one
    inside another's sequence); shrinking moves them towards ``0``, together.
    ``faults`` draws single faults or incidents (lists of faults sharing a time;
    default :data:`INCIDENTS`); at most ``max_faults`` faults in all.
    """
    if not 1 <= max_faults <= 50:
        raise ValueError(f"schedules(max_faults={max_faults}): allowed 1..50")
    if not 0 <= within_s <= MAX_SCENARIO_S:
        raise ValueError(f"schedules(within_s={within_s}): allowed 0..{MAX_SCENARIO_S:g}")
    source = faults if faults is not None else INCIDENTS
    units = source.map(lambda item: item if isinstance(item, list) else [item])
    timed = st.tuples(st.integers(0, int(within_s)), units)
    drawn_lists = st.lists(timed, min_size=1, max_size=max_faults)

    # composite, not .map(build): Hypothesis prints a mapped value as the call that made it
    # when that is shorter, and build([(0, (lambda item: ...)(Fault(sequence=name, ...)))])
    # names a local function and a lambda's free variable; a composite's value prints as
    # its repr, [Fault(at=0.0, ...)], which a user can paste (same draws, same order)
    @st.composite
    def build(draw: st.DrawFn) -> list[Fault]:
        out: list[Fault] = []
        for at, unit in sorted(draw(drawn_lists), key=lambda pair: pair[0]):
            if len(out) + len(unit) > max_faults:
                continue
            out += [fault.model_copy(update={"at": float(at)}) for fault in unit]
        return out

    return build().filter(bool)


def plan_bytes(cpf: dict[str, dict[str, str | int]], total_ram_mb: int) -> int:
    """Shared memory the sandbox's shipped CPF with ``cpf`` over it asks for at start."""
    from pytest_iris.sandbox.layout import shipped_cpf
    from pytest_iris.tools.cpf import CpfFile, shared_memory_plan

    document = CpfFile.parse(shipped_cpf())
    for section, values in cpf.items():
        for key, value in values.items():
            document.set(section, key, str(value))
    return shared_memory_plan(document, total_ram_mb).total_bytes


def _versions() -> list[str | None]:
    if "version" not in HostSpec.model_fields:
        return [None]  # this HostSpec has no version profile
    from pytest_iris.sandbox._versions import DEFAULT_RELEASE, PROFILES

    return [DEFAULT_RELEASE, *[v for v in PROFILES if v != DEFAULT_RELEASE]]


@st.composite
def _host(draw: st.DrawFn, max_users: int) -> HostSpec:
    ram = draw(st.sampled_from([16384, 8192, 32768, 65536]))
    cpf = draw(_cpf_values())
    need = plan_bytes(cpf, ram)
    # the starting instance must start: shmmax/shmall hold what the CPF asks for
    shmmax = draw(st.sampled_from([None, need, need * 2, 16 * GB]))
    kernel: dict[str, int] = {}
    if shmmax is not None:
        shmmax = max(shmmax, need)
        kernel["kernel.shmmax"] = shmmax
        kernel["kernel.shmall"] = -(-max(shmmax, need) // 4096)
    hugepages = draw(st.sampled_from([None, 0, -(-need // (2 * MB)) + 16]))
    if hugepages is not None:
        kernel["vm.nr_hugepages"] = hugepages
    fields: dict[str, Any] = {
        "users": draw(st.integers(0, max_users)),
        "total_ram_mb": ram,
        "kernel": kernel,
        "cpf": cpf,
    }
    version = draw(st.sampled_from(_versions()))
    if version is not None:
        fields["version"] = version
    return HostSpec(**fields)


def hosts(*, max_users: int = 8) -> st.SearchStrategy[HostSpec]:
    """Starting hosts whose instance runs: RAM, CPF values (globals, locksiz, gmheap),
    kernel values that hold what that CPF asks for, huge pages, users connected, and
    the IRIS version profile (when the scenario schema has ``host.version``)."""
    return _host(max_users)


def scenarios(
    *,
    max_faults: int = 4,
    within_s: float = 600,
    hosts: st.SearchStrategy[HostSpec] | None = None,
    faults: st.SearchStrategy[Fault] | st.SearchStrategy[list[Fault]] | None = None,
    restore_s: float = 900,
    name: str = "generated",
) -> st.SearchStrategy[Scenario]:
    """A whole valid :class:`Scenario`: a host, a schedule, the steady state to restore.

    The steady state is the instance running with its users able to connect,
    before the faults and after the remediation; ``expect.within_s`` (the
    time the remediation has, from the first fault) is ``within_s + restore_s``.
    The scenario carries the tags ``generated`` and ``invariants`` (its file,
    when written, also checks the invariants as a test item).
    """
    from pytest_iris.chaos.scenario_yaml import INVARIANTS_TAG

    host_strategy = hosts if hosts is not None else _host(8)
    # Scenario itself, fixed fields as st.just: Hypothesis prints a failing example as
    # Scenario(name='generated', ..., expect=Expect(within_s=1020.0)); built through a lambda
    # it printed the lambda's body (name=name, within_s=min(within_s + restore_s, ...)).
    # Only seed, host and faults draw, in that order (the draws a lambda's arguments made).
    return st.builds(
        Scenario,
        seed=st.integers(0, 2**16),
        host=host_strategy,
        faults=schedules(max_faults=max_faults, within_s=within_s, faults=faults),
        name=st.just(name),
        title=st.just("generated by pytest_iris.strategies.scenarios()"),
        tags=st.just(["generated", INVARIANTS_TAG]),
        steady_state=st.just(SteadyState(instance="running", users_can_connect=True)),
        expect=st.just(Expect(within_s=min(within_s + restore_s, MAX_SCENARIO_S))),
    )
