"""The dispatcher: a :class:`~pytest_iris.models.RemediationCommand` in, a ToolResult out.

It validates the command (tool, action, parameter names and types, and
every path, which must stay inside the host's root), runs the tool under a
time budget (``asyncio.wait_for``, 60 s by default) and always answers with
a ``ToolResult``: a command it does not understand, a refused privilege or a
blown budget is a failure result, never an exception. The command's trace
id (or the current one, or a new one) is set for the whole call, so every
event the tools log and the result carry it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import threading
import time
import types
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_iris.errors import CommandPrivilegeError, InstanceError, ToolError, ValidationError
from pytest_iris.host import Host, command_environment
from pytest_iris.logging import get_logger
from pytest_iris.models import RemediationCommand, ToolResult
from pytest_iris.tools._workers import in_worker
from pytest_iris.tools.actions import ToolCall, declared_actions
from pytest_iris.tools.results import failure_result
from pytest_iris.tools.settings import ToolSettings
from pytest_iris.tracing import current_trace_id, new_trace_id, trace

_log = get_logger("pytest_iris.tools.dispatch")

#: parameters that name files: confined to the host root
PATH_PARAMETERS = frozenset({"cpf", "persist", "path", "merge_file", "backup"})


@dataclass(frozen=True)
class HostPaths:
    """Where a host keeps what the tools act on, all under one root.

    The attribute names are a ``SandboxHost``'s, so a tool factory
    (``factory(host) -> tool``) takes either.
    """

    root: Path
    proc: Path
    cpf_path: Path
    env: dict[str, str] | None = None
    refresh: Callable[[], object] | None = None


#: what a tool factory is given: a host, or the paths of a host root
ToolHost = Host | HostPaths


class Dispatcher:
    """Routes remediation commands to the tools of one host: the registry's, built-in or a plugin's.

    ``tools`` is ``{name: factory(host) -> tool}`` (default: the standalone
    registry's, :meth:`Registry.default`); the built-ins are registered like
    a plugin's tools, so nothing here knows a tool by name. A tool declares its
    actions and their parameters in ``actions`` (``{action: {parameter:
    (types...)}}``), which the dispatcher checks before it runs anything; a
    tool without the declaration has its parameters bound to its method's
    signature. An action is the tool's method of that name; it is given
    ``dry_run`` (or ``apply``) and ``call`` (a :class:`ToolCall`) when its
    signature takes them.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] = "/",
        *,
        env: Mapping[str, str] | None = None,
        settings: ToolSettings | None = None,
        procfs_root: str | os.PathLike[str] | None = None,
        cpf_path: str | os.PathLike[str] | None = None,
        sysctl: str = "sysctl",
        iris_cmd: str = "iris",
        total_ram_mb: int | None = None,
        refresh: Callable[[], object] | None = None,
        tools: Mapping[str, Callable[[Any], Any]] | None = None,
        host: Host | None = None,
    ) -> None:
        base = Path(os.path.realpath(root))
        if env is None and base != Path("/"):
            # another root's commands are its own bin/: never the real host's
            # sysctl or iris acting on the real kernel and instances instead
            env = {**os.environ, "PATH": str(base / "bin")}
        self.settings = settings or ToolSettings()
        self.host = HostPaths(
            root=base,
            proc=Path(procfs_root) if procfs_root is not None else base / "proc",
            cpf_path=Path(cpf_path) if cpf_path is not None else base / "usr/irissys/iris.cpf",
            env=dict(env) if env is not None else None,
            refresh=refresh,
        )
        self.sysctl = sysctl
        self.iris_cmd = iris_cmd
        self.total_ram_mb = total_ram_mb
        #: rebuilds a procfs view before the restart tool looks (live sandbox)
        self.refresh = refresh
        if tools is None:
            from pytest_iris.registry import Registry

            tools = Registry.default().tools
        #: name -> factory(host) -> tool
        self.tools: dict[str, Callable[[Any], Any]] = dict(tools)
        #: what a tool factory is given: the sandbox host, or the paths of this root
        self.target: ToolHost = host if host is not None else self.host
        #: (settings, dry run, budget) -> a command's tool settings (frozen models: reusable)
        self._call_settings: dict[tuple[int, bool, float], tuple[ToolSettings, ToolSettings]] = {}

    @classmethod
    def for_sandbox(cls, host: Host, **kwargs: Any) -> Dispatcher:
        """A dispatcher acting on a :class:`pytest_iris.host.Host` (fake or live sandbox)."""
        kwargs.setdefault("refresh", host.refresh_procfs)
        kwargs.setdefault("host", host)
        return cls(host.root, env=host.env, procfs_root=host.proc, cpf_path=host.cpf_path, **kwargs)

    @classmethod
    def for_root(cls, root: str | os.PathLike[str] = "/", **kwargs: Any) -> Dispatcher:
        """A dispatcher for a host root given on the command line (a sandbox's gets its env).

        ``/`` is the real host (real ``sysctl`` and ``iris`` on PATH). Any other
        root must bring its own commands in ``ROOT/bin`` (a sandbox does): the
        real host's commands would act on the real kernel and instances, not on
        ``ROOT``, so unless an ``env`` is given the PATH holds nothing else and
        the tools fail with "command not found" instead.
        """
        base = Path(os.path.realpath(root))
        if base != Path("/") and (base / ".sandbox").is_dir():
            kwargs.setdefault("env", command_environment(base))
        return cls(base, **kwargs)

    # -- validation --------------------------------------------------------

    def confine(self, value: str, *, parameter: str) -> Path:
        """``value`` as a path inside the host root (absolute paths are taken from the root).

        Symlinks are followed before the check, so a link pointing out of the
        root is refused like ``..`` is.
        """
        if not value or "\x00" in value:
            raise ValidationError(f"parameter {parameter!r}: {value!r} is not a path")
        inside = Path(value)
        if inside.is_absolute():
            inside = inside.relative_to(inside.anchor)
        candidate = Path(os.path.realpath(self.host.root / inside))
        if not candidate.is_relative_to(self.host.root):
            raise ValidationError(
                f"parameter {parameter!r}: path {value!r} leaves the host root {self.host.root}"
            )
        return candidate

    def validate(self, command: RemediationCommand) -> dict[str, Any]:
        """The command's parameters, checked against what the tool declares, paths confined.

        A tool without ``actions`` checks its own parameters (they are bound
        to its method's signature); paths are confined all the same.
        """
        factory = self.tools.get(command.tool)
        if factory is None:
            raise ValidationError(
                f"unknown tool {command.tool!r} (known: {', '.join(sorted(self.tools))}; plugins "
                "add tools through the pytest_iris_add_tools hook)"
            )
        if command.action.startswith("_"):
            raise ValidationError(f"tool {command.tool!r} has no action {command.action!r}")
        declared = declared_actions(factory)
        if declared is None:
            return {
                name: self.confine(value, parameter=name)
                if name in PATH_PARAMETERS and isinstance(value, str)
                else value
                for name, value in command.parameters.items()
            }
        schema = declared.get(command.action)
        if schema is None:
            raise ValidationError(
                f"tool {command.tool!r} has no action {command.action!r} "
                f"(known: {', '.join(sorted(declared))})"
            )
        params: dict[str, Any] = {}
        for name, value in command.parameters.items():
            types = schema.get(name)
            if types is None:
                raise ValidationError(
                    f"{command.tool} {command.action}: unknown parameter {name!r} "
                    f"(accepted: {', '.join(sorted(schema)) or 'none'})"
                )
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                wanted = " or ".join(t.__name__ for t in types)
                raise ValidationError(
                    f"{command.tool} {command.action}: parameter {name!r} must be {wanted}, "
                    f"got {value!r}"
                )
            if name in PATH_PARAMETERS and isinstance(value, str):
                value = self.confine(value, parameter=name)
            params[name] = value
        return params

    # -- dispatching -------------------------------------------------------

    async def dispatch(
        self, command: RemediationCommand | Mapping[str, Any], *, budget_s: float | None = None
    ) -> ToolResult:
        """Validate and run ``command`` under the time budget; always returns a ToolResult.

        The tool runs on the loop's worker threads, so the loop goes on serving
        while it works, and stops waiting for it at the budget.
        """
        budget = self.settings.budget_s if budget_s is None else budget_s
        parsed, problem, trace_id = _parse_traced(command)
        with trace(trace_id):
            ready = self._prepare(command, parsed, problem, budget)
            if isinstance(ready, ToolResult):
                return ready
            parsed, call, started = ready
            cancel = Deadline(budget)
            try:
                result = await asyncio.wait_for(in_worker(call, cancel), timeout=budget)
                if cancel.passed():
                    # the tool's own timeouts are capped to the budget, so a step
                    # that timed out at the deadline may answer before wait_for
                    # does: past the deadline it is the budget's failure either way
                    raise TimeoutError
            except (TimeoutError, CommandPrivilegeError, InstanceError, OSError) as error:
                late = isinstance(error, TimeoutError) or cancel.passed()
                if late:
                    cancel.set()  # the tool's thread starts no further step
                # an error a step raised at its capped timeout is the budget's, as a result is
                result = self._failed(parsed, TimeoutError() if late else error, started, budget)
            return self._done(result, parsed)

    def dispatch_sync(
        self, command: RemediationCommand | Mapping[str, Any], *, budget_s: float | None = None
    ) -> ToolResult:
        """:meth:`dispatch` for code without an event loop: the tool runs in the calling thread.

        The result is the same as :meth:`dispatch`'s. Handing the call to a
        worker thread would change nothing here but its cost (the caller waits
        for the tool to end either way, as ``asyncio.run`` joins its threads):
        the budget is a deadline the tool's ``cancel`` event reaches by itself
        (it starts no further step), and a call that ends past it is a
        time-budget failure, as under :meth:`dispatch`.
        """
        if asyncio._get_running_loop() is not None:
            raise RuntimeError("dispatch_sync() cannot be called from a running event loop")
        budget = self.settings.budget_s if budget_s is None else budget_s
        parsed, problem, trace_id = _parse_traced(command)
        with trace(trace_id):
            ready = self._prepare(command, parsed, problem, budget)
            if isinstance(ready, ToolResult):
                return ready
            parsed, call, started = ready
            deadline = Deadline(budget)
            try:
                # a context of its own, as a worker thread's call gets
                result = contextvars.copy_context().run(call, deadline)
                if deadline.passed():
                    raise TimeoutError
            except (TimeoutError, CommandPrivilegeError, InstanceError, OSError) as error:
                late = deadline.passed()  # an error at a capped timeout is the budget's too
                result = self._failed(parsed, TimeoutError() if late else error, started, budget)
            return self._done(result, parsed)

    def _prepare(
        self,
        command: RemediationCommand | Mapping[str, Any],
        parsed: RemediationCommand | None,
        problem: str,
        budget: float,
    ) -> ToolResult | tuple[RemediationCommand, Callable[[threading.Event], ToolResult], float]:
        """Log the command and validate it: a rejection's result, or the call to run."""
        if parsed is None:
            tool, action = _names(command)
            _log.warning("dispatch.rejected", tool=tool, action=action, reason=problem)
            return failure_result(
                tool,
                action,
                f"invalid command: {problem}",
                details={"reason": problem, "error": "ValidationError"},
            )
        _log.info(
            "dispatch.received",
            command_id=parsed.id,
            tool=parsed.tool,
            action=parsed.action,
            dry_run=parsed.dry_run,
        )
        started = time.monotonic()
        try:
            params = self.validate(parsed)
        except ValidationError as error:
            _log.warning("dispatch.rejected", command_id=parsed.id, reason=str(error))
            return self._tag(
                failure_result(
                    parsed.tool, parsed.action, f"invalid command: {error}",
                    error=error, dry_run=parsed.dry_run, details={"reason": str(error)},
                ),
                parsed,
            )  # fmt: skip
        return parsed, self._route(parsed, params, budget), started

    def _failed(
        self, command: RemediationCommand, error: Exception, started: float, budget: float
    ) -> ToolResult:
        """The failure result of a call that raised (or ran past its budget)."""
        if isinstance(error, TimeoutError):
            return failure_result(
                command.tool,
                command.action,
                f"{command.tool} {command.action} exceeded its time budget of {budget}s",
                dry_run=command.dry_run,
                duration_s=round(time.monotonic() - started, 6),
                details={"error": "TimeoutError", "budget_s": budget},
            )
        if isinstance(error, CommandPrivilegeError):
            return self._privilege_result(command, error, started)
        return failure_result(
            command.tool, command.action, str(error), error=error,
            dry_run=command.dry_run, duration_s=round(time.monotonic() - started, 6),
        )  # fmt: skip

    def _done(self, result: ToolResult, command: RemediationCommand) -> ToolResult:
        result = self._tag(result, command)
        _log.info(
            "dispatch.done",
            command_id=command.id,
            status=result.status.value,
            duration_s=result.duration_s,
        )
        return result

    async def serve(
        self, commands: AsyncIterable[RemediationCommand], *, limit: int | None = None
    ) -> AsyncIterator[ToolResult]:
        """Dispatch each command a transport's ``consume()`` yields, in order; stop after ``limit``."""
        if limit is not None and limit <= 0:
            return
        count = 0
        async for command in commands:
            yield await self.dispatch(command)
            count += 1
            if limit is not None and count >= limit:
                return

    def _privilege_result(
        self, command: RemediationCommand, error: CommandPrivilegeError, started: float
    ) -> ToolResult:
        details = {"error": type(error).__name__, "commands": list(error.commands)}
        if isinstance(error.result, ToolResult):
            merged = {**error.result.details, **details}
            return error.result.model_copy(update={"message": str(error), "details": merged})
        return failure_result(
            command.tool, command.action, str(error), dry_run=command.dry_run,
            duration_s=round(time.monotonic() - started, 6), details=details,
        )  # fmt: skip

    def _tag(self, result: ToolResult, command: RemediationCommand) -> ToolResult:
        details = {**result.details, "command_id": command.id}
        return result.model_copy(update={"details": details})

    def _route(
        self, command: RemediationCommand, params: dict[str, Any], budget: float
    ) -> Callable[[threading.Event], ToolResult]:
        settings = self._settings_for(command.dry_run, budget)
        factory = self.tools[command.tool]
        return lambda cancel: self._run(factory, ToolCall(self, command, settings, cancel), params)

    def _settings_for(self, dry_run: bool, budget: float) -> ToolSettings:
        """The tool settings of a command: its dry run, each tool timeout cut to its budget.

        Built once per (settings, dry run, budget): the models are frozen.
        """
        base = self.settings
        key = (id(base), dry_run, budget)
        cached = self._call_settings.get(key)
        if cached is not None and cached[0] is base:
            return cached[1]
        # each tool's own timeouts stay inside the budget, so its thread ends soon after
        settings = base.model_copy(
            update={
                "dry_run": dry_run,
                "sysctl_timeout_s": min(base.sysctl_timeout_s, budget),
                "query_timeout_s": min(base.query_timeout_s, budget),
                "stop_timeout_s": min(base.stop_timeout_s, budget),
                "start_timeout_s": min(base.start_timeout_s, budget),
            }
        )
        if len(self._call_settings) >= 64:  # budgets given per call: keep it small
            self._call_settings.clear()
        self._call_settings[key] = (base, settings)
        return settings

    def _run(
        self, factory: Callable[[Any], Any], call: ToolCall, params: dict[str, Any]
    ) -> ToolResult:
        """``action`` is the tool's method; dry run and the call passed as it accepts them."""
        command = call.command
        tool = factory(self.target)
        method = getattr(tool, command.action, None)
        if not callable(method):
            raise ValidationError(f"tool {command.tool!r} has no action {command.action!r}")
        kwargs = dict(params)
        signature = _signature(method)
        if "dry_run" in signature.parameters:
            kwargs["dry_run"] = command.dry_run
        elif "apply" in signature.parameters:
            kwargs["apply"] = not command.dry_run
        if "call" in signature.parameters:
            kwargs["call"] = call
        try:
            signature.bind(**kwargs)
        except TypeError as error:
            raise ValidationError(f"{command.tool} {command.action}: {error}") from None
        result = method(**kwargs)
        if not isinstance(result, ToolResult):
            raise ToolError(
                f"tool {command.tool!r} action {command.action!r} returned "
                f"{type(result).__name__}, not a ToolResult"
            )
        return result


