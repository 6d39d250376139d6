"""No module of pytest-iris imports a module that imports it back.

The imports are read with :mod:`ast` from ``src/pytest_iris``, so the test
sees every module, imported by the suite or not. A module-level import
(outside functions and ``if TYPE_CHECKING:``) runs when the module loads;
a cycle of those is an order-dependent failure waiting for the day someone
imports the other module first, and the sign of one concern split across
two modules. Imports inside functions (lazy, for start-up cost) count too:
a lazy cycle is the same split concern, only deferred to the first call.
Imports under ``if TYPE_CHECKING:`` are left out: they never run, and
annotations may name a module that imports this one. A package's
``__init__`` importing its own submodules is the ordinary way to build a
package and is not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).parents[1] / "src"
PACKAGE = "pytest_iris"


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, lazy: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run at load time (and, with ``lazy``, those inside functions)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for n in node.orelse if isinstance(n, ast.Import | ast.ImportFrom))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            if lazy:
                yield from (n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
        else:
            yield from _imports(node, lazy=lazy)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The project modules an import statement loads (the deepest that exists)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")
            is_package = MODULES[module].name == "__init__.py"
            anchor = package if is_package else package[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        names = [f"{base}.{alias.name}" for alias in node.names] or [base]
        names = [name if name in MODULES else base for name in names]
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith(PACKAGE) and name != module:
            yield name


def graph(*, lazy: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found = {t for node in _imports(tree, lazy=lazy) for t in _targets(module, node)}
        if path.name == "__init__.py":  # a package may import its own submodules
            found = {t for t in found if not t.startswith(module + ".")}
        edges[module] = found
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_module_level_imports() -> None:
    assert cycles(graph(lazy=False)) == []


def test_no_cycle_through_function_level_imports() -> None:
    found = cycles(graph(lazy=True))
    assert found == [], "import cycles (lazy imports included):\n" + "\n".join(
        " <-> ".join(component) for component in found
    )


def test_the_walker_finds_a_cycle_and_its_members() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_walker_reads_every_kind_of_import() -> None:
    edges = graph(lazy=False)
    assert "pytest_iris.errors" in edges["pytest_iris.registry"]  # from x import y
    assert "pytest_iris.hookspecs" in edges["pytest_iris.registry"]  # from package import module
    assert "pytest_iris.settings" not in edges["pytest_iris.chaos.runner"]  # TYPE_CHECKING only
    lazy = graph(lazy=True)
    assert "pytest_iris.settings" in lazy["pytest_iris.chaos.runner"]  # inside a function
    assert "pytest_iris.registry" not in lazy["pytest_iris.generation.sequences"]  # TYPE_CHECKING


def test_a_lazy_import_closes_a_cycle(tmp_path: Path) -> None:
    """The walker reads a module tree from disk: a cycle made only by a function-level import."""
    package = tmp_path / "demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("def f():\n    from demo import high\n")
    (package / "high.py").write_text("from demo import low\n")
    (package / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from demo import high\n"
    )
    modules = {f"demo.{p.stem}": p for p in package.glob("*.py") if p.stem != "__init__"}
    edges = {
        name: {
            t
            for node in _imports(ast.parse(path.read_text()), lazy=True)
            for t in (
                [f"{node.module}.{a.name}" for a in node.names]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            if t in modules
        }
        for name, path in modules.items()
    }
    assert cycles(edges) == [["demo.high", "demo.low"]]
    assert edges["demo.typed"] == set()
