"""The plugin as pytest loads it: entry point, options, and ``-p no:iris``."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest


def test_registered_as_pytest11_entry_point_named_iris() -> None:
    (point,) = [ep for ep in entry_points(group="pytest11") if ep.name == "iris"]
    assert point.value == "pytest_iris_plugin"  # the shim that stands in for pytest_iris.plugin


def test_the_entry_point_loads_the_plugin_module_itself() -> None:
    code = (
        "import sys, pytest_iris_plugin as shim\n"
        "print(shim.__name__, type(sys.modules['pytest_iris'].__loader__).__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["pytest_iris.plugin", "SourceFileLoader"]


def test_plugin_loads_and_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_loaded(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("iris")
            assert pytestconfig.getoption("iris_config") is None
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("-p", "no:iris")
    result.assert_outcomes(failed=1)


def test_help_lists_the_iris_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*pytest-iris*", "*--iris-config=PATH*"])


def test_importing_the_plugin_loads_no_heavy_dependency() -> None:
    heavy = ["openai", "vcr", "faker", "structlog", "psutil", "httpx", "pydantic", "yaml"]
    code = (
        "import sys, pytest_iris.plugin, pytest_iris.plugins as p, importlib\n"
        "[importlib.import_module(name) for name in p.PARTS]\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_every_fixture_and_hook_of_the_parts_is_registered(pytester: pytest.Pytester) -> None:
    """The parts are registered as their surface (hooks and fixtures): nothing of theirs is lost."""
    import importlib

    from pytest_iris.plugins import PARTS

    fixtures: set[str] = set()
    hooks: set[str] = set()
    for name in PARTS:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if hasattr(value, "_fixture_function_marker"):
                fixtures.add(value._fixture_function_marker.name or attribute)
            elif attribute.startswith("pytest_"):
                hooks.add(f"{name}:{attribute}")
    assert "iris_dispatcher" in fixtures and "pytest_iris.plugins.core:pytest_addhooks" in hooks
    pytester.makeconftest(
        """
        def pytest_sessionfinish(session):
            manager = session.config.pluginmanager
            found = set()
            for name, plugin in manager.list_name_plugin():
                if name.startswith("pytest_iris.plugins."):
                    found.update(f"{name}:{h}" for h in dir(plugin) if h.startswith("pytest_"))
            print("HOOKS:", " ".join(sorted(found)))
        """
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    (line,) = [x for x in result.stdout.lines if x.startswith("HOOKS:") or "HOOKS:" in x]
    assert set(line.split("HOOKS:")[1].split()) == hooks
    listed = pytester.runpytest_subprocess("--fixtures", "-v").stdout.str()  # -v: _private too
    missing = sorted(f for f in fixtures if f"\n{f}" not in listed and f" {f} " not in listed)
    assert not missing, f"fixtures not registered: {missing}"