def _signature(method: Callable[..., Any]) -> inspect.Signature:
    """A tool method's signature, worked out once per method function (not once per call)."""
    function = getattr(method, "__func__", None)
    if isinstance(method, types.MethodType) and isinstance(function, types.FunctionType):
        bound = _bound_signature(function)
        if bound is not None:
            return bound
    return inspect.signature(method)


@functools.lru_cache(maxsize=256)
def _bound_signature(function: types.FunctionType) -> inspect.Signature | None:
    """``function``'s signature as a bound method's: the first parameter (self, cls) taken."""
    signature = inspect.signature(function)
    parameters = tuple(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not parameters or parameters[0].kind not in positional:
        return None  # inspect's own rules for the odd cases
    return signature.replace(parameters=parameters[1:])


class Deadline(threading.Event):
    """A cancel event that sets itself once its budget has run out.

    What a tool run in the caller's thread (:meth:`Dispatcher.dispatch_sync`)
    gets as ``cancel``: ``is_set()`` turns true at the deadline and ``wait()``
    returns by then, as when the dispatcher's timer sets the event.
    """

    def __init__(self, budget_s: float) -> None:
        super().__init__()
        self.at = time.monotonic() + budget_s

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def is_set(self) -> bool:
        if not super().is_set() and self.passed():
            self.set()
        return super().is_set()

    def wait(self, timeout: float | None = None) -> bool:
        remaining = max(self.at - time.monotonic(), 0.0)
        super().wait(remaining if timeout is None else min(timeout, remaining))
        return self.is_set()


def _parse_traced(
    command: RemediationCommand | Mapping[str, Any],
) -> tuple[RemediationCommand | None, str, str]:
    """The parsed command (or the problem) and the trace id the whole call runs under."""
    parsed, problem = _parse(command)
    trace_id = (parsed.trace_id if parsed else None) or current_trace_id() or new_trace_id()
    if trace_id == "0" * 32:  # W3C: the all-zero id is invalid
        return None, "trace_id: all zeros is not a valid trace id", new_trace_id()
    return parsed, problem, trace_id


def _parse(
    command: RemediationCommand | Mapping[str, Any],
) -> tuple[RemediationCommand | None, str]:
    if isinstance(command, RemediationCommand):
        return command, ""
    from pydantic import ValidationError as PydanticError

    try:
        return RemediationCommand.model_validate(command), ""
    except PydanticError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'command'}: {e['msg']}" for e in error.errors()
        )
        return None, problems


def _names(command: Mapping[str, Any] | Any) -> tuple[str, str]:
    if isinstance(command, Mapping):
        return str(command.get("tool", "?")), str(command.get("action", "?"))
    return "?", "?"
