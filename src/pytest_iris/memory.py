"""The shared memory an IRIS configuration allocates at startup, and the lines IRIS logs about it.

One model for every part that needs it: the CPF tool estimates a plan from
``[config]``, the kernel tool sizes ``kernel.shmmax`` and huge pages from it,
the sandbox's ``iris start`` decides whether it fits, and the log generator
writes the same ``Allocated ...`` lines a real instance writes.

Sources are in ``shared/iris/facts.md`` (§3 for the parameters, §3.8 for the
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

from dataclasses import dataclass, replace
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


def plan_shared_memory(
    globals_mb: int,
    routines_mb: int,
    jrnbufs_mb: int,
    gmheap_kb: int,
    total_ram_mb: int,
) -> SharedMemoryPlan:
    """The allocation IRIS would attempt for these ``[config]`` values.

    Arguments are as the CPF holds them, already summed over block sizes:
    ``globals_mb`` (0 = automatic), ``routines_mb`` (0 = automatic),
    ``jrnbufs_mb`` (0 = the 64 MB default), ``gmheap_kb`` (0 = automatic),
    and the host's physical memory for the automatic globals.
    """
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
    routine_mb = (
        auto_routines_mb(global_mb) if routines_mb == 0 else max(routines_mb, ROUTINES_MIN_MB)
    )
    journal_mb = jrnbufs_mb or JRNBUFS_DEFAULT_MB
    heap_kb = gmheap_kb or auto_gmheap_kb(global_mb)
    buffers = global_mb * _GLOBAL_BUFFERS_PER_MB + routine_mb * _ROUTINE_BUFFERS_PER_MB
    descriptors_kb = buffers * _DESCRIPTOR_BYTES_PER_BUFFER // 1024
    ecp_kb = _ECP_BASE_KB + (buffers // _ECP_BUFFERS_PER_EXTRA_MB) * 1024
    parts_kb = (
        global_mb * 1024,
        routine_mb * 1024,
        journal_mb * 1024,
        descriptors_kb,
        heap_kb,
        ecp_kb,
        _MISC_KB,
    )
    listed = [kb // 1024 for kb in parts_kb]
    total_mb = -(-sum(parts_kb) // 1024)
    g, r, j, d, h, e, m = listed
    return SharedMemoryPlan(g, r, j, d, h, e, m, rounding_mb=total_mb - sum(listed))


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
