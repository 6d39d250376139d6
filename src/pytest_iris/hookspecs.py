"""The extension points of pytest-iris: one hookspec module, pluggy-based.

pytest adds these specs through ``pytest_addhooks`` (see
:mod:`pytest_iris.plugins.core`), so any pytest plugin or ``conftest.py``
can implement them. Outside pytest, :class:`pytest_iris.registry.Registry`
uses its own ``pluggy.PluginManager("iris")`` with the same specs, loading
plugins from the ``pytest_iris`` entry-point group. The built-in templates,
sequences, transports, tools, scenarios and remediators are registered
through these very hooks (:mod:`pytest_iris.builtin_plugin`), the same way a
third party adds its own, and every consumer finds them through the
registry (tests/test_hooks.py shows each hook's addition working wherever
the built-ins do).

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
    """Called once when the template catalog is first built (``Registry.catalog``).

    Return extra message templates for :mod:`pytest_iris.generation` (objects
    of the kind its catalog holds, or mappings with the same fields); with a
    ``weight`` they appear in the background noise of every generated log.
    """
    raise NotImplementedError


@hookspec
def pytest_iris_add_sequences() -> Mapping[str, Callable[..., Any]]:
    """Called once when a chaos scenario, a log stream or ``iris_log`` first looks up a sequence.

    Return ``{name: render}`` where ``render(context, **params)`` returns the
    list of :class:`~pytest_iris.models.IRISMessage` the sequence writes, the
    first at ``context.start``; the context carries the install directory,
    instance name, PIDs by role and the shared-memory plan. Its keyword
    parameters (with defaults) are what ``"name:key=value"`` may set.
    """
    raise NotImplementedError


@hookspec
def pytest_iris_add_transports() -> Mapping[str, Callable[..., Any]]:
    """Called once when a transport is first resolved by name (``transport.kind``).

    Return ``{name: factory}``; ``factory(settings, **options)`` gets the
    ``transport`` settings section and what the caller knows (``url=``,
    ``outbox_dir=``; accept ``**options``) and returns an object following
    :class:`~pytest_iris.transport.MessageTransport`.
    """
    raise NotImplementedError


@hookspec
def pytest_iris_add_tools() -> Mapping[str, Callable[..., Any]]:
    """Called once when a dispatcher is built (``iris_dispatcher``, chaos runs, the CLI).

    Return ``{tool name: factory}``; ``factory(host)`` returns a tool bound to
    the host, whose method named by a command's ``action`` the dispatcher
    calls (given ``dry_run`` or ``apply``, and ``call``, when it takes them)
    and which returns a :class:`~pytest_iris.models.ToolResult`. Declare
    ``actions = {action: {parameter: (types...)}}`` on the factory or tool
    class so the dispatcher rejects a wrong command before anything runs.
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
