"""OpenAI-compatible providers and the chain the generator falls back along.

A provider is only an address, a model and the *name* of the environment
variable holding its key: keys never live in settings files or cassettes.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

from pytest_iris.errors import ConfigError

#: Key sent when a provider needs none (local servers, replay from a cassette).
NO_KEY = "not-needed"


class Provider(BaseModel):
    """One OpenAI-compatible endpoint: base URL, model, key environment variable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    #: Environment variable holding the API key; ``None`` for keyless local servers.
    api_key_env: str | None = "OPENAI_API_KEY"

    def api_key(self, *, required: bool = True) -> str:
        """The key from the environment; a :class:`ConfigError` naming the variable if unset."""
        if self.api_key_env is None:
            return NO_KEY
        key = os.environ.get(self.api_key_env, "")
        if key:
            return key
        if required:
            raise ConfigError(
                f"provider {self.name!r} ({self.base_url}) needs an API key in the environment "
                f"variable {self.api_key_env}, which is not set"
            )
        return NO_KEY
