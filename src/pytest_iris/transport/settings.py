"""The ``transport`` section of :class:`~pytest_iris.settings.IrisSettings`.

YAML (``transport: {kind: http, endpoint_url: ..., retry: {attempts: 5}}``)
or environment (``PYTEST_IRIS_TRANSPORT__RETENTION_S=3600``,
``PYTEST_IRIS_TRANSPORT__RETRY__ATTEMPTS=5``). Everything is checked when the
settings load, so a typo fails at start-up, not at the first failed publish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class RetryPolicy(BaseModel):
    """How often and how patiently a request is retried before the outbox takes over.

    Attempt ``n`` (0-based) waits ``min(max_delay_s, base_delay_s * multiplier**n)``
    scaled by a random factor in ``[1 - jitter, 1]`` ("equal jitter" for 0.5).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: requests per publish, counting the first (1: no retry)
    attempts: int = Field(default=4, ge=1, le=100)
    base_delay_s: float = Field(default=0.05, gt=0, le=60)
    max_delay_s: float = Field(default=2.0, gt=0, le=3600)
    multiplier: float = Field(default=2.0, ge=1, le=10)
    #: fraction of each delay drawn at random, 0 (none) to 1 (full jitter)
    jitter: float = Field(default=0.5, ge=0, le=1)
    #: seed for the jitter draws; None draws from the OS
    seed: int | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RetryPolicy:
        if self.max_delay_s < self.base_delay_s:
            raise ValueError(
                f"max_delay_s ({self.max_delay_s}) must be >= base_delay_s ({self.base_delay_s})"
            )
        return self


class TransportSettings(BaseModel):
    """Which transport to use and how it delivers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``http``, ``file`` or the name of a transport a plugin registers
    #: (``pytest_iris_add_transports``); checked when the transport is built
    kind: str = Field(default="http", min_length=1)
    #: base URL of the receiver (``kind: http``); the fixtures use the mock endpoint
    endpoint_url: str | None = None
    #: messages file (``kind: file``)
    file_path: Path | None = None
    #: ``iris``: messages.log lines; ``jsonl``: one JSON envelope per line
    file_format: Literal["iris", "jsonl"] = "iris"
    #: JSON Lines file of remediation commands the file transport consumes
    commands_path: Path | None = None
    #: where undeliverable messages wait (``kind: http``)
    outbox_dir: Path = Path(".pytest-iris/outbox")
    #: how long an undeliverable message is kept before it is dropped (24 h)
    retention_s: float = Field(default=86_400.0, gt=0)
    #: per request: connect, read, write and pool timeouts
    timeout_s: float = Field(default=5.0, gt=0, le=600)
    #: messages per POST: 1 sends single POSTs, more coalesces concurrent publishes
    batch_size: int = Field(default=1, ge=1, le=10_000)
    #: how long a batch waits to fill, seconds (0: only what is already waiting)
    linger_s: float = Field(default=0.0, ge=0, le=10)
    #: concurrent requests; httpx's pool slows down past a few (bench/publish.py)
    max_in_flight: int = Field(default=4, ge=1, le=1000)
    #: seconds between polls of ``GET /commands`` or of a growing commands file
    poll_interval_s: float = Field(default=0.2, gt=0, le=3600)
    retry: RetryPolicy = RetryPolicy()
    #: name of the environment variable that holds the receiver's credential; the value
    #: is read when the transport opens and never stored (settings, outbox, logs)
    auth_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    #: the header that carries it
    auth_header: str = Field(default="Authorization", pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
    #: what goes before the value ("Bearer" -> "Bearer <value>"); "" sends the value alone
    auth_scheme: str = Field(default="Bearer", pattern=r"^[A-Za-z0-9._~+/-]*$")

    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"endpoint_url {value!r} must be an http:// or https:// URL with a host"
            )
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as error:
            raise ValueError(f"endpoint_url {value!r} has a bad port: {error}") from None
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> TransportSettings:
        if self.kind == "file" and self.file_path is None:
            raise ValueError("kind 'file' needs file_path (the messages file to append to)")
        return self
