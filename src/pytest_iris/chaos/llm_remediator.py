"""An optional remediator that asks an LLM whether a message calls for remediation.

The model is a classifier, not an operator: for each warning or worse it
answers ``config``, ``os``, ``restart`` or ``none`` (one cheap call through
:class:`~pytest_iris.llm.generator.LLMGenerator`, cached, with provider
fallback and cassettes like every LLM call of pytest-iris). When it says a
remediation is needed and the rule-based classifier knows the incident, the
reference rules compute the exact commands (a model is not trusted with
kernel values). When the two disagree the disagreement is kept in
``context.memory["llm"]`` for the journal and nothing is done: acting on a
guess is how remediations break hosts.

Registered as ``llm`` (``--iris-remediator llm``); without an explicit
generator it is built from the ``llm`` section of the run's settings, which
the runner passes as ``settings=``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pytest_iris.chaos.remediator import RemediationContext
from pytest_iris.chaos.rules import RuleBasedRemediator, classify
from pytest_iris.errors import ConfigError
from pytest_iris.models import IRISMessage, RemediationCommand

if TYPE_CHECKING:
    from pytest_iris.settings import IrisSettings

#: the LLM's label each rule-based incident must agree with
_FAMILY = {
    "shared_memory": "os",
    "shared_memory_reduced": "os",
    "huge_pages": "os",
    "journal_space": "os",
    "lock_table": "config",
    "license": "config",
    "global_buffers": "config",
    "write_daemon": "restart",
}


class LLMRemediator:
    """``remediator(message, context)`` gated by an LLM classification."""

    def __init__(
        self,
        generator: Any = None,
        *,
        rules: RuleBasedRemediator | None = None,
        settings: IrisSettings | None = None,
    ) -> None:
        if generator is None:
            from pytest_iris.llm.generator import LLMGenerator
            from pytest_iris.llm.settings import LLMSettings

            llm = settings.llm if settings is not None else LLMSettings()
            generator = LLMGenerator.from_settings(llm)
            self._providers = tuple(llm.providers)
        else:
            self._providers = ()
        self.generator = generator
        self.rules = rules or RuleBasedRemediator()

    def preflight(self) -> None:
        """Before any scenario runs: some provider of the settings must have its API key."""
        if not self._providers:
            return  # a generator was given (a cassette's, a test's)
        problems = []
        for provider in self._providers:
            try:
                provider.api_key()
                return
            except ConfigError as error:
                problems.append(str(error))
        raise ConfigError(
            "no LLM provider is usable (set the key, or a keyless local provider in the llm "
            "settings): " + "; ".join(problems)
        )

    async def __call__(
        self, message: IRISMessage, context: RemediationContext
    ) -> list[RemediationCommand]:
        if message.severity < 1 and classify(message) is None:
            return []  # the ordinary traffic never reaches the model
        # on the generator's own event loop, where its HTTP client lives
        verdict = await asyncio.to_thread(self.generator.classify_sync, message)
        label = verdict.label
        incident = classify(message)
        seen: list[dict[str, Any]] = context.memory.setdefault("llm", [])
        seen.append(
            {
                "text": message.text,
                "label": label,
                "incident": incident,
                "provider": verdict.provider,
            }
        )
        if label == "none" or incident is None:
            return []
        if _FAMILY.get(incident) != label:
            seen[-1]["disagreement"] = f"model says {label}, rules say {incident}"
            return []
        return self.rules(message, context)
