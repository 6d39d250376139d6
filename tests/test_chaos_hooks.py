"""The hook registry outside pytest: built-ins and third parties through the same hooks."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from pytest_iris import hookspecs
from pytest_iris.chaos.remediator import resolve_remediator
from pytest_iris.chaos.rules import RuleBasedRemediator
from pytest_iris.errors import ConfigError, ScenarioError
from pytest_iris.registry import IrisPluginManager, Registry
from pytest_iris.tracing import current_trace_id, trace

HOOKS = [name for name in dir(hookspecs) if name.startswith("pytest_iris_")]


def test_every_hook_says_when_it_is_called() -> None:
    assert sorted(HOOKS) == [
        "pytest_iris_add_remediators",
        "pytest_iris_add_scenarios",
        "pytest_iris_add_sequences",
        "pytest_iris_add_templates",
        "pytest_iris_add_tools",
        "pytest_iris_add_transports",
    ]
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert doc.startswith("Called "), name


def test_builtins_come_through_the_hooks() -> None:
    registry = Registry.standalone(entry_points=False)
    assert registry.remediators["rules"] is RuleBasedRemediator
    assert {"lock_table", "shm_failure", "write_daemon_death"} <= set(registry.sequences)
    assert "lock_table_full" in registry.scenario_paths
    assert {"http", "file"} <= set(registry.transports)


def test_builtin_tools_act_on_a_sandbox_host(tmp_path: Path) -> None:
    from pytest_iris.sandbox import SandboxHost
    from pytest_iris.tools.actions import declared_actions
    from pytest_iris.tools.dispatch import Dispatcher

    registry = Registry.standalone(entry_points=False)
    assert sorted(registry.tools) == ["cpf", "kernel", "restart"]
    assert all(declared_actions(factory) for factory in registry.tools.values())
    # the tools log; under trace() their events do not leave a trace id in this context
    with trace(), SandboxHost(tmp_path / "host", users=2) as host:
        dispatcher = Dispatcher.for_sandbox(host, tools=registry.tools)
        plan = dispatcher.dispatch_sync(
            {"tool": "kernel", "action": "plan", "parameters": {"shared_memory_mb": 100}}
        )
        assert plan.ok and plan.dry_run
        assert dispatcher.dispatch_sync({"tool": "cpf", "action": "show"}).ok
        refused = dispatcher.dispatch_sync({"tool": "restart", "action": "restart"})
        assert not refused.ok and "2 client connection" in refused.message
    assert current_trace_id() is None


class Acme:
    """A third-party plugin object (no pytest, no markers needed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def pytest_iris_add_sequences(self) -> dict[str, Any]:
        return {"lock_table": lambda context, **_: ["overridden"], "acme": lambda context: []}

    def pytest_iris_add_remediators(self) -> dict[str, Any]:
        return {"acme": lambda message, context: None}

    def pytest_iris_add_scenarios(self) -> list[Path]:
        return [self.directory]


def test_third_party_adds_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "iris_chaos_acme.yaml").write_text("name: acme\nfaults:\n  - lines: ['0 hello']\n")
    registry = Registry.standalone([Acme(tmp_path)], entry_points=False)
    assert registry.sequences["lock_table"](None) == ["overridden"]  # later plugins win
    assert "acme" in registry.sequences and "startup" in registry.sequences
    assert registry.scenario_paths["acme"] == tmp_path / "iris_chaos_acme.yaml"
    assert resolve_remediator("acme", registry)()(None, None) is None  # type: ignore[arg-type]


def test_two_scenarios_with_one_name_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "iris_chaos_copy.yaml").write_text(
        "name: lock_table_full\nfaults:\n  - lines: ['0 x']\n"
    )
    registry = Registry.standalone([Acme(tmp_path)], entry_points=False)
    with pytest.raises(ScenarioError, match="scenario name 'lock_table_full' is already used by"):
        _ = registry.scenario_paths


def test_remediator_specs() -> None:
    registry = Registry.standalone(entry_points=False)
    assert isinstance(resolve_remediator(None, registry)(), RuleBasedRemediator)
    make = resolve_remediator("pytest_iris.chaos.rules:RuleBasedRemediator", registry)
    assert make() is not make()  # a class is instantiated per run
    with pytest.raises(
        ConfigError,
        match=r"'nope' is neither 'module:callable' nor a registered name \(registered: llm, rules",
    ):
        resolve_remediator("nope", registry)
    with pytest.raises(ConfigError, match="has no 'missing'"):
        resolve_remediator("pytest_iris.chaos.rules:missing", registry)
    with pytest.raises(ConfigError, match="is not callable"):
        resolve_remediator("pytest_iris.chaos.rules:MIB", registry)


def test_plain_pluggy_manager_takes_unmarked_implementations() -> None:
    manager = IrisPluginManager()

    class Plugin:
        def pytest_iris_add_tools(self) -> dict[str, Any]:
            return {"noop": object}

    manager.register(Plugin())
    assert manager.hook.pytest_iris_add_tools() == [{"noop": object}]
