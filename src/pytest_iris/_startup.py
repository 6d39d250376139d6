"""Load the plugin's own modules the way Python does, not through assertion rewriting.

pytest rewrites the asserts of every module of a distribution that declares
a ``pytest11`` entry point, and it does so on every start when bytecode may
not be written (``PYTHONDONTWRITEBYTECODE=1``, read-only site-packages):
parsing and compiling the source of each module instead of loading the
bytecode pip compiled at install. The modules the ``iris`` plugin loads at
start-up (its per-part plugin modules and what they import) hold options,
markers and fixtures, no ``assert``: rewriting them only made every pytest
run slower (``bench/startup.py``). :func:`import_plain` loads such a module
with the standard path finder and loader; modules loaded later (the
library, inside fixtures) import as usual.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

#: imported by the part modules at their top: loaded plainly before them
DEPENDENCIES: tuple[str, ...] = (
    "pytest_iris.defaults",
    "pytest_iris.seeds",
    "pytest_iris.hookspecs",
    "pytest_iris.builtin_plugin",
)


def import_plain(name: str) -> ModuleType:
    """``name`` imported with the standard finder and loader (its compiled bytecode)."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    parent, _, _ = name.rpartition(".")
    search = getattr(import_plain(parent), "__path__", None) if parent else None
    spec = importlib.machinery.PathFinder.find_spec(name, search)
    if spec is None or spec.loader is None:  # not a plain file: let Python decide
        return importlib.import_module(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    if parent:
        setattr(sys.modules[parent], name.rpartition(".")[2], module)
    return module
