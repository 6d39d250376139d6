"""Load the plugin's start-up modules the way Python does, not through assertion rewriting.

pytest rewrites the asserts of every module of a distribution that declares
a ``pytest11`` entry point, and it does so on every start when bytecode may
not be written (``PYTHONDONTWRITEBYTECODE=1``, read-only site-packages):
parsing and compiling the source of each module instead of loading the
bytecode pip compiled at install. The modules the ``iris`` plugin loads at
start-up (its per-part plugin modules and what they import) hold options,
markers and fixtures, no ``assert``: rewriting them only made every pytest
run slower (``bench/startup.py``). Inside :func:`plain_imports` every
``pytest_iris`` module imported for the first time loads with the standard
finder and loader; modules loaded later (the library, inside fixtures)
import as usual. The entry point module (:mod:`pytest_iris_plugin`) does
the same for :mod:`pytest_iris.plugin` itself.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType


class PlainFinder:
    """Finds ``pytest_iris`` modules with the standard path finder, ahead of pytest's hook."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] != "pytest_iris":
            return None
        return PathFinder.find_spec(name, path)


@contextmanager
def plain_imports() -> Iterator[None]:
    """``pytest_iris`` modules first imported inside load from their compiled bytecode."""
    if PlainFinder in sys.meta_path:
        yield
        return
    sys.meta_path.insert(0, PlainFinder)
    try:
        yield
    finally:
        sys.meta_path.remove(PlainFinder)


def import_plain(name: str) -> ModuleType:
    """``name`` imported with the standard finder and loader (its compiled bytecode)."""
    with plain_imports():
        return importlib.import_module(name)


def surface(module: ModuleType) -> ModuleType:
    """What pytest looks for in a plugin module, its hooks and fixtures, in a module of their own.

    pytest inspects every name of a registered plugin (pluggy for hooks and
    hookspecs, the fixture manager unwrapping each one for fixtures) at every
    start: a part module's imports, helpers and classes only cost time there.
    The functions are the module's own (their globals are the module's).
    """
    view = ModuleType(module.__name__, module.__doc__)
    view.__file__ = module.__file__
    for name, value in vars(module).items():
        if name.startswith("pytest_") or _is_fixture(value):
            setattr(view, name, value)
    return view


def _is_fixture(value: object) -> bool:
    # pytest >= 8.4 wraps a fixture in a FixtureFunctionDefinition, earlier ones mark the function
    return hasattr(value, "_fixture_function_marker") or hasattr(value, "_pytestfixturefunction")
