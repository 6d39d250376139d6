"""The sandbox's only contact with CPF files and the shared-memory model.

Reading and editing CPFs belongs to :mod:`pytest_iris.tools.cpf`, and the
shared-memory arithmetic to :mod:`pytest_iris.memory` (both owned by the cpf
part). This module adapts them to what ``iris start`` and ``iris merge``
need, so the rest of the sandbox never touches CPF text itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pytest_iris.errors import InstanceError, SandboxError
from pytest_iris.memory import SharedMemoryPlan


@dataclass(frozen=True)
class StartupConfig:
    """What ``iris start`` takes from the CPF."""

    plan: SharedMemoryPlan
    globals_auto: bool
    memlock: int
    superserver_port: int
    web_port: int


def _int(raw: str | None, default: int) -> int:
    try:
        return int((raw or "").strip() or default)
    except ValueError:
        return default


def startup_config(path: Path, total_ram_mb: int, *, version: str | None = None) -> StartupConfig:
    """Read the CPF and compute the shared memory IRIS ``version`` (a log profile) will ask for."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SandboxError(f"iris start cannot read {path}: {exc.strerror}") from None
    # the install directory does not change the plan: hosts built from the same
    # CPF in different directories share one cache entry
    data = data.replace(str(Path(path).parent).encode(), b"<install>")
    try:
        return _startup_config(data, total_ram_mb, version)
    except InstanceError as exc:
        raise SandboxError(f"iris start cannot use {path}: {exc}") from None


@lru_cache(maxsize=32)
def _startup_config(data: bytes, total_ram_mb: int, version: str | None) -> StartupConfig:
    """Cached on the file's bytes: many hosts start from the same shipped CPF."""
    from pytest_iris.tools.cpf import CpfFile, shared_memory_plan

    cpf = CpfFile.parse(data)
    plan = shared_memory_plan(cpf, total_ram_mb, version=version)
    raw_globals = cpf.get("config", "globals") or "0"
    try:
        auto = all(int(v or 0) == 0 for v in raw_globals.split(","))
    except ValueError:
        auto = False
    return StartupConfig(
        plan=plan,
        globals_auto=auto,
        memlock=_int(cpf.get("config", "memlock"), 0),
        superserver_port=_int(cpf.get("Startup", "DefaultPort"), 1972),
        web_port=_int(cpf.get("Startup", "WebServerPort"), 52773),
    )


def ports(path: Path) -> tuple[int, int]:
    """(superserver, web server) ports from ``[Startup]``; IRIS defaults when absent."""
    from pytest_iris.tools.cpf import CpfFile

    cpf = CpfFile.read(path)
    return _int(cpf.get("Startup", "DefaultPort"), 1972), _int(
        cpf.get("Startup", "WebServerPort"), 52773
    )


def cpf_set(path: Path, values: dict[tuple[str, str], str]) -> None:
    """Set ``(section, key) -> value`` pairs and write the file atomically."""
    from pytest_iris.tools.cpf import CpfFile

    cpf = CpfFile.read(path)
    for (section, key), value in values.items():
        cpf.set(section, key, value)
    cpf.write()
