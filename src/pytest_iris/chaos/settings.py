"""The ``chaos`` section of :class:`~pytest_iris.settings.IrisSettings`.

``PYTEST_IRIS_CHAOS__REMEDIATOR=mypkg.agent:remediate`` or ``chaos: {remediator:
...}`` in the YAML settings file names the remediator ``pytest-iris chaos``
and the scenario items use when no option or ini key says otherwise.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ChaosSettings(BaseModel):
    """Defaults of chaos runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``module:callable`` or a registered name (``rules``, ``llm``)
    remediator: str = Field(default="rules", min_length=1)
