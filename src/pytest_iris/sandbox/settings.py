"""Sandbox defaults: the ``sandbox`` section of :class:`~pytest_iris.settings.IrisSettings`.

The starting state every ``iris_sandbox`` / ``iris_live_sandbox`` host gets
unless its test's ``@pytest.mark.iris_host(...)`` says otherwise. Set them in
the YAML settings file (``sandbox: {total_ram_mb: 65536}``) or the
environment (``PYTEST_IRIS_SANDBOX__USER=irisowner``). The instance name and
the base seed are the top-level ``instance`` and ``seed`` settings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pytest_iris import defaults


class SandboxSettings(BaseModel):
    """Host defaults for the sandbox fixtures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: physical memory (meminfo MemTotal; IRIS's automatic globals are 25 % of it)
    total_ram_mb: int = Field(default=defaults.TOTAL_RAM_MB, ge=512)
    #: the user code runs as on the host: ``root`` or a login such as ``irisowner``
    user: str = Field(default="root", min_length=1)
    #: whether that user's ``sudo`` works: ``nopasswd``, ``password`` (fails
    #: non-interactively) or ``denied`` (not in sudoers)
    sudo: Literal["nopasswd", "password", "denied"] = "nopasswd"
