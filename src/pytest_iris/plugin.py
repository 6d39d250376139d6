"""The ``iris`` pytest plugin (entry point ``pytest11``, through :mod:`pytest_iris_plugin`).

Holds no capability of its own: it registers the per-part plugin modules
listed in :data:`pytest_iris.plugins.PARTS` and the extension hookspecs.
Importing it must stay cheap, since pytest loads it in every suite where
pytest-iris is installed.
"""

from __future__ import annotations

import importlib

import pytest

from pytest_iris._startup import plain_imports, surface
from pytest_iris.plugins import PARTS


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # pytest_addoption is a historic hook: modules registered here still get
    # their own pytest_addoption called, and their fixtures are collected.
    # plain imports: pytest's assertion rewriting would recompile them at every start
    with plain_imports():
        for name in PARTS:
            if pluginmanager.get_plugin(name) is None:
                pluginmanager.register(surface(importlib.import_module(name)), name)
