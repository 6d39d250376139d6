"""Seeds derived from a base seed and names, the same on every machine.

Python's ``hash()`` of a string changes from process to process
(``PYTHONHASHSEED``), so every derived seed goes through SHA-256 instead;
that is what makes a stream byte-identical across runs and xdist workers.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from ``parts`` (ints, strings ...), stable everywhere."""
    data = "\x1f".join(str(part) for part in parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big") >> 1


def derive_rng(*parts: object) -> random.Random:
    """A :class:`random.Random` seeded with :func:`derive_seed` of ``parts``."""
    return random.Random(derive_seed(*parts))
