"""The property-based search as pytest items, one per seed range (``pytest-iris chaos --explore -n``).

Each item ``test_explore_shard[k]`` runs its share of the examples with seed
``seed * 1_000_003 + k``, so items are independent: pytest-xdist spreads them
over cores, and a sharding plugin (pytest-shard ``--shard-id/--num-shards``,
pytest-split ``--splits/--group``) over CI machines by test id. Configured by
the JSON in ``PYTEST_IRIS_EXPLORE`` (see :func:`pytest_iris.cli._explore.shard_config`):
``examples``, ``shards``, ``seed``, ``remediator``, ``out``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ENV = "PYTEST_IRIS_EXPLORE"


def _config() -> dict[str, Any]:
    raw = os.environ.get(ENV)
    if not raw:
        return {"examples": 0, "shards": 0}
    config: dict[str, Any] = json.loads(raw)
    return config


_CONFIG = _config()


@pytest.mark.parametrize("shard", range(int(_CONFIG.get("shards", 0))))
def test_explore_shard(shard: int) -> None:
    from pytest_iris import logging as iris_logging
    from pytest_iris.chaos.explore import explore

    iris_logging.configure(level="critical")
    total, shards = int(_CONFIG["examples"]), int(_CONFIG["shards"])
    share = total // shards + (1 if shard < total % shards else 0)
    done = explore(
        share,
        str(_CONFIG["remediator"]),
        out=Path(str(_CONFIG["out"])),
        seed=int(_CONFIG.get("seed", 0)) * 1_000_003 + shard,
    )
    if done.found:
        pytest.fail(
            "\n".join(
                f"{found.path}:\n" + "\n".join(f"  - {p}" for p in found.problems)
                for found in done.found
            ),
            pytrace=False,
        )
