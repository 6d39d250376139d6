"""The shared memory an IRIS configuration allocates at startup, and the lines IRIS logs about it.

One model for every part that needs it: the CPF tool estimates a plan from
``[config]``, the kernel tool sizes ``kernel.shmmax`` and huge pages from it,
the sandbox's ``iris start`` decides whether it fits, and the log generator
writes the same ``Allocated ...`` lines a real instance writes.

Sources are in ``docs/sources/facts.md`` (§3 for the parameters, §3.8 for the
allocation algorithm, §5.2 for the message texts). What follows is exact:

* the message texts and the breakdown line's format;
* the automatic sizes: globals 25 % of RAM, routines 10 % of the 8 KB global
  buffers clamped to 80..1020 MB (a smaller explicit value is raised to
  80 MB), gmheap 3 % of globals clamped to 300 MB..2,097,000 KB, jrnbufs
  default 64 MB;
* the 1/8 reduction of global and routine buffers (1200 -> 1050, 64 -> 56 in
  the real Caché lines).

What is approximated (fitted to the four real breakdown lines, not
documented by InterSystems):

* buffer descriptors: 512 bytes per buffer, counting 128 buffers per MB of
  globals (8 KB blocks) and 64 per MB of routines (the automatic 4/16/64 KB
  split); real lines give 455..606 bytes, so expect about +-20 %;
* ECP: 5 MB plus 1 MB per 512 Ki buffers (real: 5 MB, and 6 MB at 5000 MB
  of globals);
* miscellaneous: 9.5 MB (real lines show 9, 9, 10 and 16 MB);
* the total is the exact sum rounded up, each listed part rounded down, so
  the total exceeds the listed parts by 1-3 MB; every real pair of lines
  shows such a gap (495 = 494 + 1, 1508 = 1507 + 1, 5682 = 5681 + 1,
  306 = 304 + 2). :attr:`SharedMemoryPlan.rounding_mb` carries that remainder.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Final

#: Category of every shared-memory message in IRIS 2020+ logs.
CATEGORY: Final = "Generic.Event"
#: Severities as seen in the real lines (facts.md §5.2).
SEVERITY_ALLOCATED: Final = 0
SEVERITY_ALLOCATED_REDUCED: Final = 1
SEVERITY_FAILED: Final = 2
SEVERITY_FAILED_HUGE_PAGES: Final = 1
SEVERITY_INSUFFICIENT_HUGE_PAGES: Final = 2

ROUTINES_MIN_MB: Final = 80
ROUTINES_AUTO_MAX_MB: Final = 1020
GMHEAP_AUTO_MIN_KB: Final = 307_200
GMHEAP_AUTO_MAX_KB: Final = 2_097_000
JRNBUFS_DEFAULT_MB: Final = 64

_DESCRIPTOR_BYTES_PER_BUFFER: Final = 512
_GLOBAL_BUFFERS_PER_MB: Final = 128  # 8 KB blocks
_ROUTINE_BUFFERS_PER_MB: Final = 64  # 12.5 % 4 KB + 37.5 % 16 KB + 50 % 64 KB
_ECP_BASE_KB: Final = 5 * 1024
_ECP_BUFFERS_PER_EXTRA_MB: Final = 512 * 1024
_MISC_KB: Final = 9 * 1024 + 512


@dataclass(frozen=True)
class SharedMemoryPlan:
    """The parts of one shared-memory allocation, in whole MB as IRIS logs them.

    ``rounding_mb`` is what the per-part rounding hides: ``total_mb`` is the
    listed parts plus it. Real IRIS totals exceed the listed parts by 1-2 MB;
    a plan built by hand with the default 0 adds up exactly.
    """

    global_buffers_mb: int
    routine_buffers_mb: int
    journal_buffers_mb: int
    buffer_descriptors_mb: int
    heap_mb: int
    ecp_mb: int
    misc_mb: int
    rounding_mb: int = 0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                from pytest_iris.errors import ValidationError

                raise ValidationError(
                    f"SharedMemoryPlan.{name} must be a non-negative int of MB, got {value!r}"
                )

    def parts_mb(self) -> dict[str, int]:
        """The parts the breakdown line lists, by field name (the JSON reports carry them)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rounding_mb"}

    @property
    def listed_mb(self) -> int:
        """The sum of the parts the breakdown line lists."""
        return (
            self.global_buffers_mb
            + self.routine_buffers_mb
            + self.journal_buffers_mb
            + self.buffer_descriptors_mb
            + self.heap_mb
            + self.ecp_mb
            + self.misc_mb
        )

    @property
    def total_mb(self) -> int:
        """What ``Allocated NMB shared memory`` reports."""
        return self.listed_mb + self.rounding_mb

    @property
    def total_bytes(self) -> int:
        """The total in bytes, for comparing with ``kernel.shmmax``."""
        return self.total_mb * 1024 * 1024

    def breakdown_text(self) -> str:
        """The second line of an IRIS 2022.1+ allocation, e.g. ``32MB global buffers, ...``."""
        return (
            f"{self.global_buffers_mb}MB global buffers, "
            f"{self.routine_buffers_mb}MB routine buffers, "
            f"{self.journal_buffers_mb}MB journal buffers, "
            f"{self.buffer_descriptors_mb}MB buffer descriptors, "
            f"{self.heap_mb}MB heap, "
            f"{self.ecp_mb}MB ECP, "
            f"{self.misc_mb}MB miscellaneous"
        )

    def reduced(self) -> SharedMemoryPlan:
        """The plan after IRIS's documented retry: buffers cut by one eighth.

        memlock step 3 (facts.md §3.8): when neither huge nor standard pages
        give the full amount, IRIS reduces the allocation by 1/8 and retries.
        The real Caché lines show global and routine buffers cut by exactly
        1/8 (1200 -> 1050, 64 -> 56) and a total that falls by a little more,
        which fits the buffer descriptors shrinking with the buffers; heap,
        journal buffers, ECP and miscellaneous stay as they were.
        """
        return replace(
            self,
            global_buffers_mb=self.global_buffers_mb * 7 // 8,
            routine_buffers_mb=self.routine_buffers_mb * 7 // 8,
            buffer_descriptors_mb=self.buffer_descriptors_mb * 7 // 8,
        )


