"""Every seed pytest-iris derives: from a base seed and names, the same on every machine.

Python's ``hash()`` of a string changes from process to process
(``PYTHONHASHSEED``), so every derived seed goes through SHA-256 instead;
that is what makes a stream, a host and an endpoint's fault draws
byte-identical across runs and xdist workers. :func:`seed_for` is the one
way a test's seed for a given purpose is made.
"""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from ``parts`` (ints, strings ...), stable everywhere."""
    data = "\x1f".join(str(part) for part in parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big") >> 1


def derive_rng(*parts: object) -> random.Random:
    """A :class:`random.Random` seeded with :func:`derive_seed` of ``parts``."""
    return random.Random(derive_seed(*parts))


def seed_for(config_or_base_seed: pytest.Config | int, nodeid: str, purpose: str) -> int:
    """The seed of one test for one ``purpose`` (``"test"``, ``"sandbox"``, ``"endpoint"`` ...).

    ``config_or_base_seed`` is the run's base seed, or a pytest config whose
    base seed (``--iris-seed`` > ini ``iris_seed`` > ``PYTEST_IRIS_SEED`` >
    settings file ``seed`` > 0) is used. Different purposes give unrelated
    seeds, so a host and a log of the same test do not draw the same numbers.
    """
    if isinstance(config_or_base_seed, int):
        base = config_or_base_seed
    else:
        from pytest_iris._stash import base_seed

        base = base_seed(config_or_base_seed)
    return derive_seed(base, purpose, nodeid)
