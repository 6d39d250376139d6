"""What the hooks registered: sequences, templates, scenarios, remediators, tools, transports.

The one way every consumer finds a part, built-in or a plugin's: the log
generator and ``@pytest.mark.iris_log`` (sequences, templates), the chaos
runner (sequences, tools, remediators, scenarios), the dispatcher (tools),
the transport fixtures (transports). In pytest the hooks are pytest's own
(:meth:`Registry.from_pytest`); anywhere else :meth:`Registry.standalone`
builds a ``pluggy.PluginManager("iris")`` with the same specs, the
built-ins, and the plugins of the ``pytest_iris`` entry-point group. Each
hook is called once and its merged answer cached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from pytest_iris import hookspecs
from pytest_iris.errors import ConfigError, ScenarioError

if TYPE_CHECKING:
    from pytest_iris.generation.catalog import Catalog

#: Entry-point group of pytest-iris plugins used outside pytest.
ENTRY_POINT_GROUP = "pytest_iris"
_PREFIX = "pytest_iris_"


class IrisPluginManager(pluggy.PluginManager):
    """A plugin manager for the ``pytest_iris_*`` hooks, usable without pytest.

    Like pytest's, it takes any ``pytest_iris_*`` function as an
    implementation, marked or not, so one plugin module serves both.
    """

    def __init__(self) -> None:
        super().__init__("iris")
        self.add_hookspecs(hookspecs)

    def parse_hookspec_opts(self, module_or_class: Any, name: str) -> Any:
        opts = super().parse_hookspec_opts(module_or_class, name)
        if opts is None and name.startswith(_PREFIX):
            opts = getattr(getattr(module_or_class, name), "pytest_spec", None)
        return opts

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if not name.startswith(_PREFIX):
            return None
        method = getattr(plugin, name, None)
        if not callable(method):
            return None
        opts = getattr(method, "pytest_impl", None)
        return dict(opts) if opts is not None else {}


def _merge(answers: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """pluggy lists the last registered plugin first: merge so later plugins win."""
    merged: dict[str, Any] = {}
    for answer in reversed(list(answers)):
        if answer:
            merged.update(answer)
    return merged


class Registry:
    """The merged answers of the ``pytest_iris_*`` hooks of one plugin manager."""

    def __init__(self, hook: Any) -> None:
        self._hook = hook

    @classmethod
    def standalone(cls, plugins: Iterable[object] = (), *, entry_points: bool = True) -> Registry:
        """A registry outside pytest: built-ins, entry-point plugins, then ``plugins``."""
        from pytest_iris import builtin_plugin as builtins

        manager = IrisPluginManager()
        manager.register(builtins, "pytest_iris.builtins")
        if entry_points:
            manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for plugin in plugins:
            manager.register(plugin)
        return cls(manager.hook)

    @classmethod
    def default(cls) -> Registry:
        """The standalone registry of this process (built-ins and entry-point plugins), made once."""
        return _default()

    @classmethod
    def from_pytest(cls, config: Any) -> Registry:
        """The registry of a pytest session (built-ins registered by the core plugin)."""
        registry: Registry | None = getattr(config, "_pytest_iris_registry", None)
        if registry is None:
            registry = cls(config.pluginmanager.hook)
            config._pytest_iris_registry = registry
        return registry

    @functools.cached_property
    def sequences(self) -> dict[str, Callable[..., Any]]:
        return _merge(self._hook.pytest_iris_add_sequences())

    @functools.cached_property
    def transports(self) -> dict[str, Callable[..., Any]]:
        return _merge(self._hook.pytest_iris_add_transports())

    @functools.cached_property
    def tools(self) -> dict[str, Callable[..., Any]]:
        return _merge(self._hook.pytest_iris_add_tools())

    @functools.cached_property
    def remediators(self) -> dict[str, Callable[..., Any]]:
        return _merge(self._hook.pytest_iris_add_remediators())

    @functools.cached_property
    def templates(self) -> list[Any]:
        out: list[Any] = []
        for answer in reversed(self._hook.pytest_iris_add_templates()):
            out.extend(answer or ())
        return out

    @functools.cached_property
    def catalog(self) -> Catalog:
        """The generator's template catalog with every template the hooks added."""
        from pytest_iris.generation.catalog import load_catalog

        base = load_catalog()
        return base.extended(self.templates) if self.templates else base

    def transport(self, name: str, *args: Any, **options: Any) -> Any:
        """A transport built by the factory registered as ``name``; errors list the known ones."""
        factory = self.transports.get(name)
        if factory is None:
            raise ConfigError(
                f"unknown transport {name!r} (registered: {', '.join(sorted(self.transports))}; "
                "plugins add transports through the pytest_iris_add_transports hook)"
            )
        return factory(*args, **options)

    @functools.cached_property
    def scenario_paths(self) -> dict[str, Path]:
        """Scenario name -> file, over every registered file or directory."""
        from pytest_iris.chaos.loader import load_scenario, scenario_files

        paths: list[str | Path] = []
        for answer in reversed(self._hook.pytest_iris_add_scenarios()):
            paths.extend(answer or ())
        out: dict[str, Path] = {}
        for path in scenario_files(paths):
            name = load_scenario(path).name
            if name in out and out[name] != path:
                raise ScenarioError(
                    f"{path}: scenario name {name!r} is already used by {out[name]}"
                )
            out[name] = path
        return out


@functools.cache
def _default() -> Registry:
    return Registry.standalone()
