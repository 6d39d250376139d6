"""The shared memory a CPF asks for, through :mod:`pytest_iris.memory`.

Six-value ``globals`` and ``routines`` are summed over block sizes (the plan
counts every MB of globals as 8 KB buffers, the only pool most instances
use). Missing keys take their documented defaults.
"""

from __future__ import annotations

import os

from pytest_iris.errors import ValidationError
from pytest_iris.memory import SharedMemoryPlan, plan_shared_memory
from pytest_iris.tools.cpf.document import CpfFile


def _total(cpf: CpfFile, key: str, default: int) -> int:
    value = cpf.get("config", key)
    if value is None or value == "":
        return default
    try:
        return sum(int(part) for part in value.split(","))
    except ValueError:
        found = cpf.find("config", key)
        line = found[-1].line if found else None
        if cpf.path is not None:
            where = f"{cpf.path}:{line}" if line else str(cpf.path)
        else:
            where = f"CPF line {line}" if line else "CPF"
        raise ValidationError(
            f"{where}: [config]{key}={value!r}: not a whole number or comma-separated whole numbers"
        ) from None


def shared_memory_plan(
    cpf: CpfFile | str | os.PathLike[str], total_ram_mb: int, *, version: str | None = None
) -> SharedMemoryPlan:
    """What IRIS ``version`` (default: the newest) would allocate at startup with this CPF and RAM."""
    document = cpf if isinstance(cpf, CpfFile) else CpfFile.read(cpf)
    return plan_shared_memory(
        globals_mb=max(_total(document, "globals", 0), 0),
        routines_mb=max(_total(document, "routines", 0), 0),
        jrnbufs_mb=max(_total(document, "jrnbufs", 64), 0),
        gmheap_kb=max(_total(document, "gmheap", 0), 0),
        total_ram_mb=total_ram_mb,
        version=version,
    )


def uses_huge_pages(cpf: CpfFile) -> str:
    """``required``, ``disabled`` or ``preferred`` from ``memlock`` (facts.md §3.8)."""
    value = cpf.get("config", "memlock") or "0"
    try:
        flags = int(value)
    except ValueError:
        return "preferred"
    if flags & 64:
        return "required"
    if flags & 32:
        return "disabled"
    return "preferred"
