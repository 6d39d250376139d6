"""Settings from environment variables (``PYTEST_IRIS_...``) and a YAML file.

One root model with a section per part; each part defines its section model
in its own package and it is added here as a field. Values come, strongest
first, from explicit arguments, the environment (``PYTEST_IRIS_TRANSPORT__
RETENTION_S=60``), the YAML file, then the defaults. Loading validates
everything at once and fails with a :class:`~pytest_iris.errors.ConfigError`
that names the source and the field.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

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
_yaml_file_var: ContextVar[Path | None] = ContextVar("pytest_iris_settings_yaml")


class IrisSettings(BaseSettings):
    """All pytest-iris settings. Sections are added by the parts that own them."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    chaos: ChaosSettings = ChaosSettings()
    tools: ToolSettings = ToolSettings()
    transport: TransportSettings = TransportSettings()
    llm: LLMSettings = LLMSettings()
    logs: LogSettings = LogSettings()
    sandbox: SandboxSettings = SandboxSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = _yaml_file_var.get(None)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


def load_settings(
    yaml_file: str | os.PathLike[str] | None = None, **overrides: Any
) -> IrisSettings:
    """Load and validate settings; ``yaml_file`` defaults to ``$PYTEST_IRIS_CONFIG``."""
    path = yaml_file if yaml_file is not None else os.environ.get(ENV_FILE_VAR) or None
    if path is not None:
        if not Path(path).is_file():
            raise ConfigError(f"settings file {os.fspath(path)!r} does not exist")
        _check_yaml(Path(path))
    token = _yaml_file_var.set(Path(path) if path is not None else None)
    try:
        return IrisSettings(**overrides)
    except PydanticValidationError as error:
        where = (
            f"settings file {os.fspath(path)!r} or environment ({ENV_PREFIX}*)"
            if path
            else (f"environment ({ENV_PREFIX}*)")
        )
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in error.errors()
        )
        raise ConfigError(f"invalid pytest-iris settings from {where}: {details}") from error
    finally:
        _yaml_file_var.reset(token)


def _check_yaml(path: Path) -> None:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"settings file {str(path)!r} is not valid YAML: {error}") from error
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"settings file {str(path)!r} must hold a mapping at the top level")
