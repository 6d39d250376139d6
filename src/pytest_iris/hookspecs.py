"""The extension points of pytest-iris: one hookspec module, pluggy-based.

pytest adds these specs through ``pytest_addhooks`` (see
:mod:`pytest_iris.plugins.chaos`), so any pytest plugin or ``conftest.py``
can implement them. Outside pytest, :class:`pytest_iris.registry.Registry`
uses its own ``pluggy.PluginManager("iris")`` with the same specs, loading
plugins from the ``pytest_iris`` entry-point group. The built-in templates,
sequences, transports, tools, scenarios and remediators are registered
through these very hooks (:mod:`pytest_iris.builtin_plugin`), the same way a
third party adds its own.

Every hook takes no arguments and returns what it adds; all results are
collected (later plugins may override a built-in name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pluggy

#: Marks the specs for pytest's plugin manager and for the ``iris`` one alike.
hookspec = pluggy.HookspecMarker("pytest")
#: Implementations may use this marker (or, in pytest, just the ``pytest_iris_`` name).
hookimpl = pluggy.HookimplMarker("pytest")


@hookspec
def pytest_iris_add_templates() -> Iterable[Any]:
    """Called once when the template catalog is first built.

    Return extra message templates for :mod:`pytest_iris.generation` (objects
    of the kind its catalog holds, or mappings with the same fields).
    """
    raise NotImplementedError


@hookspec
def pytest_iris_add_sequences() -> Mapping[str, Callable[..., Any]]:
    """Called once when a chaos scenario or a log stream first looks up a sequence.

    Return ``{name: render}`` where ``render(context, **params)`` returns the
    list of :class:`~pytest_iris.models.IRISMessage` the sequence writes; the
    context carries the install directory, instance name, PIDs by role and
    the shared-memory plan.
    """
    raise NotImplementedError


@hookspec
def pytest_iris_add_transports() -> Mapping[str, Callable[..., Any]]:
    """Called once when a scenario or fixture first resolves a transport by name.

    Return ``{name: factory}``; ``factory(**options)`` returns an object
    following :class:`~pytest_iris.transport.MessageTransport`.
    """
    raise NotImplementedError


@hookspec
def pytest_iris_add_tools() -> Mapping[str, Callable[..., Any]]:
    """Called once when the dispatcher of a chaos run is built.

    Return ``{tool name: factory}``; ``factory(host)`` returns a tool bound to
    the (sandbox) host that the dispatcher routes commands for that tool to.
    """
    raise NotImplementedError


@hookspec
def pytest_iris_add_scenarios() -> Iterable[str | Path]:
    """Called once when the scenario library is listed (CLI, collection).

    Return paths of chaos scenario YAML files (or directories holding
    ``iris_chaos_*.yaml``) to add to the library.
    """
    raise NotImplementedError


@hookspec
def pytest_iris_add_remediators() -> Mapping[str, Callable[..., Any]]:
    """Called once when a remediator is resolved by a short name.

    Return ``{name: remediator}``; a remediator is called with each message
    and a context and returns remediation commands (sync or async). Names
    given as ``module:callable`` bypass this hook.
    """
    raise NotImplementedError
