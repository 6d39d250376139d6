"""The chaos part's modules never import a module that imports them back (lazy imports count)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest_iris

SRC = Path(pytest_iris.__file__).parent
PACKAGE = "pytest_iris"


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = (PACKAGE, *path.relative_to(SRC).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module ``path`` imports anywhere (top level, functions, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in modules}


def _cycle_through(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start -> ... -> start, if there is one."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        for dep in sorted(graph[name]):
            if dep == start:
                return [*path, start]
            if dep not in seen:
                seen.add(dep)
                stack.append((dep, [*path, dep]))
    return None


def test_no_chaos_module_imports_a_module_that_imports_it_back() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    chaos = sorted(name for name in modules if name.startswith("pytest_iris.chaos"))
    assert "pytest_iris.chaos.runner" in chaos and "pytest_iris.chaos.delivery" in chaos
    cycles = [c for c in (_cycle_through(name, graph) for name in chaos) if c]
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_delivery_paths_do_not_reach_into_the_runner() -> None:
    modules = _modules()
    for name in ("_file", "_http", "delivery", "paths", "checks"):
        source = modules[f"pytest_iris.chaos.{name}"].read_text(encoding="utf-8")
        assert "pytest_iris.chaos.runner" not in _imports(
            modules[f"pytest_iris.chaos.{name}"], modules
        )
        assert "runner._" not in source and "ScenarioRunner" not in source, name
