"""Tool defaults: the ``tools`` section of :class:`~pytest_iris.settings.IrisSettings`.

Set them in the YAML settings file (``tools: {budget_s: 30}``) or the
environment (``PYTEST_IRIS_TOOLS__BUDGET_S=30``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ToolSettings(BaseModel):
    """Timeouts, margins and the dry-run default shared by the remediation tools."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: tools plan and report only, unless a call or command asks to apply
    dry_run: bool = True
    #: the dispatcher's time budget for one command, seconds
    budget_s: float = Field(default=60.0, gt=0)
    #: kernel.shmmax is set to the shared memory total plus this margin (MB)
    shmmax_margin_mb: int = Field(default=16, ge=0)
    #: extra huge pages beyond the shared memory total ("a cushion")
    hugepages_margin: int = Field(default=1, ge=1)
    #: kernel tool escalation: ``never``; ``auto`` retries a refused ``sysctl -w``
    #: with ``sudo -n`` (never prompts); ``always`` runs it through ``sudo -n``
    sudo: Literal["never", "auto", "always"] = "never"
    #: one run of ``sysctl``
    sysctl_timeout_s: float = Field(default=10.0, gt=0)
    #: default file ``kernel apply --persist`` writes, relative to the host root
    sysctl_d_file: str = "/etc/sysctl.d/99-intersystems-iris.conf"
    #: one ``iris qlist`` (finding the instance's directory), seconds
    query_timeout_s: float = Field(default=10.0, gt=0)
    #: ``iris stop`` until the processes are gone, seconds
    stop_timeout_s: float = Field(default=25.0, gt=0)
    #: ``iris start`` until the instance runs and messages.log confirms, seconds
    start_timeout_s: float = Field(default=30.0, gt=0)
    #: how often the restart tool looks at processes and messages.log, seconds
    poll_interval_s: float = Field(default=0.1, gt=0)
    superserver_port: int = Field(default=1972, ge=1, le=65535)
    web_port: int = Field(default=52773, ge=1, le=65535)
    #: minimum level of the JSON events pytest-iris writes to stderr
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
