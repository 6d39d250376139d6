"""The sandbox's only contact with CPF files and the shared-memory model.

Reading and editing CPFs belongs to :mod:`pytest_iris.tools.cpf`, and the
shared-memory arithmetic to :mod:`pytest_iris.memory` (both owned by the cpf
part). This module adapts them to what ``iris start`` and ``iris merge``
need, so the rest of the sandbox never touches CPF text itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_iris.errors import SandboxError

if TYPE_CHECKING:
    from pytest_iris.memory import SharedMemoryPlan


def _cpf_class() -> Any:
    try:
        from pytest_iris.tools.cpf import CpfFile
    except ImportError:  # TEMPORARY bridge until the cpf part lands
        return _MiniCpf
    return CpfFile


class _MiniCpf:
    """TEMPORARY stand-in for ``pytest_iris.tools.cpf.CpfFile`` (get/set/write only)."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path, self.lines = path, lines

    @classmethod
    def read(cls, path: Path) -> _MiniCpf:
        return cls(path, Path(path).read_text(encoding="utf-8").splitlines())

    def _find(self, section: str, key: str) -> tuple[int, int]:
        start, current = -1, ""
        for n, line in enumerate(self.lines):
            if line.startswith("["):
                if current == section:
                    return start, n
                current = line.strip()[1:-1]
                start = n
            elif current == section and line.split("=", 1)[0].strip() == key:
                return start, n
        return start, len(self.lines)

    def get(self, section: str, key: str) -> str | None:
        _, n = self._find(section, key)
        if (
            n < len(self.lines)
            and "=" in self.lines[n]
            and self.lines[n].split("=", 1)[0].strip() == key
        ):
            return self.lines[n].split("=", 1)[1]
        return None

    def set(self, section: str, key: str, value: str) -> None:
        start, n = self._find(section, key)
        if start < 0:
            self.lines += ["", f"[{section}]", f"{key}={value}"]
        elif n < len(self.lines) and self.lines[n].split("=", 1)[0].strip() == key:
            self.lines[n] = f"{key}={value}"
        else:
            while n > start + 1 and not self.lines[n - 1].strip():
                n -= 1
            self.lines.insert(n, f"{key}={value}")

    def write(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        tmp.replace(self.path)


def cpf_get(path: Path, section: str, key: str, default: str = "") -> str:
    value = _cpf_class().read(path).get(section, key)
    return default if value is None else str(value).strip()


def cpf_set(path: Path, values: dict[tuple[str, str], str]) -> None:
    """Set ``(section, key) -> value`` pairs and write the file atomically."""
    cpf: Any = _cpf_class().read(path)
    for (section, key), value in values.items():
        cpf.set(section, key, value)
    cpf.write()


def _mb(raw: str) -> int:
    return sum(int(v or 0) for v in raw.split(","))


def plan_for(path: Path, total_ram_mb: int) -> SharedMemoryPlan:
    """The shared memory ``iris start`` needs for the CPF at ``path``."""
    try:
        from pytest_iris.tools.cpf import CpfFile, shared_memory_plan
    except ImportError:  # TEMPORARY bridge until the cpf part lands
        from pytest_iris.memory import plan_shared_memory

        if not Path(path).is_file():
            raise SandboxError(f"iris.cpf not found: {path}") from None
        try:
            return plan_shared_memory(
                _mb(cpf_get(path, "config", "globals", "0")),
                _mb(cpf_get(path, "config", "routines", "0")),
                _mb(cpf_get(path, "config", "jrnbufs", "0")),
                _mb(cpf_get(path, "config", "gmheap", "0")),
                total_ram_mb,
            )
        except ValueError as exc:
            raise SandboxError(f"{path}: [config] value is not a number: {exc}") from None
    try:
        return shared_memory_plan(CpfFile.read(path), total_ram_mb)
    except FileNotFoundError:
        raise SandboxError(f"iris.cpf not found: {path}") from None


def globals_auto(path: Path) -> bool:
    """True when ``[config] globals`` is all zeros (IRIS picks 25% of RAM)."""
    raw = cpf_get(path, "config", "globals", "0,0,0,0,0,0")
    try:
        return all(int(v or 0) == 0 for v in raw.split(","))
    except ValueError:
        return False


def memlock(path: Path) -> int:
    try:
        return int(cpf_get(path, "config", "memlock", "0") or 0)
    except ValueError:
        return 0


def ports(path: Path) -> tuple[int, int]:
    """(superserver, web server) ports from ``[Startup]``; IRIS defaults when absent."""
    ss = cpf_get(path, "Startup", "DefaultPort", "") or "1972"
    web = cpf_get(path, "Startup", "WebServerPort", "") or "52773"
    try:
        return int(ss), int(web)
    except ValueError as exc:
        raise SandboxError(f"{path}: [Startup] port is not a number: {exc}") from None
