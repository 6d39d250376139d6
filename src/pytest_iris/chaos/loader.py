"""Read scenario YAML; every error names the file, the line and the field.

PyYAML's composed node tree keeps a mark (line, column) for every key and
value; a pydantic error location (``("faults", 2, "kernel")``) is walked
down that tree to the deepest node that exists, whose line is reported.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml
from pydantic import ValidationError as PydanticValidationError

from pytest_iris import _yaml
from pytest_iris.chaos.schema import Scenario
from pytest_iris.chaos.validate import Names
from pytest_iris.errors import ScenarioError

#: What pytest collects and the library holds: ``iris_chaos_<anything>.yaml``.
FILE_PREFIX = "iris_chaos_"
FILE_SUFFIXES = (".yaml", ".yml")


def is_scenario_file(path: Path) -> bool:
    return path.name.startswith(FILE_PREFIX) and path.suffix in FILE_SUFFIXES


def load_scenario(path: str | os.PathLike[str], registry: Names | None = None) -> Scenario:
    """Load and validate one scenario file.

    With ``registry``, what the scenario names (sequences and their
    parameters, tools) must be registered too, each error with its line.
    """
    source = Path(path)
    try:
        stat = source.stat()
        key = (str(source), stat.st_mtime_ns, stat.st_size)
        cached = _LOADED.get(key)
        text = cached[1] if cached is not None else source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{source}: cannot read scenario file: {error}") from error
    if cached is None:
        cached = _LOADED[key] = (load_scenario_text(text, str(source)), text)
    if registry is not None:
        _check_names(cached[0], registry, text, str(source))
    return cached[0]


#: scenarios already parsed in this process, by (path, mtime, size), with their text: a
#: scenario is frozen, and a worker otherwise parses each file again per lookup and item
_LOADED: dict[tuple[str, int, int], tuple[Scenario, str]] = {}


def load_scenario_text(
    text: str, source: str = "<scenario>", registry: Names | None = None
) -> Scenario:
    """Validate scenario YAML held in a string; ``source`` names it in errors."""
    # bounded loader: anchors/aliases, !!python tags and huge trees refused before any walk
    try:
        root = _yaml.compose(text, source)
    except _yaml.YamlInputError as error:
        raise ScenarioError(str(error)) from None
    if root is None:
        raise ScenarioError(f"{source}:1: empty scenario file")
    _check_duplicates(root, source)
    try:
        data = _yaml.construct(root, source)
    except _yaml.YamlInputError as error:
        raise ScenarioError(str(error)) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}:{root.start_mark.line + 1}: a scenario is a mapping "
            f"(name, host, steady_state, faults, expect, rollbacks)"
        )
    try:
        scenario = Scenario.model_validate(data)
    except PydanticValidationError as error:
        raise ScenarioError(_describe(error, root, source)) from error
    if registry is not None:
        _check_names(scenario, registry, text, source)
    return scenario


def _check_names(scenario: Scenario, registry: Names, text: str, source: str) -> None:
    """What the scenario names must be registered; each problem with its line."""
    from pytest_iris.chaos.validate import scenario_problems

    problems = scenario_problems(scenario, registry)
    if not problems:
        return
    root = _yaml.compose(text, source)  # parsed before: only lines are wanted now
    raise ScenarioError(
        _invalid(
            f"{source}:{line_of(root, loc) if root is not None else 1}: "
            f"{_field_path(loc)}: {message}"
            for loc, message in problems
        )
    )


def _invalid(problems: Iterable[str]) -> str:
    """One line: each problem as ``file:line: field: what``, several joined by ``; ``."""
    return "invalid scenario: " + "; ".join(problems)


def line_of(root: yaml.Node, loc: Sequence[str | int]) -> int:
    """The 1-based line of the deepest node along ``loc`` (keys or list indexes)."""
    node = root
    line = root.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if _kind(node) == "mapping":
            for key, value in node.value:
                if _kind(key) == "scalar" and key.value == str(part):
                    line = key.start_mark.line + 1
                    child = value
                    break
        elif _kind(node) == "sequence" and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _describe(error: PydanticValidationError, root: yaml.Node, source: str) -> str:
    problems = []
    for item in error.errors():
        loc = [p for p in item["loc"] if not _is_union_tag(p)]
        field = _field_path(loc) or "(top level)"
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "missing":
            message = f"required field {loc[-1]!r} is missing"
        elif item["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{source}:{line_of(root, loc)}: {field}: {message}")
    return _invalid(problems)


def _is_union_tag(part: str | int) -> bool:
    """pydantic adds member names (``int``, ``str``, ``Bound``) to union locations."""
    return isinstance(part, str) and (
        part in {"int", "str", "float", "bool"} or part[:1].isupper() or "[" in part
    )


def _field_path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_duplicates(node: yaml.Node, source: str) -> None:
    """PyYAML keeps the last of two equal keys silently; a scenario must not."""
    if _kind(node) == "mapping":
        seen: dict[str, int] = {}
        for key, value in node.value:
            if _kind(key) == "scalar":
                line = key.start_mark.line + 1
                if key.value in seen:
                    raise ScenarioError(
                        f"{source}:{line}: key {key.value!r} repeats the one "
                        f"on line {seen[key.value]}"
                    )
                seen[key.value] = line
            _check_duplicates(value, source)
    elif _kind(node) == "sequence":
        for item in node.value:
            _check_duplicates(item, source)


def _kind(node: yaml.Node) -> str:
    """``scalar``, ``sequence`` or ``mapping``: PyYAML's own node id, not an isinstance test.

    A node composed by a ``yaml`` module imported again (pytester's in-process
    runs drop modules first imported during a run, but the ``pytest_iris``
    package keeps its attribute to the old ``_yaml``) is an instance of the
    old classes; the id is the same in both.
    """
    return str(getattr(node, "id", ""))


def scenario_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and directories (their ``iris_chaos_*.yaml``) in a stable order."""
    out: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if is_scenario_file(p))
        elif path.is_file():
            out.append(path)
        else:
            raise ScenarioError(f"{path}: no such scenario file or directory")
    return out
