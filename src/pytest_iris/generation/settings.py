"""Log generation defaults: the ``logs`` section of :class:`~pytest_iris.settings.IrisSettings`.

Set them in the YAML settings file (``logs: {rate: 0.1}``) or the
environment (``PYTEST_IRIS_LOGS__RATE=0.1``). The base seed and the instance
name are the top-level ``seed`` and ``instance`` settings, shared with the
sandbox.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LogSettings(BaseModel):
    """Stream defaults for the log fixtures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: mean noise entries per second of log time
    rate: float = Field(default=0.02, gt=0)
    #: 0 = steady clock, 1 = exponential (Poisson) gaps
    jitter: float = Field(default=0.8, ge=0, le=1)
    #: lines an ``iris_log`` holds when the marker does not say
    count: int = Field(default=1000, ge=0)
