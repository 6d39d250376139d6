"""What a sequence needs to know about the instance it is written for.

A :class:`SequenceContext` carries the facts that must agree across every
line of a stream: install directory, instance name, the PIDs of the
instance's processes by role, the shared-memory plan, the start time and
the seed. The sandbox's ``iris start``/``iris stop`` and the chaos faults
build one from their own state, so they write the same lines the generator
does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from pytest_iris import defaults

if TYPE_CHECKING:
    from pytest_iris.memory import SharedMemoryPlan

#: The roles a context's ``pids`` may name. Roles a context leaves out get a
#: PID derived from the seed, so a sequence always has one PID per role.
ROLES: tuple[str, ...] = (
    "control",  # the control process: logs the allocation, WIJ and banner
    "write_daemon",  # WRTDMN
    "write_daemon_helper_1",  # SWRTDMN / SLAVWD helpers
    "write_daemon_helper_2",
    "journal_daemon",
    "superserver",
    "web_server",  # the private web server
    "startup",  # the job that runs ^STU: mounts databases, enables logons
    "monitor",  # System Monitor
    "cleanup",  # the job that cleans up after dead processes (cleandeadjob)
    "mirror",  # mirror agent / dejournal processor
)

#: Real startup banner values (messages_real.log, IRIS 2023.1 on RHEL 8).
DEFAULT_PLATFORM = "IRIS for UNIX (Red Hat Enterprise Linux 8 for x86-64)"
DEFAULT_VERSION = "2023.1"
DEFAULT_BUILD = "235.1"
DEFAULT_BUILD_DATE = "Fri Jun 2 2023 13:26:47 EDT"
DEFAULT_OS_VERSION = "#1 SMP Fri Sep 30 11:45:06 EDT 2022"
DEFAULT_OS_RELEASE = "4.18.0-425.3.1.el8.x86_64"
DEFAULT_START = datetime(2024, 3, 9, 21, 16, 17, 787000)


@dataclass(frozen=True)
class SequenceContext:
    """The instance a sequence is written for.

    ``plan`` is the shared-memory plan for the ``Allocated ...`` lines. When
    it is ``None`` the ``startup`` sequence writes no allocation lines (the
    caller logged them itself, as the sandbox's ``iris start`` does); the
    shared-memory failure sequences then use :meth:`effective_plan`.
    ``users`` is the number of client connections a shutdown has to close.
    """

    install_dir: str = "/usr/irissys"
    instance: str = defaults.INSTANCE
    pids: Mapping[str, int] = field(default_factory=dict)
    plan: SharedMemoryPlan | None = None
    start: datetime = DEFAULT_START
    seed: int = 0
    users: int = 0
    huge_pages: bool = False
    globals_auto: bool = False
    total_ram_mb: int = defaults.TOTAL_RAM_MB
    superserver_port: int = 1972
    web_port: int = 52773
    nodename: str = "rhel8"
    mirror_name: str = "MIRROR"
    mirror_members: tuple[str, str] = ("MASTER", "BACKUP")
    shard_master: str = "data-0"
    journal_dir: str | None = None
    journal_number: int = 1
    #: the day ``journal_number`` counts in (journal files restart at .001 each
    #: day, YYYYMMDD.NNN); ``None`` = the day of ``start``
    journal_day: date | None = None
    merge_file: str = "/home/irisowner/iris-merge.cpf"
    databases: tuple[str, ...] = ("irislocaldata", "iristemp", "user")
    platform: str = DEFAULT_PLATFORM
    version: str = DEFAULT_VERSION
    build: str = DEFAULT_BUILD
    build_date: str = DEFAULT_BUILD_DATE
    os_version: str = DEFAULT_OS_VERSION
    os_release: str = DEFAULT_OS_RELEASE
    #: The version profile (:mod:`pytest_iris.log.versions`): ``cache-2017`` ..
    #: ``2024.1``; decides the allocation lines' form and whether lines carry
    #: a category. The banner stays the one real banner (2023.1) in every
    #: IRIS profile: the real material has no other.
    profile: str = "2024.1"

    def __post_init__(self) -> None:
        from pytest_iris.errors import ConfigError

        if not self.install_dir.startswith("/"):
            raise ConfigError(
                f"SequenceContext.install_dir must be absolute, got {self.install_dir!r}"
            )
        from pytest_iris.log.versions import profile

        profile(self.profile)  # ConfigError naming the allowed versions
        if not self.instance:
            raise ConfigError("SequenceContext.instance must not be empty")
        for role, pid in self.pids.items():
            if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
                raise ConfigError(
                    f"SequenceContext.pids[{role!r}] must be a positive int, got {pid!r}"
                )
        if self.start.tzinfo is not None or not 2000 <= self.start.year <= 2099:
            raise ConfigError(
                f"SequenceContext.start must be naive and in 2000-2099, got {self.start!r}"
            )

    @property
    def root(self) -> str:
        """The install directory without a trailing slash."""
        return self.install_dir.rstrip("/") or "/"

    @property
    def mgr(self) -> str:
        """``<install>/mgr`` (no trailing slash), as the banner's ``with mgr:`` shows it."""
        return f"{self.root}/mgr"

    @property
    def wij(self) -> str:
        return f"{self.mgr}/IRIS.WIJ"

    @property
    def cpf(self) -> str:
        return f"{self.root}/iris.cpf"

    @property
    def version_id(self) -> str:
        """``2023.1.0.235.1com``: the version id ``iris qlist`` and the durable %SYS lines show
        (messages_real.log lines 49-51: ``2021.1.0.215.0com`` for 2021.1 build 215.0)."""
        return f"{self.version}.0.{self.build}com"

    @property
    def journal_directory(self) -> str:
        """The journal directory (default ``<install>/mgr/journal``), no trailing slash."""
        return (self.journal_dir or f"{self.mgr}/journal").rstrip("/")

    def effective_plan(self) -> SharedMemoryPlan:
        """``plan``, or the profile's automatic plan for ``total_ram_mb`` when there is none."""
        if self.plan is not None:
            return self.plan
        from pytest_iris.memory import plan_shared_memory

        return plan_shared_memory(0, 0, 0, 0, self.total_ram_mb, version=self.profile)
