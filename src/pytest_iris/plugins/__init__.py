"""pytest faces of each part: options, markers and fixtures, one module per part.

:mod:`pytest_iris.plugin` registers every module named in :data:`PARTS`, so
``-p no:iris`` turns them all off together. Each module imports only pytest
and the standard library at import time; the part's library loads inside
the fixture that needs it.
"""

from __future__ import annotations

#: Modules registered by the ``iris`` plugin, in order.
PARTS: tuple[str, ...] = (
    "pytest_iris.plugins.core",
    "pytest_iris.plugins.chaos",
    "pytest_iris.plugins.sandbox",
    "pytest_iris.plugins.transport",
    "pytest_iris.plugins.tools",
    "pytest_iris.plugins.llm",
    "pytest_iris.plugins.logs",
)
