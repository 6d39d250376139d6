"""Options every part shares: the settings file, validated at start-up."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_iris.settings import IrisSettings

_SETTINGS_KEY = pytest.StashKey["IrisSettings"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iris", "pytest-iris: InterSystems IRIS emulation")
    group.addoption(
        "--iris-config",
        dest="iris_config",
        default=None,
        metavar="PATH",
        help="YAML settings file for pytest-iris (default: ini key iris_config, "
        "then $PYTEST_IRIS_CONFIG).",
    )
    parser.addini("iris_config", "YAML settings file for pytest-iris.", default="")


def _settings_file(config: pytest.Config) -> str | None:
    option = config.getoption("iris_config")
    if option:
        return str(option)
    ini = str(config.getini("iris_config") or "")
    if ini:
        return str(config.rootpath / ini)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Validate at start-up, but pay for pydantic only when there is something to read.
    path = _settings_file(config)
    if path is None and not any(name.startswith("PYTEST_IRIS_") for name in os.environ):
        return
    from pytest_iris.errors import ConfigError
    from pytest_iris.settings import load_settings

    try:
        config.stash[_SETTINGS_KEY] = load_settings(path)
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from error


def settings_for(config: pytest.Config) -> IrisSettings:
    """The validated settings of this run (defaults when none were given)."""
    if _SETTINGS_KEY not in config.stash:
        from pytest_iris.settings import load_settings

        config.stash[_SETTINGS_KEY] = load_settings()
    return config.stash[_SETTINGS_KEY]


@pytest.fixture(scope="session")
def iris_settings(pytestconfig: pytest.Config) -> IrisSettings:
    """The pytest-iris settings of this run, from ``--iris-config``/ini/env."""
    return settings_for(pytestconfig)
