"""What a scenario names must exist: its sequences, their parameters, its tools, its transport.

The schema checks a scenario's shape; these checks need the registry (a
plugin may add sequences and tools), so they run when the scenario is
loaded for a run, before any host is built. Each problem carries the
location of the field, which the loader turns into ``file:line``.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any, Protocol, Union, get_args, get_origin

from pytest_iris.chaos.schema import Fault, Scenario

#: (location in the scenario, problem)
Problem = tuple[tuple[str | int, ...], str]

_SIMPLE = {"int": int, "bool": bool, "str": str, "float": float}


class Names(Protocol):
    """What a scenario's names are checked against: a :class:`~pytest_iris.registry.Registry`."""

    @property
    def sequences(self) -> Mapping[str, Callable[..., Any]]: ...

    @property
    def tools(self) -> Mapping[str, Callable[..., Any]]: ...

    @property
    def transports(self) -> Mapping[str, Callable[..., Any]]: ...


def sequence_parameters(render: Callable[..., Any]) -> dict[str, inspect.Parameter] | None:
    """The keyword parameters a registered sequence takes (None: it takes any)."""
    function: Any = render
    if isinstance(render, functools.partial) and render.args:
        # a built-in: partial(render_sequence, name); its module is loaded (no import here:
        # the generation part reaches the registry, which reaches this module)
        module = sys.modules.get(getattr(render.func, "__module__", ""))
        table = getattr(module, "SEQUENCES", None)
        known = table.get(str(render.args[0])) if isinstance(table, dict) else None
        if known is not None and getattr(render.func, "__name__", "") == "render_sequence":
            function = known.function
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {
        p.name: p
        for p in params[1:]  # the first is the context (or the builder)
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }


def describe_parameters(params: Mapping[str, inspect.Parameter]) -> str:
    """``peak: int = 97, recover: bool = True`` (``none`` when there are none)."""
    out = []
    for p in params.values():
        kind = _type_name(p.annotation)
        default = "" if p.default is inspect.Parameter.empty else f" = {p.default!r}"
        out.append(f"{p.name}{': ' + kind if kind else ''}{default}")
    return ", ".join(out) or "none"


def _type_name(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")


def _accepts(annotation: Any, value: Any) -> bool:
    """Whether ``value`` fits a simple annotation (unknown annotations accept anything)."""
    if annotation is inspect.Parameter.empty:
        return True
    if isinstance(annotation, str):
        names = [part.strip() for part in annotation.split("|")]
        if value is None:
            return "None" in names
        types_ = [_SIMPLE.get(name) for name in names if name != "None"]
        if any(t is None for t in types_):
            return True  # an annotation this check does not know
        return any(_is(value, t) for t in types_ if t is not None)
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_accepts(arg, value) for arg in get_args(annotation))
    if annotation is type(None):
        return value is None
    if isinstance(annotation, type):
        return _is(value, annotation)
    return True


def _is(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)


def fault_problems(
    fault: Fault, where: tuple[str | int, ...], sequences: Mapping[str, Callable[..., Any]]
) -> list[Problem]:
    if fault.sequence is None:
        return []
    render = sequences.get(fault.sequence)
    if render is None:
        known = ", ".join(sorted(sequences)) or "none"
        return [
            (
                (*where, "sequence"),
                f"unknown log sequence {fault.sequence!r} (registered: {known})",
            )
        ]
    params = sequence_parameters(render)
    if params is None:
        return []
    out: list[Problem] = []
    takes = describe_parameters(params)
    for name, value in fault.params.items():
        if name not in params:
            out.append(
                (
                    (*where, "params", name),
                    f"sequence {fault.sequence!r} has no parameter {name!r}; it takes: {takes}",
                )
            )
        elif not _accepts(params[name].annotation, value):
            out.append(
                (
                    (*where, "params", name),
                    f"{value!r} is not a valid {name} for sequence {fault.sequence!r} "
                    f"(expected {_type_name(params[name].annotation)}); it takes: {takes}",
                )
            )
        else:
            bound = _bound_problem(fault.sequence, name, value, params[name].default)
            if bound is not None:
                out.append(((*where, "params", name), bound))
    return out


