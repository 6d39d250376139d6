"""LLM-written IRIS log streams, recorded and replayed with vcrpy cassettes.

Import the pieces from their modules (``pytest_iris.llm.generator`` ...) or
through :mod:`pytest_iris`; importing this package loads neither openai nor
vcrpy.
"""

from __future__ import annotations

from pytest_iris._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "LLMGenerator": "pytest_iris.llm.generator",
    "Generation": "pytest_iris.llm.results",
    "Classification": "pytest_iris.llm.results",
    "Provider": "pytest_iris.llm.providers",
    "LLMSettings": "pytest_iris.llm.settings",
    "CassetteSession": "pytest_iris.llm.cassette",
    "ReplayTransport": "pytest_iris.llm.replay",
    "cassette_path": "pytest_iris.llm.cassette",
    "IrisOpenAIServer": "pytest_iris.llm.server",
    "scan_paths": "pytest_iris.llm.scan",
    "INCIDENTS": "pytest_iris.llm.prompts",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
