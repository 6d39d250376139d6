"""The built-in tools as the dispatcher runs them: each declares its actions and parameters.

``kernel``, ``restart`` and ``cpf`` are registered through the
``pytest_iris_add_tools`` hook by :mod:`pytest_iris.builtin_plugin`, the
same way a plugin's tool is: ``factory(host) -> tool``, where the tool has
an ``actions`` mapping (``{action: {parameter: (types...)}}``) and one
method per action. The dispatcher knows none of them by name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_iris.errors import ValidationError
from pytest_iris.host import Host
from pytest_iris.models import RemediationCommand, ToolResult
from pytest_iris.tools.settings import ToolSettings

if TYPE_CHECKING:
    from pytest_iris.tools.dispatch import Dispatcher

#: parameter name -> accepted types, for one action of a tool
Schema = Mapping[str, tuple[type, ...]]

_MEMORY: Schema = {
    "shared_memory_mb": (int,),
    "cpf": (str,),
    "huge_pages": (bool,),
    "instances": (int,),
    "margin_mb": (int,),
}


@dataclass(frozen=True)
class ToolCall:
    """What an action gets from the dispatcher besides its parameters (as ``call=``).

    ``settings`` are the dispatcher's tool settings with this command's dry
    run and every timeout cut to the command's budget; ``cancel`` is set when
    the budget ran out, so the action starts no further step.
    """

    dispatcher: Dispatcher
    command: RemediationCommand
    settings: ToolSettings
    cancel: threading.Event


def declared_actions(factory: Any) -> Mapping[str, Schema] | None:
    """The ``{action: schema}`` a tool factory (or the class it is) declares; None if none."""
    actions = getattr(factory, "actions", None)
    return actions if isinstance(actions, Mapping) else None


class KernelActions:
    """``kernel``: plan and apply the kernel settings a shared-memory plan needs."""

    actions: ClassVar[Mapping[str, Schema]] = {
        "plan": _MEMORY,
        "apply": {**_MEMORY, "persist": (str, bool)},
    }

    def __init__(self, host: Any) -> None:
        self.host = host

    def plan(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _kernel(call, params)

    def apply(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _kernel(call, params)


class RestartActions:
    """``restart``: stop, start or restart the instance (refusing while users are connected)."""

    actions: ClassVar[Mapping[str, Schema]] = {
        "restart": {"force": (bool,), "instance": (str,)},
        "stop": {"force": (bool,), "instance": (str,)},
        "start": {"instance": (str,)},
    }

    def __init__(self, host: Any) -> None:
        self.host = host

    def restart(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _restart(call, params)

    def stop(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _restart(call, params)

    def start(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _restart(call, params)


class CpfActions:
    """``cpf``: show, validate, set, merge or roll back the host's ``iris.cpf``."""

    actions: ClassVar[Mapping[str, Schema]] = {
        "show": {"path": (str,)},
        "validate": {"path": (str,)},
        "set": {"path": (str,), "changes": (dict,)},
        "merge": {"path": (str,), "merge_file": (str,)},
        "rollback": {"path": (str,), "backup": (str,)},
    }

    def __init__(self, host: Any) -> None:
        self.host = host

    def show(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _cpf(call, params)

    def validate(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _cpf(call, params)

    def set(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _cpf(call, params)

    def merge(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _cpf(call, params)

    def rollback(self, *, call: ToolCall, **params: Any) -> ToolResult:
        return _cpf(call, params)


#: the built-in tools as ``factory(host) -> tool`` (the ``pytest_iris_add_tools`` hook's form)
TOOL_FACTORIES: dict[str, Callable[[Any], Any]] = {
    "cpf": CpfActions,
    "kernel": KernelActions,
    "restart": RestartActions,
}


def _kernel(call: ToolCall, params: dict[str, Any]) -> ToolResult:
    from pytest_iris.tools.kernel import KernelTool

    d, command, settings = call.dispatcher, call.command, call.settings
    tool = KernelTool(d.host.proc, d.sysctl, d.host.env, settings=settings)
    tool.cancel = call.cancel
    state = tool.read()
    huge = params.get("huge_pages")
    # memlock (facts.md §3.8): huge pages are tried first unless disabled, so
    # they are "used" when required, or preferred and the host has a pool
    mode = "preferred"
    if "shared_memory_mb" in params:
        total: Any = params["shared_memory_mb"]
    else:
        from pytest_iris.tools.cpf import CpfFile, shared_memory_plan, uses_huge_pages

        cpf = CpfFile.read(params.get("cpf", d.host.cpf_path))
        total = shared_memory_plan(cpf, d.total_ram_mb or state.total_ram_mb)
        mode = uses_huge_pages(cpf)
    if huge is None:
        huge = mode == "required" or (mode == "preferred" and state.nr_hugepages > 0)
    plan = tool.plan(
        total,
        huge_pages=bool(huge),
        instances=params.get("instances", 1),
        margin_mb=params.get("margin_mb"),
        state=state,
    )
    persist = params.get("persist")
    if persist is True:
        persist = d.confine(settings.sysctl_d_file, parameter="persist")
    elif persist is False:
        persist = None
    dry = command.dry_run or command.action == "plan"
    result = tool.apply(plan, dry_run=dry, persist=persist)
    return result.model_copy(update={"action": command.action})


def _restart(call: ToolCall, params: dict[str, Any]) -> ToolResult:
    from pytest_iris.tools.restart import RestartTool

    d, command = call.dispatcher, call.command
    tool = RestartTool(
        params.get("instance"),
        d.iris_cmd,
        procfs_path=d.host.proc,
        host_root=d.host.root,
        env=d.host.env,
        settings=call.settings,
        refresh=d.refresh,
    )
    tool.cancel = call.cancel
    force = bool(params.get("force", False))
    if command.action == "start":
        return tool.start(dry_run=command.dry_run)
    if command.action == "stop":
        return tool.stop(force=force, dry_run=command.dry_run)
    return tool.restart(force=force, dry_run=command.dry_run)


def _cpf(call: ToolCall, params: dict[str, Any]) -> ToolResult:
    from pytest_iris.tools.cpf import CpfTool

    d, command = call.dispatcher, call.command
    target = d.target
    tool = CpfTool(
        params.get("path", d.host.cpf_path),
        total_ram_mb=d.total_ram_mb,
        now=target.now if isinstance(target, Host) else None,  # the host's clock names backups
    )
    apply = not command.dry_run
    if command.action == "show":
        return tool.show()
    if command.action == "validate":
        return tool.validate()
    if command.action == "set":
        return tool.set(params.get("changes", {}), apply=apply)
    if command.action == "merge":
        if "merge_file" not in params:
            raise ValidationError("cpf merge: parameter 'merge_file' is required")
        return tool.merge(params["merge_file"], apply=apply)
    return tool.rollback(apply=apply, backup=params.get("backup"))