def _bound_problem(sequence: str, name: str, value: Any, default: Any) -> str | None:
    """The documented maximum a parameter exceeds (``times: 1e9``), or a newline it holds."""
    from pytest_iris._limits import check_sequence_params
    from pytest_iris.errors import ConfigError

    if default is inspect.Parameter.empty:
        default = None
    try:
        check_sequence_params(sequence, {name: value}, {name: default})
    except ConfigError as error:
        return str(error)
    return None


@functools.cache
def _shipped_keys() -> dict[str, frozenset[str]]:
    """Keys by section (casefolded) of the real iris.cpf the sandbox host starts from."""
    from pytest_iris.sandbox.layout import shipped_cpf
    from pytest_iris.tools.cpf.document import CpfFile

    cpf = CpfFile.parse(shipped_cpf())
    return {
        section.casefold(): frozenset(key.casefold() for key, _ in cpf.items(section))
        for section in cpf.sections()
    }


def cpf_problems(
    values: Mapping[str, Mapping[str, Any]], where: tuple[str | int, ...]
) -> list[Problem]:
    """CPF values a scenario sets (host state or a fault) that no real IRIS would hold.

    A catalogued parameter must pass its documented rule (``locksiz: abc`` is
    not an integer). In a section that holds catalogued parameters
    (``[config]``, ``[Startup]``, ``[ECP]``), a key must be catalogued or be in
    the real iris.cpf the sandbox ships, so that a typo (``globalz``) is an
    error rather than a setting nothing reads; other sections (databases,
    namespaces, mappings) take any key, as real ones do.
    """
    from pytest_iris.errors import ValidationError
    from pytest_iris.tools.cpf.catalog import PARAMETERS, check, lookup, normalize

    guarded = {p.section.casefold() for p in PARAMETERS}
    out: list[Problem] = []
    for section, keys in values.items():
        folded = section.casefold()
        real = _shipped_keys().get(folded, frozenset())
        for key, value in keys.items():
            at = (*where, section, key)
            parameter = lookup(section, key)
            if parameter is not None:
                try:
                    check(parameter, normalize(parameter, value))
                except ValidationError as error:
                    out.append((at, str(error)))
            elif folded in guarded and key.casefold() not in real:
                known = ", ".join(p.name for p in PARAMETERS if p.section.casefold() == folded)
                out.append(
                    (
                        at,
                        f"unknown CPF parameter [{section}]{key}: not a catalogued parameter "
                        f"({known}) nor a key of [{section}] in the real iris.cpf the sandbox "
                        "starts from (src/pytest_iris/sandbox/data/iris.cpf)",
                    )
                )
    return out


def scenario_problems(scenario: Scenario, registry: Names) -> list[Problem]:
    """Everything the scenario names that the registry does not know, with its location."""
    sequences: Mapping[str, Callable[..., Any]] = registry.sequences
    out: list[Problem] = cpf_problems(scenario.host.cpf, ("host", "cpf"))
    for field in ("faults", "rollbacks"):
        for n, fault in enumerate(getattr(scenario, field)):
            if fault.cpf:
                out += cpf_problems(fault.cpf, (field, n, "cpf"))
    for field in ("faults", "rollbacks"):
        for n, fault in enumerate(getattr(scenario, field)):
            out += fault_problems(fault, (field, n), sequences)
    transports = registry.transports
    if scenario.transport != "direct" and scenario.transport not in transports:
        known = ", ".join(["direct", *sorted(transports)])
        out.append(
            (
                ("transport",),
                f"unknown transport {scenario.transport!r} (registered: {known}; plugins add "
                "transports through the pytest_iris_add_transports hook)",
            )
        )
    tools = registry.tools
    for field in ("tool_calls", "no_tool_calls"):
        for n, call in enumerate(getattr(scenario.expect, field)):
            if call.tool not in tools:
                out.append(
                    (
                        ("expect", field, n, "tool"),
                        f"unknown tool {call.tool!r} (registered: {', '.join(sorted(tools))})",
                    )
                )
    return out
