"""All pytest-iris settings in one validated object, read through one door.

One root model with a section per part; each part defines its section model
in its own package and it is added here as a field. Settings that several
parts share (``seed``, ``instance``) live at the top, once.

Where a value comes from, strongest first:

1. a pytest command-line option (``--iris-seed``, ``--iris-remediator``,
   ``--iris-record-mode``, ``--iris-cassette-dir``),
2. the matching ini key (``iris_seed``, ``iris_remediator`` ...),
3. the environment (``PYTEST_IRIS_SEED=7``,
   ``PYTEST_IRIS_TRANSPORT__RETENTION_S=60``),
4. the YAML file (``--iris-config`` > ini ``iris_config`` >
   ``$PYTEST_IRIS_CONFIG``),
5. the defaults of the models.

Under pytest, :func:`pytest_iris.plugins.core.settings_for` (fixture
``iris_settings``) loads them once at start-up; the ``pytest-iris`` command
loads them once at its entry. The library never loads settings itself: it
takes them (or the section it needs) as arguments, and uses the models'
defaults (:meth:`IrisSettings.defaults`) when given none. Loading validates
everything at once and fails with a :class:`~pytest_iris.errors.ConfigError`
that names the source and the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from pytest_iris import defaults
from pytest_iris.chaos.settings import ChaosSettings
from pytest_iris.errors import ConfigError
from pytest_iris.generation.settings import LogSettings
from pytest_iris.llm.settings import LLMSettings
from pytest_iris.sandbox.settings import SandboxSettings
from pytest_iris.tools.settings import ToolSettings
from pytest_iris.transport.settings import TransportSettings

ENV_PREFIX = "PYTEST_IRIS_"
#: Environment variable naming the YAML file when none is passed.
ENV_FILE_VAR = "PYTEST_IRIS_CONFIG"
#: ``PYTEST_IRIS_*`` variables that are not settings (a misspelt setting must not hide among them)
OTHER_ENV_VARS: Mapping[str, str] = {
    "PYTEST_IRIS_CONFIG": "the settings YAML file",
    "PYTEST_IRIS_CONTAINMENT": "sandbox containment mode (refuse)",
    "PYTEST_IRIS_CI_TIMEOUT": "the CI script's time limit (.ci/run)",
    "PYTEST_IRIS_VENV": "the virtualenv ./dev and .ci/run use",
    # not PYTEST_IRIS_SANDBOX: that name is the environment form of the sandbox settings section
    "PYTEST_IRIS_SANDBOX_ROOT": "set by a sandbox for its own commands (its root)",
    "PYTEST_IRIS_SANDBOX_EUID": "set by a sandbox's sudo for its own commands",
    "PYTEST_IRIS_EXPLORE": "set by pytest-iris chaos --explore for its shards",
}
#: (YAML file, read the environment?) of the load in progress
_sources_var: ContextVar[tuple[Path | None, bool]] = ContextVar("pytest_iris_settings_sources")


class IrisSettings(BaseSettings):
    """All pytest-iris settings. Sections are added by the parts that own them."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    #: base seed of the run: each test's seeds derive from it and the test's node id
    seed: int = Field(default=defaults.SEED, ge=0)
    #: name of the IRIS instance: of the sandbox host, in generated logs, for the restart tool
    instance: str = Field(default=defaults.INSTANCE, min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    chaos: ChaosSettings = ChaosSettings()
    tools: ToolSettings = ToolSettings()
    transport: TransportSettings = TransportSettings()
    llm: LLMSettings = LLMSettings()
    logs: LogSettings = LogSettings()
    sandbox: SandboxSettings = SandboxSettings()

    @classmethod
    def defaults(cls) -> IrisSettings:
        """The models' defaults only: no environment, no file (what the library uses alone)."""
        token = _sources_var.set((None, False))
        try:
            return cls()
        finally:
            _sources_var.reset(token)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file, use_env = _sources_var.get((None, True))
        sources: list[PydanticBaseSettingsSource] = [init_settings]
        if use_env:
            sources.append(env_settings)
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


def load_settings(
    yaml_file: str | os.PathLike[str] | None = None,
    *,
    origins: Mapping[str, str] | None = None,
    **overrides: Any,
) -> IrisSettings:
    """Load and validate settings; ``yaml_file`` defaults to ``$PYTEST_IRIS_CONFIG``.

    ``overrides`` are the strongest source (nested sections as dicts, merged
    with the others); ``origins`` names where each override came from
    (``{"chaos.remediator": "--iris-remediator"}``) for error messages.
    """
    path = yaml_file if yaml_file is not None else os.environ.get(ENV_FILE_VAR) or None
    if path is not None:
        if Path(path).is_dir():
            raise ConfigError(
                f"settings file {os.fspath(path)!r} is a directory; give the YAML file"
            )
        if not Path(path).is_file():
            raise ConfigError(f"settings file {os.fspath(path)!r} does not exist")
        _check_yaml(Path(path))
    check_environment(os.environ)
    token = _sources_var.set((Path(path) if path is not None else None, True))
    try:
        return IrisSettings(**overrides)
    except PydanticValidationError as error:
        where = (
            f"settings file {os.fspath(path)!r} or environment ({ENV_PREFIX}*)"
            if path
            else f"environment ({ENV_PREFIX}*)"
        )
        details = []
        for e in error.errors():
            field = ".".join(str(p) for p in e["loc"])
            source = (origins or {}).get(field, where)
            details.append(f"{field}: {e['msg']} (got {e.get('input')!r}) [from {source}]")
        raise ConfigError(f"invalid pytest-iris settings: {'; '.join(details)}") from error
    finally:
        _sources_var.reset(token)


def check_environment(environ: Mapping[str, str]) -> None:
    """A ``PYTEST_IRIS_*`` name that is neither a setting nor in :data:`OTHER_ENV_VARS`
    is a typo (``PYTEST_IRIS_SEEED``): pydantic would ignore it silently, so refuse it here."""
    import difflib

    fields = [f"{ENV_PREFIX}{name.upper()}" for name in IrisSettings.model_fields]
    known = [*fields, *OTHER_ENV_VARS]
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known:
            continue
        if any(upper.startswith(f"{field}__") for field in fields):
            continue  # a nested setting: the section's own model rejects unknown keys
        close = difflib.get_close_matches(upper, known, n=1)
        raise ConfigError(
            f"environment variable {name} is not a pytest-iris setting"
            + (f"; did you mean {close[0]}?" if close else "")
            + f" (settings: {', '.join(fields)}, with __ for a section's keys; "
            f"others: {', '.join(n for n in OTHER_ENV_VARS if n not in fields)})"
        )


def _check_yaml(path: Path) -> None:
    from pytest_iris import _yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"settings file {str(path)!r} cannot be read: {error}") from None
    try:  # bounded: anchors/aliases and !!python tags refused (pydantic-settings reads it next)
        data = _yaml.load(text, str(path))
    except _yaml.YamlInputError as error:
        raise ConfigError(f"settings file {error}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"settings file {str(path)!r} must hold a mapping at the top level")
