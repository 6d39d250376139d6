"""The remediator under test: how it is named, what it receives, what it may answer.

A remediator is any callable ``remediator(message, context)`` where
``message`` is an :class:`~pytest_iris.models.IRISMessage` and ``context`` a
:class:`RemediationContext`. It answers with nothing, one
:class:`~pytest_iris.models.RemediationCommand` (or a dict of its fields),
an iterable of them, or an awaitable / async iterator of the same: sync and
async code are both welcome. It may also call the tools itself through
``context.dispatch(command)``. A class is instantiated once per scenario run,
so it may keep state; a class whose constructor takes a ``settings`` keyword
gets the run's :class:`~pytest_iris.settings.IrisSettings`. It is named ``module:callable`` or by a short name
registered through the ``pytest_iris_add_remediators`` hook (``rules``, the
default, is the built-in reference).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from pytest_iris.errors import ConfigError, ValidationError
from pytest_iris.models import IRISMessage, RemediationCommand, ToolResult

if TYPE_CHECKING:
    from pytest_iris.host import Host
    from pytest_iris.memory import SharedMemoryPlan
    from pytest_iris.settings import IrisSettings

Remediator = Callable[[IRISMessage, "RemediationContext"], Any]


class RemediatorNames(Protocol):
    """Where registered remediator names resolve: a :class:`~pytest_iris.registry.Registry`."""

    @property
    def remediators(self) -> Mapping[str, Callable[..., Any]]: ...


DEFAULT_REMEDIATOR = "rules"


@dataclass
class RemediationContext:
    """What a remediator may look at: the host it remediates and what happened so far.

    ``host`` is the sandbox host (its ``cpf_path``, ``procfs_root``...),
    ``history`` every message delivered so far, ``results`` every tool result
    so far, ``memory`` a dict the remediator may keep state in.
    """

    host: Host
    instance: str
    dispatch: Callable[[RemediationCommand], Awaitable[ToolResult]]
    history: list[IRISMessage] = field(default_factory=list)
    results: list[ToolResult] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)

    @property
    def cpf_path(self) -> Path:
        return Path(self.host.cpf_path)

    @property
    def procfs_root(self) -> Path:
        return Path(self.host.proc)

    def cpf_value(self, section: str, key: str) -> str | None:
        """A value of the host's ``iris.cpf`` as it is now (None when absent)."""
        from pytest_iris.tools.cpf import CpfFile

        return CpfFile.read(self.cpf_path).get(section, key)

    def shared_memory_plan(self) -> SharedMemoryPlan:
        """What IRIS would allocate at its next start with the CPF as it is now."""
        from pytest_iris.tools.cpf import CpfFile, shared_memory_plan

        return shared_memory_plan(CpfFile.read(self.cpf_path), self.host.total_ram_mb)


def resolve_remediator(
    spec: str | None,
    registry: RemediatorNames | None = None,
    *,
    settings: IrisSettings | None = None,
) -> Callable[[], Remediator]:
    """A factory for the remediator named ``spec`` (``module:callable`` or a registered name).

    A class that takes a ``settings`` keyword is given ``settings``. Errors
    name the spec and what is wrong with it.
    """
    spec = (spec or DEFAULT_REMEDIATOR).strip()
    if ":" in spec:
        module_name, _, attribute = spec.partition(":")
        try:
            module = import_module(module_name)
        except ImportError as error:
            raise ConfigError(
                f"remediator {spec!r}: cannot import {module_name!r}: {error}"
            ) from error
        target: Any = module
        for part in attribute.split("."):
            if not part or not hasattr(target, part):
                raise ConfigError(f"remediator {spec!r}: {module_name!r} has no {attribute!r}")
            target = getattr(target, part)
    else:
        if registry is None:  # the registry imports the built-ins, which import this module
            raise ConfigError(
                f"remediator {spec!r} is a registered name: resolve it with a registry "
                "(pytest_iris.registry.Registry.standalone()) or give module:callable"
            )
        known = registry.remediators
        if spec not in known:
            raise ConfigError(
                f"remediator {spec!r} is neither 'module:callable' nor a registered name "
                f"(registered: {', '.join(sorted(known)) or 'none'})"
            )
        target = known[spec]
    if not callable(target):
        raise ConfigError(f"remediator {spec!r} is not callable")
    if inspect.isclass(target):
        if settings is not None and _takes_settings(target):
            builder: Callable[..., Any] = target
            factory: Any = functools.partial(builder, settings=settings)
            return cast("Callable[[], Remediator]", factory)
        return cast("Callable[[], Remediator]", target)
    remediator: Remediator = target
    return lambda: remediator


