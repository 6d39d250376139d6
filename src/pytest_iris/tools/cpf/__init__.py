"""The CPF tool: read, validate, change, merge into and roll back an ``iris.cpf``.

``CpfFile`` is the lossless file model (untouched lines stay byte-identical),
``CpfTool`` the remediation tool (dry run unless ``apply``), ``PARAMETERS``
the catalog of documented parameters, and ``shared_memory_plan`` the bridge
to :mod:`pytest_iris.memory` for the kernel tool and the sandbox.

Names load on first use: the sandbox's ``iris start`` (a fresh process each
time) reads CPFs through ``document`` and ``sizing`` and never pays for the
tool's pydantic and structlog imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_iris._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "PARAMETERS": "pytest_iris.tools.cpf.catalog",
    "Parameter": "pytest_iris.tools.cpf.catalog",
    "lookup": "pytest_iris.tools.cpf.catalog",
    "CpfFile": "pytest_iris.tools.cpf.document",
    "Entry": "pytest_iris.tools.cpf.document",
    "Line": "pytest_iris.tools.cpf.document",
    "Action": "pytest_iris.tools.cpf.merge",
    "Setting": "pytest_iris.tools.cpf.merge",
    "parse_actions": "pytest_iris.tools.cpf.merge",
    "plan_merge": "pytest_iris.tools.cpf.merge",
    "Name": "pytest_iris.tools.cpf.names",
    "resolve": "pytest_iris.tools.cpf.names",
    "shared_memory_plan": "pytest_iris.tools.cpf.sizing",
    "uses_huge_pages": "pytest_iris.tools.cpf.sizing",
    "backups": "pytest_iris.tools.cpf.storage",
    "make_backup": "pytest_iris.tools.cpf.storage",
    "write_atomic": "pytest_iris.tools.cpf.storage",
    "CpfTool": "pytest_iris.tools.cpf.tool",
}

__all__ = [
    "PARAMETERS",
    "Action",
    "CpfFile",
    "CpfTool",
    "Entry",
    "Line",
    "Name",
    "Parameter",
    "Setting",
    "backups",
    "lookup",
    "make_backup",
    "parse_actions",
    "plan_merge",
    "resolve",
    "shared_memory_plan",
    "uses_huge_pages",
    "write_atomic",
]

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from pytest_iris.tools.cpf.catalog import PARAMETERS, Parameter, lookup
    from pytest_iris.tools.cpf.document import CpfFile, Entry, Line
    from pytest_iris.tools.cpf.merge import Action, Setting, parse_actions, plan_merge
    from pytest_iris.tools.cpf.names import Name, resolve
    from pytest_iris.tools.cpf.sizing import shared_memory_plan, uses_huge_pages
    from pytest_iris.tools.cpf.storage import backups, make_backup, write_atomic
    from pytest_iris.tools.cpf.tool import CpfTool
