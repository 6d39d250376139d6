"""pytest's entry point for pytest-iris (``pytest11``, plugin name ``iris``).

pytest rewrites the asserts of every module of a distribution that declares
a ``pytest11`` entry point, and without writable bytecode
(``PYTHONDONTWRITEBYTECODE=1``, a read-only site-packages) it does so at
every start: parsing and compiling the source of each module it imports
instead of loading the bytecode pip compiled. This module is the only one
pytest imports that way; it loads :mod:`pytest_iris.plugin`, and the
package modules that imports, with the standard path finder, then stands
in for it (pytest registers :mod:`pytest_iris.plugin` itself as ``iris``).
``bench/startup.py`` measures what that saves.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType


class _Bootstrap:
    """Finds ``pytest_iris`` modules with the standard path finder, ahead of pytest's hook.

    (:class:`pytest_iris._startup.PlainFinder` does the same once the package is loaded.)
    """

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] != "pytest_iris":
            return None
        return PathFinder.find_spec(name, path)


sys.meta_path.insert(0, _Bootstrap)
try:
    from pytest_iris import plugin
finally:
    sys.meta_path.remove(_Bootstrap)

sys.modules[__name__] = plugin
