"""Exponential backoff with jitter, from a :class:`RetryPolicy`."""

from __future__ import annotations

import random

from pytest_iris.transport.settings import RetryPolicy


class Backoff:
    """Delays for successive retries; one instance per transport (holds the RNG)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._rng = random.Random(policy.seed)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        policy = self.policy
        ceiling = min(
            policy.max_delay_s, policy.base_delay_s * policy.multiplier ** min(attempt, 64)
        )
        return ceiling * (1.0 - policy.jitter * self._rng.random())
