"""The CPF tool: read, validate, change, merge into and roll back an ``iris.cpf``.

``CpfFile`` is the lossless file model (untouched lines stay byte-identical),
``CpfTool`` the remediation tool (dry run unless ``apply``), ``PARAMETERS``
the catalog of documented parameters, and ``shared_memory_plan`` the bridge
to :mod:`pytest_iris.memory` for the kernel tool and the sandbox.
"""

from __future__ import annotations

from pytest_iris.tools.cpf.catalog import PARAMETERS, Parameter, lookup
from pytest_iris.tools.cpf.document import CpfFile, Entry, Line
from pytest_iris.tools.cpf.merge import Action, Setting, parse_actions, plan_merge
from pytest_iris.tools.cpf.names import Name, resolve
from pytest_iris.tools.cpf.sizing import shared_memory_plan, uses_huge_pages
from pytest_iris.tools.cpf.storage import backups, make_backup, write_atomic
from pytest_iris.tools.cpf.tool import CpfTool

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
