"""The ``Host`` protocol: what tools, faults, remediators and snapshots may use of a host.

Two classes implement it: the fake :class:`pytest_iris.sandbox.SandboxHost`
(a procfs tree and a process table in files) and the live
:class:`pytest_iris.sandbox.LiveSandbox` (real processes and sockets in
Linux namespaces). Code written against :class:`Host` runs on both, and
``tests/test_host_contract.py`` runs one suite over both to prove that they
answer alike.

This module sits below both the tools and the sandbox: it imports neither,
so either may import it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import subprocess  # annotations only: the sandbox's bin/ commands import this module

    from pytest_iris.log.model import IRISMessage


#: real directories kept on a host's PATH after its ``bin/``, for ordinary tools (cat, grep ...)
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def command_environment(root: Path) -> dict[str, str]:
    """This process's environment with ``root/bin`` (a sandbox's iris, sysctl, sudo) first on PATH.

    Without it a tool acting on another root would run the real host's
    commands, which act on the real kernel and instances.
    """
    env = dict(os.environ)
    env["PATH"] = f"{root / 'bin'}:{SYSTEM_PATH}"
    env["PYTEST_IRIS_SANDBOX_ROOT"] = str(root)
    env.pop("PYTEST_IRIS_SANDBOX_EUID", None)
    return env


@dataclass
class Outcome:
    """What a host command (``iris``, ``sysctl``) prints and returns."""

    status: int = 0
    stdout: str = ""
    stderr: str = ""
    messages: list[IRISMessage] = field(default_factory=list)


@runtime_checkable
class Host(Protocol):
    """One IRIS host a remediation acts on: its files, kernel, instance, processes and clock."""

    @property
    def root(self) -> Path:
        """The host's root directory (everything it writes is under it)."""

    @property
    def instance_name(self) -> str:
        """The default instance (``IRIS``)."""

    @property
    def proc(self) -> Path:
        """The procfs psutil reads for this host (``psutil.PROCFS_PATH`` in :meth:`procfs`)."""

    @property
    def env(self) -> dict[str, str]:
        """Environment for subprocesses: the host's ``bin/`` (iris, sysctl, sudo) first."""

    @property
    def install_dir(self) -> Path: ...

    @property
    def cpf_path(self) -> Path: ...

    @property
    def messages_log(self) -> Path: ...

    @property
    def bin_dir(self) -> Path: ...

    @property
    def total_ram_mb(self) -> int:
        """Physical memory IRIS sizes automatic globals from."""

    # -- the clock ---------------------------------------------------------

    def clock(self) -> float:
        """The host clock (epoch seconds): every stamp the host writes comes from it."""

    def now(self) -> datetime:
        """The host clock as a local-time ``datetime`` (what IRIS prints)."""

    def advance(self, seconds: float) -> None:
        """Move the host clock forward (scenarios do; nothing else moves it)."""

    # -- commands ----------------------------------------------------------

    def run(self, argv: Sequence[str] | str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """A command with :attr:`env` in :attr:`root`, as ``subprocess.run`` (text, captured)."""

    def run_with_procfs(
        self, argv: Sequence[str], **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """A command with this host's procfs bound over ``/proc`` in a private mount namespace."""

    def iris(self, *args: str) -> Outcome:
        """The host's ``iris`` command."""

    def sysctl(self, *args: str) -> Outcome:
        """The host's ``sysctl`` command, as root."""

    def read_sysctl(self, key: str) -> str: ...

    def set_sysctl(self, key: str, value: object) -> None:
        """Set a tunable as the test's own setup (no privilege check)."""

    # -- the instance --------------------------------------------------------

    def status(self, name: str | None = None) -> str:
        """``"running"`` or ``"down"``."""

    def health(self, name: str | None = None) -> str:
        """``"ok"``, ``"alert"`` ... as ``iris list`` shows it."""

    def pids(self, name: str | None = None) -> dict[str, list[int]]:
        """The host's PIDs by role (``control``, ``write_daemon``, ``user_job`` ...)."""

    def processes(self) -> dict[int, tuple[str, str]]:
        """Every process of the host: pid -> (comm, role)."""

    def connections(self, name: str | None = None) -> int:
        """Established client connections to the superserver and web ports."""

    def listening(self) -> tuple[int, ...]:
        """Ports with a listening socket."""

    def hugepages_free(self) -> int:
        """``HugePages_Free`` of the host's meminfo."""

    def connect(self, users: int = 1, web_users: int = 0) -> None:
        """Clients connect to the running default instance."""

    def disconnect(self, users: int | None = None) -> int:
        """Superserver clients log off (all when ``users`` is None); returns how many."""

    def signal(self, pid: int, sig: int) -> None:
        """Deliver a signal to one of the host's processes."""

    def log_text(self) -> str: ...

    # -- psutil ------------------------------------------------------------

    def procfs(self) -> AbstractContextManager[None]:
        """Point psutil at this host until the block ends."""

    def refresh_procfs(self) -> None:
        """Bring :attr:`proc` up to date before a tool reads it."""


__all__ = ["SYSTEM_PATH", "Host", "Outcome", "command_environment"]