def auto_globals_mb(total_ram_mb: int) -> int:
    """``globals=0``: 25 % of physical memory (IRIS 2020.3 and later)."""
    return total_ram_mb * 25 // 100


def auto_routines_mb(global_buffers_mb: int) -> int:
    """``routines=0``: 10 % of the 8 KB global buffers, at least 80 MB, at most 1020 MB."""
    return min(max(global_buffers_mb // 10, ROUTINES_MIN_MB), ROUTINES_AUTO_MAX_MB)


def auto_gmheap_kb(global_buffers_mb: int) -> int:
    """``gmheap=0``: 3 % of the global buffers, between 300 MB and 2,097,000 KB."""
    return min(max(global_buffers_mb * 1024 * 3 // 100, GMHEAP_AUTO_MIN_KB), GMHEAP_AUTO_MAX_KB)


@dataclass(frozen=True)
class _Sizing:
    """How one version sizes the parts it is not given (all fitted unless said)."""

    #: Explicit routines below this are raised to it (2023.1+: 80 MB, facts.md §3).
    routines_floor_mb: int
    #: Explicit routines are logged scaled by this (2022.1: 35 -> 44 in
    #: memory_pairs.md row 2; invented rule: x 1.25 rounded up).
    routines_scale: float
    #: ``gmheap=0``: ``None`` = the automatic 3 % rule (2023.1+); otherwise a
    #: fixed default in KB.
    heap_default_kb: int | None
    #: ``jrnbufs=0``: 64 MB; older releases take at most the global buffers
    #: (fitted to memory_pairs.md row 4, 16 MB of globals), Caché 16 MB.
    jrnbufs_default_mb: int
    jrnbufs_at_most_globals: bool
    #: 2022.1 on a host with under 1 GB of RAM: 32 MB (fitted to the one real
    #: install of commands.md §3.1; invented rule).
    small_host_jrnbufs_mb: int
    descriptor_bytes: int
    misc_kb: int


_MODERN: Final = _Sizing(ROUTINES_MIN_MB, 1.0, None, 64, False, 64, 512, _MISC_KB)
#: 2022.1: the breakdown line of memory_pairs.md row 2 (100 g, 44 r, 64 j,
#: 9 d, 72 heap, 5 ECP, 10 misc) with default gmheap: heap 72 MB, 620 bytes
#: per buffer descriptor (fitted).
_2022: Final = _Sizing(0, 1.25, 72 * 1024, 64, False, 32, 620, 10 * 1024)
#: 2020.1/2021.1: fitted to rows 1, 3, 4, 5 and 10 of memory_pairs.md (the
#: one-line form gives only the total, globals and routines); 2020.1's heap
#: is the 37,568 KB of its default CPF (facts.md §3), 2021.1's is fitted.
_2021: Final = _Sizing(0, 1.0, 12 * 1024, 64, True, 64, 400, 16 * 1024)
_2020: Final = _Sizing(0, 1.0, 37_568, 64, True, 64, 400, 16 * 1024)
#: Caché 2017: fitted to the real pair of facts.md (1200/64 -> 1375).
_CACHE: Final = _Sizing(0, 1.0, 37_568, 16, False, 16, 400, 16 * 1024)
_SIZING: Final = {
    "cache-2017": _CACHE,
    "2020.1": _2020,
    "2021.1": _2021,
    "2022.1": _2022,
    "2023.1": _MODERN,
    "2024.1": _MODERN,
}


def plan_shared_memory(
    globals_mb: int,
    routines_mb: int,
    jrnbufs_mb: int,
    gmheap_kb: int,
    total_ram_mb: int,
    *,
    version: str | None = None,
) -> SharedMemoryPlan:
    """The allocation IRIS ``version`` (default: the newest) would attempt for these values.

    Arguments are as the CPF holds them, already summed over block sizes:
    ``globals_mb`` (0 = automatic), ``routines_mb`` (0 = automatic),
    ``jrnbufs_mb`` (0 = the version's default), ``gmheap_kb`` (0 =
    automatic), and the host's physical memory for the automatic globals.
    Every row of docs/sources/memory_pairs.md is reproduced within 5 %
    (tests/test_memory.py); the parts of 2023.1+ exactly.
    """
    from pytest_iris.log.versions import profile

    sizing = _SIZING[profile(version).name]
    for name, value in (
        ("globals_mb", globals_mb),
        ("routines_mb", routines_mb),
        ("jrnbufs_mb", jrnbufs_mb),
        ("gmheap_kb", gmheap_kb),
        ("total_ram_mb", total_ram_mb),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            from pytest_iris.errors import ValidationError

            raise ValidationError(
                f"plan_shared_memory: {name} must be a non-negative int, got {value!r}"
            )
    global_mb = globals_mb or auto_globals_mb(total_ram_mb)
    if routines_mb == 0:
        routine_mb = auto_routines_mb(global_mb)
    else:
        routine_mb = max(-int(-routines_mb * sizing.routines_scale // 1), sizing.routines_floor_mb)
    journal_default = sizing.jrnbufs_default_mb
    if sizing.jrnbufs_at_most_globals:
        journal_default = min(journal_default, global_mb)
    if total_ram_mb and total_ram_mb < 1024:
        journal_default = min(journal_default, sizing.small_host_jrnbufs_mb)
    journal_mb = jrnbufs_mb or journal_default
    if gmheap_kb:
        heap_kb = gmheap_kb
    elif sizing.heap_default_kb is None:
        heap_kb = auto_gmheap_kb(global_mb)
    else:
        heap_kb = sizing.heap_default_kb
    buffers = global_mb * _GLOBAL_BUFFERS_PER_MB + routine_mb * _ROUTINE_BUFFERS_PER_MB
    descriptors_kb = buffers * sizing.descriptor_bytes // 1024
    ecp_kb = _ECP_BASE_KB + (buffers // _ECP_BUFFERS_PER_EXTRA_MB) * 1024
    parts_kb = (
        global_mb * 1024,
        routine_mb * 1024,
        journal_mb * 1024,
        descriptors_kb,
        heap_kb,
        ecp_kb,
        sizing.misc_kb,
    )
    listed = [kb // 1024 for kb in parts_kb]
    total_mb = -(-sum(parts_kb) // 1024)
    g, r, j, d, h, e, m = listed
    return SharedMemoryPlan(g, r, j, d, h, e, m, rounding_mb=total_mb - sum(listed))


def allocation_lines(
    plan: SharedMemoryPlan, *, version: str | None = None, huge_pages: bool = False
) -> tuple[str, ...]:
    """The texts IRIS ``version`` logs for a successful allocation (severity 0).

    One line up to 2021.1, the total and the breakdown from 2022.1 (see
    :class:`~pytest_iris.log.versions.VersionProfile`).
    """
    from pytest_iris.log.versions import profile

    if profile(version).one_line_allocation:
        return (allocated_message_2020(plan, huge_pages=huge_pages),)
    return allocated_messages(plan, huge_pages=huge_pages)


# --- message texts (facts.md §5.2), without timestamp, pid, severity or category ---


def allocated_message(plan: SharedMemoryPlan, *, huge_pages: bool = False) -> str:
    """First line of an IRIS 2022.1+ allocation: ``Allocated 495MB shared memory``."""
    suffix = " using Huge Pages" if huge_pages else ""
    return f"Allocated {plan.total_mb}MB shared memory{suffix}"


def allocated_messages(plan: SharedMemoryPlan, *, huge_pages: bool = False) -> tuple[str, str]:
    """Both lines of an IRIS 2022.1+ allocation (same timestamp and pid, severity 0)."""
    return allocated_message(plan, huge_pages=huge_pages), plan.breakdown_text()


def console_allocated_messages(
    plan: SharedMemoryPlan, *, huge_pages: bool = False
) -> tuple[str, str]:
    """What ``iris start`` prints on the console (IRIS 2022.1+, facts.md §4.4).

    The real 2024 container console shows ``Allocated 1508MB shared memory``
    then only ``953MB global buffers, 95MB routine buffers``, while
    messages.log gets the full :meth:`~SharedMemoryPlan.breakdown_text`.
    """
    return (
        allocated_message(plan, huge_pages=huge_pages),
        f"{plan.global_buffers_mb}MB global buffers, {plan.routine_buffers_mb}MB routine buffers",
    )


def allocated_message_2020(plan: SharedMemoryPlan, *, huge_pages: bool = False) -> str:
    """The one-line IRIS 2020.x/2021.1 form.

    ``Allocated 430MB shared memory: 128MB global buffers, 128MB routine buffers``;
    with huge pages ``... using Huge Pages: ...`` as in the real Caché line.
    """
    suffix = " using Huge Pages" if huge_pages else ""
    return (
        f"Allocated {plan.total_mb}MB shared memory{suffix}: "
        f"{plan.global_buffers_mb}MB global buffers, {plan.routine_buffers_mb}MB routine buffers"
    )


def failed_huge_pages_message(total_mb: int, *, advice: bool = False) -> str:
    """Huge pages could not hold the allocation; IRIS goes on with standard pages.

    ``advice=True`` adds the sentence of the longer documented variant.
    """
    text = (
        f"Failed to allocate {total_mb}MB shared memory using Huge Pages. "
        "Startup will retry with standard pages."
    )
    if advice:
        text += (
            " If huge pages are needed for performance, check the OS settings and "
            "consider marking them as required with the Cache 'memlock' configuration "
            "parameter."
        )
    return text


def failed_message(plan: SharedMemoryPlan) -> str:
    """Standard pages failed too (severity 2); IRIS retries with :meth:`~SharedMemoryPlan.reduced`.

    ``Failed to allocate 1375MB shared memory: 1200MB global buffers, 64MB routine buffers``
    """
    return (
        f"Failed to allocate {plan.total_mb}MB shared memory: "
        f"{plan.global_buffers_mb}MB global buffers, {plan.routine_buffers_mb}MB routine buffers"
    )


def insufficient_huge_pages_message() -> str:
    """Severity 2 line logged when the huge-page pool is smaller than the allocation."""
    return "Insufficient Huge Pages configured for required shared memory."


def auto_globals_message() -> str:
    """Logged (severity 0) before the allocation when ``globals`` is all zeros.

    Note the two spaces after the first full stop, as in the real lines.
    """
    return "Global buffer setting requires attention.  Auto-selected 25% of total memory."
