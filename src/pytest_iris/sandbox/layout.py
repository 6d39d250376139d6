"""Where an IRIS host keeps its files, shared by the fake and the live sandbox.

:class:`HostLayout` names the paths under a host's ``root``;
:func:`write_install` writes an install directory (the shipped real CPF,
moved there, and an empty ``mgr/messages.log``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

#: Host clock at build time unless given: fixed, so every run is identical.
DEFAULT_START = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
DEFAULT_INSTALL = "usr/irissys"
#: where the shipped CPF (IRIS 2023.1, RHEL 8) keeps its databases
CPF_ORIGINAL_DIR = "/intersystems/"


@cache
def shipped_cpf() -> str:
    """The real ``iris.cpf`` shipped as package data (IRIS 2023.1 on RHEL 8)."""
    return resources.files("pytest_iris.sandbox").joinpath("data/iris.cpf").read_text("utf-8")


CpfValues = Mapping[str, Mapping[str, object]]


def write_install(
    directory: Path, cpf_text: str | None, values: Mapping[str, Mapping[str, object]]
) -> None:
    """An install directory: iris.cpf (the shipped one, moved there), mgr/messages.log."""
    (directory / "mgr").mkdir(parents=True, exist_ok=True)
    (directory / "bin").mkdir(exist_ok=True)
    text = (
        cpf_text
        if cpf_text is not None
        else shipped_cpf().replace(CPF_ORIGINAL_DIR, f"{directory}/")
    )
    cpf = directory / "iris.cpf"
    cpf.write_text(text, encoding="utf-8")
    if values:
        from pytest_iris.sandbox import _cpfio

        _cpfio.cpf_set(
            cpf,
            {(sec, key): str(val) for sec, items in values.items() for key, val in items.items()},
        )
    (directory / "mgr" / "messages.log").touch()


class HostLayout:
    """Where an IRIS host keeps its files under ``root``; shared by the fake and live hosts."""

    root: Path

    @property
    def install_dir(self) -> Path:
        return self.root / DEFAULT_INSTALL

    @property
    def cpf_path(self) -> Path:
        return self.install_dir / "iris.cpf"

    @property
    def messages_log(self) -> Path:
        return self.install_dir / "mgr" / "messages.log"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"
