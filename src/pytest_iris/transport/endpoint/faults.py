"""Faults a :class:`~pytest_iris.transport.MockEndpoint` injects, set from any thread.

Each request asks :meth:`Faults.decide` what to do, in this order: refuse
while down, add latency, fail the next N, drop the next N connections, fail
a random fraction (seeded), and, after storing the payload, lose a random
fraction of the replies (the client retries what the endpoint already has,
which exercises duplicate dropping).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from pytest_iris.errors import ConfigError

#: keyword arguments :meth:`Faults.configure` and the marker accept
FAULT_OPTIONS = (
    "fail_next",
    "status",
    "latency",
    "drop_next",
    "down_for",
    "fail_fraction",
    "lose_fraction",
    "seed",
)


#: documented maximums (docs/limits.md; invented, far beyond what a test needs): a typo
#: such as latency=1e9 fails at once instead of hanging the test's client
MAX_COUNT = 1_000_000  # fail_next, drop_next: requests
MAX_LATENCY_S = 3600.0  # latency: an hour per request
MAX_DOWN_S = 7 * 86_400.0  # down_for: a week


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{name}={value!r}: expected a whole number of requests")
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r}: expected a whole number of requests") from None
    if not 0 <= count <= MAX_COUNT:
        raise ConfigError(f"{name}={value!r}: allowed 0..{MAX_COUNT} requests")
    return count


def _seconds(name: str, value: Any, maximum: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r}: expected a number of seconds") from None
    if not 0 <= seconds <= maximum:  # NaN fails both comparisons
        raise ConfigError(f"{name}={value!r}: allowed 0..{maximum:g} seconds")
    return seconds


@dataclass(frozen=True)
class Decision:
    """What to do with one request before handling it."""

    delay_s: float = 0.0
    #: answer with this status instead of handling the request
    status: int | None = None
    #: close the connection without a reply
    drop: bool = False


class Faults:
    """The fault plan of one endpoint; every method is thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._latency = 0.0
        self._fail_next = 0
        self._fail_status = 503
        self._drop_next = 0
        self._down_until = 0.0
        self._fail_fraction = 0.0
        self._fraction_status = 503
        self._lose_fraction = 0.0
        #: counts of injected faults by kind, for assertions and reports
        self.injected: dict[str, int] = {}

    # -- configuration ---------------------------------------------------------

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` without handling them."""
        _check_status(status)
        count = _count("fail_next", count)
        with self._lock:
            self._fail_next, self._fail_status = count, status

    def set_latency(self, seconds: float) -> None:
        """Delay every request by ``seconds`` before handling it."""
        seconds = _seconds("latency", seconds, MAX_LATENCY_S)
        with self._lock:
            self._latency = seconds

    def drop_next(self, count: int) -> None:
        """Close the connection of the next ``count`` requests without a reply."""
        count = _count("drop_next", count)
        with self._lock:
            self._drop_next = count

    def down_for(self, seconds: float) -> None:
        """Refuse every connection and request for ``seconds`` from now."""
        seconds = _seconds("down_for", seconds, MAX_DOWN_S)
        with self._lock:
            self._down_until = time.monotonic() + seconds

    def fail_fraction(self, fraction: float, status: int = 503, seed: int | None = None) -> None:
        """Fail each request with probability ``fraction`` (seeded, reproducible)."""
        _check_fraction("fail_fraction", fraction)
        _check_status(status)
        with self._lock:
            self._fail_fraction, self._fraction_status = fraction, status
            if seed is not None:
                self._rng.seed(seed)

    def lose_fraction(self, fraction: float) -> None:
        """Store the payload but drop the reply with probability ``fraction``."""
        _check_fraction("lose_fraction", fraction)
        with self._lock:
            self._lose_fraction = fraction

    def configure(self, **options: Any) -> None:
        """Set several faults at once (the marker's keywords); unknown names are errors."""
        unknown = sorted(set(options) - set(FAULT_OPTIONS))
        if unknown:
            raise ConfigError(
                f"unknown endpoint fault(s) {', '.join(unknown)}; known: {', '.join(FAULT_OPTIONS)}"
            )
        status = options.get("status", 503)
        try:
            status = int(status)
        except (TypeError, ValueError):
            raise ConfigError(
                f"status={status!r}: expected an HTTP error status (400-599)"
            ) from None
        seed = options.get("seed")
        if seed is not None:
            with self._lock:
                self._rng.seed(int(seed))
        if "fail_next" in options:
            self.fail_next(_count("fail_next", options["fail_next"]), status)
        if "latency" in options:
            self.set_latency(_seconds("latency", options["latency"], MAX_LATENCY_S))
        if "drop_next" in options:
            self.drop_next(_count("drop_next", options["drop_next"]))
        if "down_for" in options:
            self.down_for(_seconds("down_for", options["down_for"], MAX_DOWN_S))
        if "fail_fraction" in options:
            self.fail_fraction(_fraction("fail_fraction", options["fail_fraction"]), status)
        if "lose_fraction" in options:
            self.lose_fraction(_fraction("lose_fraction", options["lose_fraction"]))

    def clear(self) -> None:
        """Remove every fault (counts of injected faults are kept)."""
        with self._lock:
            self._latency = 0.0
            self._fail_next = self._drop_next = 0
            self._down_until = 0.0
            self._fail_fraction = self._lose_fraction = 0.0

    # -- decisions -------------------------------------------------------------

    @property
    def down(self) -> bool:
        with self._lock:
            return time.monotonic() < self._down_until

    def admit(self) -> bool:
        """Whether a new connection is accepted (False while down)."""
        if self.down:
            self._count("refused")
            return False
        return True

    def decide(self) -> Decision:
        """The fault, if any, for the request being handled now."""
        with self._lock:
            if time.monotonic() < self._down_until:
                return self._counted(Decision(drop=True), "refused")
            delay = self._latency
            if self._fail_next > 0:
                self._fail_next -= 1
                return self._counted(Decision(delay, status=self._fail_status), "failed")
            if self._drop_next > 0:
                self._drop_next -= 1
                return self._counted(Decision(delay, drop=True), "dropped")
            if self._fail_fraction and self._rng.random() < self._fail_fraction:
                return self._counted(Decision(delay, status=self._fraction_status), "failed")
            return Decision(delay)

    def lose_reply(self) -> bool:
        """Whether to drop the reply of a request that was already handled."""
        with self._lock:
            if self._lose_fraction and self._rng.random() < self._lose_fraction:
                self.injected["lost"] = self.injected.get("lost", 0) + 1
                return True
            return False

    def _counted(self, decision: Decision, kind: str) -> Decision:
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return decision

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] = self.injected.get(kind, 0) + 1


def _check_status(status: int) -> None:
    if not 400 <= status <= 599:
        raise ConfigError(f"fault status must be an HTTP error (400-599), got {status}")


def _fraction(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r}: expected a number between 0 and 1") from None


def _check_fraction(name: str, fraction: float) -> None:
    if not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"{name} must be between 0 and 1, got {fraction}")
