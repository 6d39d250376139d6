"""What every part shares under pytest: the extension hooks and the one door to settings.

The ``pytest_iris_*`` hookspecs are added here, with the built-in plugin
(:mod:`pytest_iris.builtin_plugin`) registered through them.

Every fixture of every part reads its settings here. The pytest options and
ini keys that set a value (``--iris-seed``/``iris_seed``,
``--iris-remediator``/``iris_remediator``, ``--iris-record-mode``/
``iris_record_mode``, ``--iris-cassette-dir``/``iris_cassette_dir``) are the
strongest source, then the environment, the YAML file (``--iris-config`` >
ini ``iris_config`` > ``$PYTEST_IRIS_CONFIG``) and the defaults: see
:mod:`pytest_iris.settings`. They are validated once, at start-up.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iris._stash import SETTINGS_KEY
from pytest_iris._stash import base_seed as base_seed  # the run's base seed, for the parts

if TYPE_CHECKING:
    from pytest_iris.settings import IrisSettings


#: (option dest, ini key, settings field): pytest's own sources of a setting.
#: The options are added by the part that owns the setting.
OPTION_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("iris_seed", "iris_seed", "seed"),
    ("iris_remediator", "iris_remediator", "chaos.remediator"),
    ("iris_record_mode", "iris_record_mode", "llm.record_mode"),
    ("iris_cassette_dir", "iris_cassette_dir", "llm.cassette_dir"),
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """The ``pytest_iris_*`` hookspecs, and the built-ins registered through them."""
    from pytest_iris import builtin_plugin as builtins
    from pytest_iris import hookspecs
    from pytest_iris._startup import surface  # only the hooks: pytest inspects every name

    pluginmanager.add_hookspecs(surface(hookspecs))
    if pluginmanager.get_plugin("pytest_iris.builtins") is None:
        pluginmanager.register(surface(builtins), "pytest_iris.builtins")


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


def _ini(config: pytest.Config, name: str) -> str:
    try:
        value = config.getini(name)
    except ValueError:  # the part that declares it is not registered
        return ""
    return value.strip() if isinstance(value, str) else ""


def _overrides(config: pytest.Config) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings pytest's options and ini keys give, nested, and where each came from."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for dest, ini, field in OPTION_FIELDS:
        value: Any = config.getoption(dest, None)
        origin = "--" + dest.replace("_", "-")
        if value is None or value == "":
            value, origin = _ini(config, ini), f"ini {ini}"
        if value is None or value == "":
            continue
        *sections, name = field.split(".")
        target = values
        for section in sections:
            target = target.setdefault(section, {})
        target[name] = value
        origins[field] = origin
    return values, origins


def _load(config: pytest.Config) -> IrisSettings:
    from pytest_iris.errors import ConfigError
    from pytest_iris.settings import load_settings

    values, origins = _overrides(config)
    try:
        return load_settings(_settings_file(config), origins=origins, **values)
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from error


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Validate at start-up, but pay for pydantic only when there is something to read.
    if (
        _settings_file(config) is None
        and not any(name.startswith("PYTEST_IRIS_") for name in os.environ)
        and not _overrides(config)[0]
    ):
        return
    config.stash[SETTINGS_KEY] = _load(config)


def settings_for(config: pytest.Config) -> IrisSettings:
    """The validated settings of this run (the defaults when nothing sets any)."""
    if SETTINGS_KEY not in config.stash:
        config.stash[SETTINGS_KEY] = _load(config)
    return config.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def iris_settings(pytestconfig: pytest.Config) -> IrisSettings:
    """The pytest-iris settings of this run: options > ini > environment > file > defaults."""
    return settings_for(pytestconfig)
