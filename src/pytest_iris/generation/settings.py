"""Log generation defaults: the ``logs`` section of :class:`~pytest_iris.settings.IrisSettings`.

Set them in the YAML settings file (``logs: {seed: 7, rate: 0.1}``) or the
environment (``PYTEST_IRIS_LOGS__SEED=7``). ``--iris-seed`` and the ini key
``iris_seed`` win over ``seed`` here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LogSettings(BaseModel):
    """Base seed and stream defaults for the log fixtures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: base seed of the run (each test's seed is derived from it and its node id)
    seed: int | None = None
    #: mean noise entries per second of log time
    rate: float = Field(default=0.02, gt=0)
    #: 0 = steady clock, 1 = exponential (Poisson) gaps
    jitter: float = Field(default=0.8, ge=0, le=1)
    #: lines an ``iris_log`` holds when the marker does not say
    count: int = Field(default=1000, ge=0)
    #: instance name written into generated logs
    instance: str = Field(default="IRIS", min_length=1)
