"""What the generator returns, and what it counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_iris.llm import prompts
from pytest_iris.log.grammar import format_message
from pytest_iris.log.model import IRISMessage


@dataclass(frozen=True, slots=True)
class Generation:
    """Valid messages for one incident and how they were obtained."""

    incident: str
    messages: tuple[IRISMessage, ...]
    #: Name of the provider that answered, and its model.
    provider: str
    model: str
    attempts: int
    #: Raw answer of every attempt, in order.
    answers: tuple[str, ...]
    #: Invalid lines dropped from the final answer (empty when it was all valid).
    rejected: tuple[str, ...] = ()
    #: ``"name: reason"`` for every provider that failed before ``provider`` answered.
    fallbacks: tuple[str, ...] = ()
    cached: bool = False

    @property
    def text(self) -> str:
        """The messages as messages.log text, one entry per line group, final newline."""
        return "".join(format_message(m) + "\n" for m in self.messages)


@dataclass(frozen=True, slots=True)
class Classification:
    """The remediation an entry calls for: ``config``, ``os``, ``restart`` or ``none``."""

    label: prompts.Label
    provider: str
    model: str
    answer: str
    attempts: int
    fallbacks: tuple[str, ...] = ()
    cached: bool = False


@dataclass(slots=True)
class Stats:
    """What the generator did: HTTP calls, cache hits, the peak of concurrent calls."""

    requests: int = 0
    cache_hits: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    by_provider: dict[str, int] = field(default_factory=dict)
