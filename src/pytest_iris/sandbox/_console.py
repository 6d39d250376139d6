"""The console lines of ``iris start``, per version (shared by the fake and the live host).

Each line follows a real capture (``docs/sources/commands.md`` §1.5, §3.1-§3.7,
facts.md §4.4); :mod:`._versions` says which capture each version follows.
Where the captures say nothing, the choice is ours and marked so here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_iris.memory import SharedMemoryPlan
from pytest_iris.sandbox._versions import VersionProfile

#: commands.md §3.7 / facts.md §4.4: how every captured aborted start ends
STARTUP_ABORTED = (
    "",
    "An error was detected during InterSystems IRIS startup.",
    "** Startup aborted **",
)


def allocation_lines(
    profile: VersionProfile, plan: SharedMemoryPlan, *, huge_pages: bool = False
) -> list[str]:
    """The ``Allocated ...`` lines messages.log gets: the log generator's form for the release.

    2020.x/2021.1 write one line (``Allocated 430MB shared memory: 128MB
    global buffers, 128MB routine buffers``); 2022.1+ two, the second the
    full breakdown (facts.md §5.2; :func:`pytest_iris.memory.allocation_lines`).
    """
    from pytest_iris import memory

    return list(memory.allocation_lines(plan, version=profile.log_version, huge_pages=huge_pages))


@dataclass
class StartConsole:
    """Collects what one ``iris start`` prints, in the order the captures show."""

    profile: VersionProfile
    instance: str
    cpf_name: str
    quietly: bool
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.quietly:
            # quietly: 2020.x prints only the licence lines and `Starting IRIS`
            # (commands.md §1.5); 2022.1+ starts at the control process (facts.md §4.4)
            if not self.profile.one_line_allocation:
                self.lines.append("Starting Control Process")
            return
        self.lines.append(f"Starting {self.instance}")
        if self.profile.one_line_allocation:  # commands.md §3.3
            self.lines.append("Starting Control Process")
        else:  # commands.md §3.1, §3.2
            self.lines += [
                f"Using '{self.cpf_name}' configuration file",
                "",
                "Starting Control Process",
            ]

    @property
    def _shows_memory(self) -> bool:
        return not (self.quietly and self.profile.one_line_allocation)

    def auto_globals(self) -> None:
        """``globals`` all zero: 2020.x says so as in commands.md §3.3, 2022.1+ as in §3.1."""
        if not self._shows_memory:
            return
        if self.profile.one_line_allocation:
            self.lines.append("Automatically configuring buffers")
        else:
            from pytest_iris.memory import auto_globals_message

            self.lines.append(auto_globals_message())

    def unable(self, plan: SharedMemoryPlan) -> None:
        """One rung of the failure ladder (commands.md §3.6: ``Unable to allocate 333 MB ...``).

        The sizes step down by IRIS's documented 1/8 (facts.md §3.8), not by
        the fixed 33 MB of the Caché 2014 capture.
        """
        self.lines.append(f"Unable to allocate {plan.total_mb} MB shared memory...")

    def huge_pages_required(self) -> None:
        """``memlock`` bit 64 and too few huge pages (facts.md §3.8, text of §5.2)."""
        from pytest_iris.memory import insufficient_huge_pages_message

        self.lines.append(insufficient_huge_pages_message())

    def allocated(self, plan: SharedMemoryPlan, *, huge_pages: bool = False) -> None:
        """The allocation as the console shows it: one line (§3.3) or two (§3.1, facts.md §4.4).

        Never the seven-part breakdown: that goes to messages.log only.
        """
        from pytest_iris import memory

        if not self._shows_memory:
            return
        if self.profile.one_line_allocation:
            self.lines.append(memory.allocated_message_2020(plan, huge_pages=huge_pages))
        else:
            self.lines += list(memory.console_allocated_messages(plan, huge_pages=huge_pages))

    def aborted(self, last: SharedMemoryPlan | None) -> str:
        """The failed start: the ladder's last line (commands.md §3.6) and the abort (§3.7)."""
        if last is not None:
            self.lines.append(f"Unable to allocate shared memory minimum of {last.total_mb}MB")
        return "\n".join([*self.lines, *STARTUP_ABORTED]) + "\n"

    def started(self, alerts: int) -> str:
        """Licence lines, the alert count (commands.md §3.1, §3.5), ``Starting IRIS`` if quietly."""
        self.lines += self.profile.licence_lines()
        if alerts:
            self.lines += ["", f"{alerts} alert(s) during startup. See messages.log for details."]
        if self.quietly:
            self.lines.append(f"Starting {self.instance}")
        return "\n".join(self.lines) + "\n"


def session_banner(nodename: str, instance: str) -> str:
    """``iris session``'s first line (commands.md §4: ``Node: 39702b122ab6, Instance: IRIS``)."""
    return f"\nNode: {nodename}, Instance: {instance}\n"
