"""Installing pytest-iris must cost a suite that never uses it (almost) nothing.

Two guards, neither timed against the wall clock:

* the distribution's required dependencies (no extras) bring no pytest
  plugin of their own: anyio (through httpx/openai) and Faker each register
  one that pytest imports in every run, so they are extras;
* loading the plugin imports no heavy module, and its import time stays a
  small fraction of pytest's own, measured in the same interpreter with
  ``-X importtime`` (a ratio, so a loaded machine does not fail it).

``bench/startup.py`` measures the whole comparison in fresh environments.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

HEAVY = (
    "faker",
    "openai",
    "httpx",
    "anyio",
    "asyncio",
    "vcr",
    "structlog",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "yaml",
    "psutil",
    "hypothesis",
    "h11",
    "filelock",
)


def _closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """Normalised names of ``name`` and everything its requirements pull in (installed)."""
    seen: set[str] = set()
    walked: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        key = re.sub(r"[-_.]+", "-", current).lower()
        if (key, wanted) in walked:
            continue
        walked.add((key, wanted))
        try:
            dist = distribution(current)
        except PackageNotFoundError:
            continue
        seen.add(key)
        for text in dist.requires or []:
            req = Requirement(text)
            envs = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                todo.append((req.name, frozenset(req.extras)))
    return seen


def _pytest_plugins(names: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in names:
        points = [ep.name for ep in distribution(name).entry_points if ep.group == "pytest11"]
        if points:
            found[name] = points
    return found


def test_required_dependencies_register_no_pytest_plugin_of_their_own() -> None:
    base = _closure("pytest-iris")
    assert {"pydantic", "structlog", "pytest"} <= base  # the walk found the real dependencies
    assert _pytest_plugins(base - {"pytest-iris"}) == {}
    for extra in ("faker", "httpx", "openai", "anyio", "vcrpy"):
        assert extra not in base, f"{extra} is a required dependency; it belongs in an extra"


def test_the_walk_sees_plugins_that_extras_bring() -> None:
    """The guard above can fail: with the extras, anyio's and Faker's plugins are reachable."""
    everything = _closure("pytest-iris", frozenset({"all"}))
    plugins = _pytest_plugins(everything - {"pytest-iris"})
    assert "anyio" in plugins
    assert "faker" in plugins


IMPORT_PROBE = r"""
import sys
import pytest
import pytest_iris.plugin
import pytest_iris.plugins as parts, importlib
for name in parts.PARTS:
    importlib.import_module(name)
print(" ".join(sorted(m for m in {heavy!r} if m in sys.modules)) or "-")
"""


def _cumulative_us(stderr: str, module: str) -> int:
    """The cumulative microseconds ``-X importtime`` reports for ``module``."""
    for line in stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise AssertionError(f"{module} not in the import-time report")


def test_plugin_load_imports_no_heavy_module_and_costs_little_beside_pytest() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORT_PROBE.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "-", f"heavy modules imported at plugin load: {done.stdout}"
    plugin = _cumulative_us(done.stderr, "pytest_iris.plugin")
    own = _cumulative_us(done.stderr, "pytest")
    # ~3 ms against ~100 ms on the project's machine: a 25% bound is generous
    assert plugin < own * 0.25, f"plugin import {plugin} us against pytest's {own} us"


def test_a_trivial_run_with_the_plugin_imports_no_heavy_module(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suite that never uses pytest-iris: after the whole run, nothing heavy was loaded."""
    pytester.makeconftest(
        f"""
        import sys

        def pytest_sessionfinish(session):
            heavy = [m for m in {HEAVY!r} if m in sys.modules]
            print("HEAVY:", " ".join(heavy) or "-")
        """
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")
    # only our plugin is auto-loaded, as in an environment without the extras
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess("-p", "iris", "-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*HEAVY: -"])


def test_a_missing_extra_names_the_install_command() -> None:
    code = (
        "import sys\n"
        "sys.modules.pop('httpx', None)\n"
        "sys.path[:] = [p for p in sys.path if 'site-packages' not in p or 'pytest_iris' in p]\n"
        "import pytest_iris\n"
        "try:\n"
        "    import httpx\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error.name, '|', error)\n"
    )
    src = str(Path(__file__).resolve().parent.parent / "src")
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert done.stdout.strip() == (
        "httpx | No module named 'httpx': the HTTP transport needs it; "
        "install it with: pip install 'pytest-iris[http]'"
    )


def test_an_installed_extra_imports_as_usual() -> None:
    import httpx

    import pytest_iris  # noqa: F401 - installs the finder

    assert httpx.__name__ == "httpx"


def test_start_up_modules_skip_assertion_rewriting(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed wheel is marked for rewriting: every module loaded at start-up loads plainly.

    (An editable install is not marked, so the test marks the distribution's
    top-level names itself, as pytest does for a wheel's pytest11 distribution.)
    Only the one-file entry point (``pytest_iris_plugin``) goes through pytest's
    rewriting; it then stands in for :mod:`pytest_iris.plugin` in ``sys.modules``.
    """
    pytester.makepyfile(
        mark_iris="import pytest\n"
        "pytest.register_assert_rewrite('pytest_iris', 'pytest_iris_plugin')\n"
    )
    pytester.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            loaded = [name for name in sys.modules if name.partition(".")[0] == "pytest_iris"]
            how = {type(sys.modules[name].__loader__).__name__ for name in loaded}
            print("MODULES:", len(loaded), "LOADERS:", sorted(how))
            print("SHIM:", sys.modules["pytest_iris_plugin"].__name__)
        """
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    result = pytester.runpytest_subprocess("-p", "mark_iris", "-p", "iris", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*MODULES: * LOADERS: ?'SourceFileLoader'?", "*SHIM: pytest_iris.plugin"]
    )


def test_the_rewriting_guard_above_can_fail(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pytest_iris module imported outside the plain scope is rewritten, and seen as such."""
    pytester.makepyfile(
        mark_iris="import pytest\n"
        "pytest.register_assert_rewrite('pytest_iris', 'pytest_iris_plugin')\n"
    )
    pytester.makeconftest(
        """
        import sys

        def pytest_configure(config):
            import pytest_iris.memory  # a library module, outside the start-up's plain scope

        def pytest_sessionfinish(session):
            print("MEMORY:", type(sys.modules["pytest_iris.memory"].__loader__).__name__)
        """
    )
    pytester.makepyfile("def test_nothing():\n    pass\n")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    result = pytester.runpytest_subprocess("-p", "mark_iris", "-p", "iris", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MEMORY: AssertionRewritingHook"])