def import_module(name: str) -> Any:
    """Import a remediator's module as ``python -m`` would: the current directory comes first.

    ``pytest-iris chaos`` and pytest resolve ``module:callable`` this one way,
    whatever pytest's rootdir or import mode put on ``sys.path``.
    """
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)


def preflight(
    spec: str | None,
    registry: RemediatorNames | None = None,
    *,
    settings: IrisSettings | None = None,
) -> str:
    """Resolve and build the remediator once before any host is built; returns its spec.

    A remediator that cannot be imported, built, or lacks what it needs (an
    object's ``preflight()`` method raises, e.g. the LLM one without an API
    key) raises :class:`~pytest_iris.errors.ConfigError` here, so that a run
    stops at its start instead of failing every scenario.
    """
    spec = (spec or DEFAULT_REMEDIATOR).strip()
    factory = resolve_remediator(spec, registry, settings=settings)
    try:
        remediator = factory()
        check = getattr(remediator, "preflight", None)
        if callable(check):
            check()
    except ConfigError as error:
        raise ConfigError(f"remediator {spec!r}: {error}") from error
    except Exception as error:  # the user's constructor may raise anything
        raise ConfigError(
            f"remediator {spec!r} could not be built: {type(error).__name__}: {error}"
        ) from error
    return spec


def instantiate(remediator: Any, settings: IrisSettings | None = None) -> Remediator:
    """The remediator object to run: a class is built once per run, as ``module:Class`` is.

    A test may hand ``iris_chaos.run()`` the class itself, as docs/chaos.md's
    "function or class" promises; calling the class with each message would
    build a new object per message and fail on its constructor's signature.
    """
    if not inspect.isclass(remediator):
        return cast("Remediator", remediator)
    build: Callable[..., Any] = remediator
    if settings is not None and _takes_settings(remediator):
        return cast("Remediator", build(settings=settings))
    return cast("Remediator", build())


def _takes_settings(cls: type) -> bool:
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return "settings" in parameters


def remediator_name(remediator: object) -> str:
    """``module:qualname`` of a remediator object (of its class for an instance)."""
    target = (
        remediator
        if inspect.isfunction(remediator) or inspect.isclass(remediator)
        else type(remediator)
    )
    module = getattr(target, "__module__", None) or "?"
    return f"{module}:{getattr(target, '__qualname__', type(target).__name__)}"


async def ask(
    remediator: Remediator, message: IRISMessage, context: RemediationContext
) -> list[RemediationCommand]:
    """Call the remediator on one message and normalise its answer to commands."""
    answer = remediator(message, context)
    if inspect.isawaitable(answer):
        answer = await answer
    commands: list[RemediationCommand] = []
    if answer is None:
        return commands
    if isinstance(answer, AsyncIterable):
        items: list[Any] = [item async for item in answer]
    elif isinstance(answer, RemediationCommand | dict):
        items = [answer]
    elif isinstance(answer, Iterable) and not isinstance(answer, str | bytes):
        items = list(answer)
    else:
        raise ValidationError(
            f"remediator answered {type(answer).__name__}; expected None, a RemediationCommand, "
            "a dict of its fields, or an iterable of them"
        )
    for item in items:
        if isinstance(item, RemediationCommand):
            commands.append(item)
        elif isinstance(item, dict):
            commands.append(RemediationCommand.model_validate(item))
        else:
            raise ValidationError(
                f"remediator answered an item of type {type(item).__name__}; "
                "expected a RemediationCommand or a dict"
            )
    return commands
