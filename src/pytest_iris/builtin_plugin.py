"""The built-in plugin: pytest-iris's own parts registered through its own hooks.

Third-party plugins implement the same ``pytest_iris_*`` functions. Every
part loads inside the hook call, so registering this module costs nothing
at pytest start-up.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

#: Where the built-in scenario library lives (package data).
SCENARIO_DIR = Path(__file__).parent / "chaos" / "scenarios"


def _optional(module: str) -> Any:
    """A part that may not be installed in this build: None when absent."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def pytest_iris_add_scenarios() -> Iterable[str | Path]:
    return [SCENARIO_DIR]


def pytest_iris_add_remediators() -> Mapping[str, Callable[..., Any]]:
    from pytest_iris.chaos.rules import RuleBasedRemediator

    out: dict[str, Callable[..., Any]] = {"rules": RuleBasedRemediator}
    llm = _optional("pytest_iris.chaos.llm_remediator")
    if llm is not None:
        out["llm"] = llm.LLMRemediator
    return out


def pytest_iris_add_sequences() -> Mapping[str, Callable[..., Any]]:
    generation = _optional("pytest_iris.generation")
    names = getattr(generation, "sequence_names", None)
    render = getattr(generation, "render_sequence", None)
    if names is None or render is None:
        return {}
    return {name: functools.partial(render, name) for name in names()}


def pytest_iris_add_transports() -> Mapping[str, Callable[..., Any]]:
    transport = _optional("pytest_iris.transport")
    out: dict[str, Callable[..., Any]] = {}
    for name, attribute in (("file", "FileTransport"), ("http", "HttpTransport")):
        factory = getattr(transport, attribute, None)
        if factory is not None:
            out[name] = factory
    return out


def pytest_iris_add_tools() -> Mapping[str, Callable[..., Any]]:
    """The three tools, as the dispatcher builds them for a (sandbox) host.

    The same factory objects the dispatcher has: a dispatcher given these
    keeps its built-in routes; only a plugin's own factories replace them.
    """
    from pytest_iris.tools.dispatch import TOOL_FACTORIES

    return dict(TOOL_FACTORIES)


def pytest_iris_add_templates() -> Iterable[Any]:
    # the catalog shipped with pytest_iris.generation is the base every extra
    # template is added to (Catalog.extended), so there is nothing extra here
    return ()
