"""Shared helpers of the CPF tests: where the real CPF corpus is, and valid new values."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

#: The real CPF files: the copy shipped in tests/data/cpf (see
#: shared/iris/sources.md for where each came from), else shared/ beside
#: the repository. Read-only: tests copy a file before editing it.
_SHIPPED = Path(__file__).parent / "data" / "cpf"
REAL_CPF_DIR = (
    _SHIPPED if _SHIPPED.is_dir() else Path(__file__).parents[2] / "shared" / "iris" / "cpf"
)


def real_cpf_files() -> list[Path]:
    if not REAL_CPF_DIR.is_dir():
        return []
    return sorted(p for p in REAL_CPF_DIR.iterdir() if p.is_file())


def real_cpf_params() -> list[object]:
    """One param per real file, or one skipped param saying why there are none."""
    files = real_cpf_files()
    if files:
        return [pytest.param(p, id=p.name) for p in files]
    return [
        pytest.param(
            None,
            marks=pytest.mark.skip(reason=f"real CPF corpus not found at {REAL_CPF_DIR}"),
            id="no-corpus",
        )
    ]


def copy_real(name_or_path: str | Path | None, tmp_path: Path, target: str = "iris.cpf") -> Path:
    """Copy one real CPF into ``tmp_path`` (never edit shared/ in place)."""
    if name_or_path is None:
        pytest.skip(f"real CPF corpus not found at {REAL_CPF_DIR}")
    source = Path(name_or_path)
    if not source.is_absolute():
        source = REAL_CPF_DIR / source
    if not source.is_file():
        pytest.skip(f"real CPF file {source} not found")
    destination = tmp_path / target
    shutil.copyfile(source, destination)
    return destination


#: For each catalogued parameter, two valid values (a test picks the one that differs).
VALID_VALUES: dict[str, tuple[str, str]] = {
    "[config]globals": ("0,0,128,0,0,0", "0,0,256,0,0,0"),
    "[config]routines": ("256", "128"),
    "[config]gmheap": ("524288", "307200"),
    "[config]locksiz": ("33554432", "16777216"),
    "[config]bbsiz": ("524288", "-1"),
    "[config]jrnbufs": ("96", "64"),
    "[config]memlock": ("1", "64"),
    "[config]MaxServerConn": ("10", "20"),
    "[config]MaxServers": ("12", "20"),
    "[ECP]ClientReconnectDuration": ("600", "1200"),
    "[Startup]DBSizesAllowed": ("8192,16384", "8192"),
    "[Startup]PasswordHash": ("ABCDEF0123456789,salt99", "abcdef99,salt01"),
}


def real_or_synthetic(name: str, tmp_path: Path, target: str = "iris.cpf") -> Path:
    """A real CPF when the corpus is present, else a synthetic one of similar size.

    For tests of writing (atomicity, modes, backups) rather than of real formats,
    so they still run where shared/ is absent.
    """
    if (REAL_CPF_DIR / name).is_file():
        return copy_real(name, tmp_path, target)
    lines = ["[ConfigFile]", "Product=IRIS", ""]
    for section in range(40):
        lines += [f"[Map.NS{section}]", *(f"Package_A{i}=DB{section}" for i in range(30)), ""]
    lines += ["[config]", "globals=0,0,0,0,0,0", "gmheap=0", "jrnbufs=64", "routines=0", ""]
    destination = tmp_path / target
    destination.write_bytes("\r\n".join(lines).encode())
    return destination
