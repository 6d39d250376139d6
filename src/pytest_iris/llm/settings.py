"""The ``llm`` section of :class:`pytest_iris.settings.IrisSettings`."""

from __future__ import annotations

from typing import Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from pytest_iris.llm.providers import Provider

RecordModeName = Literal["none", "once", "new_episodes", "all"]
RECORD_MODES: Final[tuple[str, ...]] = get_args(RecordModeName)
#: The command-line option and the ini key that choose the record mode.
OPTION: Final = "--iris-record-mode"
INI: Final = "iris_record_mode"


class LLMSettings(BaseModel):
    """Generator and cassette settings (env ``PYTEST_IRIS_LLM__...``, YAML ``llm:``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Tried in order; the next one answers on 429, 5xx, timeouts, connection errors.
    providers: tuple[Provider, ...] = (Provider(name="openai"),)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    #: Model for the cheaper classify call; ``None`` uses each provider's model.
    classify_model: str | None = None
    max_concurrency: int = Field(default=8, ge=1)
    max_attempts: int = Field(default=3, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)
    record_mode: RecordModeName = "none"
    cassette_dir: str = "cassettes"
