"""A scenario model as YAML that loads back into an equal model (what the search writes).

Kept apart from :mod:`pytest_iris.chaos.explore` so that the strategies and the
invariant checks, which the search itself imports, can use it without a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from pytest_iris.chaos.schema import Scenario

#: the tag a scenario file carries when its test item must also keep the invariants
INVARIANTS_TAG = "invariants"


def scenario_yaml(scenario: Scenario, comments: Sequence[str] = ()) -> str:
    """``scenario`` as YAML that loads back into an equal :class:`Scenario`."""
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("name", scenario.name)
    data["faults"] = [f.model_dump(mode="json", exclude_defaults=True) for f in scenario.faults]
    head = "".join(f"# {line}\n" for text in comments for line in text.splitlines())
    return head + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
