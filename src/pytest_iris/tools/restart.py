"""The restart tool: stop and start an IRIS instance without surprising its users.

Before stopping it looks (with psutil, on any procfs root) for ESTABLISHED
client connections on the superserver (1972) and web (52773) ports and
refuses while there are any, naming who is connected, unless forced. It
stops with ``iris stop <instance> quietly`` and starts with ``iris start
<instance>`` (the ``iris`` found on the PATH of the given environment),
waits for each step under a safety timeout, reads the lines each step adds
to messages.log to confirm the outcome, and reports the PIDs before and after.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_iris import defaults
from pytest_iris.errors import ToolError
from pytest_iris.logging import get_logger
from pytest_iris.models import IRISMessage, Severity, ToolResult
from pytest_iris.tools._exec import Completed, resolve
from pytest_iris.tools._procs import (
    IRIS_EXECUTABLES,
    ClientConnection,
    InstanceProcess,
    client_connections,
    instance_processes,
)
from pytest_iris.tools.results import ResultBuilder, traced
from pytest_iris.tools.settings import ToolSettings

_log = get_logger("pytest_iris.tools.restart")
#: messages.log texts that confirm a step (facts.md §4.4, §5.2)
ALLOCATED = re.compile(r"^Allocated \d+MB shared memory")
STARTED = re.compile(ALLOCATED.pattern + r"|^Enabling logons$")
START_FAILED = re.compile(
    r"^Failed to allocate|^Insufficient|Startup aborted|error was detected during .*startup", re.I
)
STOPPED = re.compile(r"shut(ting)? ?down", re.I)


@dataclass(frozen=True)
class InstanceInfo:
    """What ``iris qlist <instance>`` says: fields 1-4 are the real ones (facts.md §4.2)."""

    name: str
    directory: str
    version: str
    status: str

    @property
    def running(self) -> bool:
        return self.status.startswith("running")


class RestartTool:
    """Stops and starts one IRIS instance of a host (real, namespaced or sandbox)."""

    def __init__(
        self,
        instance: str | None = None,
        iris_cmd: str = "iris",
        *,
        procfs_path: str | os.PathLike[str] = "/proc",
        install_dir: str | None = None,
        messages_log: str | os.PathLike[str] | None = None,
        host_root: str | os.PathLike[str] = "/",
        env: Mapping[str, str] | None = None,
        settings: ToolSettings | None = None,
        executables: tuple[str, ...] = IRIS_EXECUTABLES,
        refresh: Callable[[], object] | None = None,
    ) -> None:
        self.settings = settings or ToolSettings()
        self.instance = instance or defaults.INSTANCE
        self.iris_cmd = iris_cmd
        self.procfs_path = Path(procfs_path)
        self.host_root = Path(host_root)
        self.env = dict(env) if env is not None else None
        self.executables = executables
        #: called before each look at processes or sockets, for a procfs view that
        #: must be rebuilt when processes come and go (the live sandbox's)
        self.refresh = refresh
        self._install_dir = install_dir
        self._messages_log = Path(messages_log) if messages_log is not None else None
        #: set by whoever runs the tool (the Dispatcher, at the end of its budget):
        #: waiting stops and no further step (stop, start) begins once it is set
        self.cancel = threading.Event()

    # -- looking -----------------------------------------------------------

    def info(self) -> InstanceInfo | None:
        """The instance's ``iris qlist`` entry, or None when ``iris`` does not know it."""
        done = self._iris("qlist", self.instance, timeout=self.settings.query_timeout_s)
        if done.timed_out:
            raise ToolError(
                f"`{done.command}` did not answer within {self.settings.query_timeout_s}s"
            )
        if done.returncode != 0:
            raise ToolError(
                f"`{done.command}` failed (status {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}"
            )
        for line in done.stdout.splitlines():
            fields = line.split("^")
            if len(fields) >= 4 and fields[0] == self.instance:
                return InstanceInfo(*fields[:4])
        return None

    @property
    def install_dir(self) -> str:
        """The instance's directory, from ``iris qlist`` unless given; unknown is a ToolError.

        No guessing: matching processes by executable name alone could stop
        another instance's processes.
        """
        if self._install_dir is None:
            found = self.info()
            if found is None:
                raise ToolError(
                    f"`{self.iris_cmd} qlist {self.instance}` does not list an instance named "
                    f"{self.instance!r}; give install_dir= if this iris cannot tell"
                )
            self._install_dir = found.directory.rstrip("/") or "/"
        return self._install_dir

    @property
    def messages_log(self) -> Path | None:
        """``<install dir>/mgr/messages.log`` under the host root, unless given."""
        if self._messages_log is None:
            inside = Path(self.install_dir, "mgr", "messages.log")
            if not inside.is_relative_to(self.host_root):  # a path as seen on the host
                inside = self.host_root / inside.relative_to(inside.anchor)
            self._messages_log = inside
        return self._messages_log

    def processes(self) -> list[InstanceProcess]:
        """The instance's processes (IRIS executables under its install directory)."""
        install_dir = self.install_dir
        if self.refresh is not None:
            self.refresh()
        return instance_processes(self.procfs_path, install_dir, self.executables)

    def connections(self) -> list[ClientConnection]:
        """Established client connections on the superserver and web ports."""
        ports = {"superserver": self.settings.superserver_port, "web": self.settings.web_port}
        if self.refresh is not None:
            self.refresh()
        return client_connections(self.procfs_path, ports)

    # -- acting ------------------------------------------------------------

    def restart(self, *, force: bool = False, dry_run: bool | None = None) -> ToolResult:
        """Stop (if running) then start the instance; a dry run says what it would do."""
        return self._run("restart", force=force, dry_run=dry_run, stop=True, start=True)

    def stop(self, *, force: bool = False, dry_run: bool | None = None) -> ToolResult:
        return self._run("stop", force=force, dry_run=dry_run, stop=True, start=False)

    def start(self, *, dry_run: bool | None = None) -> ToolResult:
        return self._run("start", force=False, dry_run=dry_run, stop=False, start=True)

    @traced
    def _run(
        self, action: str, *, force: bool, dry_run: bool | None, stop: bool, start: bool
    ) -> ToolResult:
        dry = self.settings.dry_run if dry_run is None else dry_run
        result = ResultBuilder("restart", action, dry_run=dry)
        result.details["instance"] = self.instance
        try:
            before = self.processes()
        except ToolError as error:
            _log.warning("restart.unknown_instance", instance=self.instance, reason=str(error))
            return result.failure(str(error), error)
        result.details["pids_before"] = [p.pid for p in before]
        _log.info(
            "restart.begin", action=action, instance=self.instance, pids=[p.pid for p in before]
        )
        running = bool(before)
        commands: list[str] = []
        if stop and running:
            users = self.connections()
            result.details["connections"] = [c.as_dict() for c in users]
            _log.info("restart.connections", count=len(users), force=force)
            if users and not force:
                who = "; ".join(c.describe() for c in users)
                _log.warning("restart.refused", users=len(users))
                return result.failure(
                    f"refusing to stop {self.instance}: {len(users)} client connection"
                    f"{'s' if len(users) != 1 else ''} established ({who}); "
                    "pass force=True (CLI: --force) to stop anyway"
                )
            commands.append(f"{self.iris_cmd} stop {self.instance} quietly")
        elif stop and not start:
            return result.success(f"{self.instance} is not running: nothing to stop")
        if start:
            commands.append(f"{self.iris_cmd} start {self.instance}")
        result.details["commands"] = commands
        state = "running" if running else "down"
        if dry:
            target = "down" if not start else ("restarted" if running and stop else "running")
            result.change(f"instance {self.instance}", state, target, applied=False)
            _log.info("restart.dry_run", commands=commands)
            return result.success("dry run: would run " + "; then ".join(commands))
        problem = self._stop(result) if stop and running else None
        if problem is None and start:
            problem = "cancelled before the start: out of time" if self.cancel.is_set() else None
            problem = problem or self._start(result)
        after = self.processes()
        result.details["pids_after"] = [p.pid for p in after]
        if problem is not None:
            _log.warning("restart.failed", action=action, reason=problem)
            return result.unfinished(problem)
        _log.info("restart.done", action=action, pids_after=[p.pid for p in after])
        done = {"restart": "restarted", "stop": "stopped", "start": "started"}[action]
        if action == "restart" and not running:
            done = "started (it was down)"
        return result.success(
            f"{self.instance} {done}: pids {[p.pid for p in before]} -> {[p.pid for p in after]}"
        )

    def _stop(self, result: ResultBuilder) -> str | None:
        """Stop the instance; the reason it failed, or None."""
        deadline = time.monotonic() + self.settings.stop_timeout_s
        offset = self._log_size()
        done = self._iris("stop", self.instance, "quietly", timeout=self.settings.stop_timeout_s)
        _log.info("restart.stop", returncode=done.returncode, timed_out=done.timed_out)
        if done.timed_out:
            return (
                f"`{done.command}` did not finish within {self.settings.stop_timeout_s}s "
                "(safety timeout); the instance may be half stopped"
            )
        if not done.ok:
            return (
                f"`{done.command}` failed (status {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}"
            )
        gone = self._wait(lambda: not self.processes(), deadline)
        result.confirm(*self._new_lines(offset, STOPPED))
        if not gone:
            left = [p.pid for p in self.processes()]
            return (
                f"{self.instance} still has processes {left} {self.settings.stop_timeout_s}s "
                f"after `{done.command}` (safety timeout)"
            )
        result.change(
            f"instance {self.instance}",
            "running",
            "down",
            applied=True,
            reason=f"`{done.command}`",
        )
        return None

    def _start(self, result: ResultBuilder) -> str | None:
        """Start the instance and wait for messages.log to confirm; the reason it failed, or None."""
        deadline = time.monotonic() + self.settings.start_timeout_s
        offset = self._log_size()
        done = self._iris("start", self.instance, timeout=self.settings.start_timeout_s)
        _log.info("restart.start", returncode=done.returncode, timed_out=done.timed_out)
        if done.timed_out:
            return (
                f"`{done.command}` did not finish within {self.settings.start_timeout_s}s "
                "(safety timeout)"
            )
        if not done.ok:
            result.confirm(*self._new_lines(offset, START_FAILED, min_severity=Severity.SEVERE))
            output = (done.stdout + done.stderr).strip()
            return f"`{done.command}` failed (status {done.returncode}): {output}"
        confirmed: list[str] = []

        def started() -> bool:
            found = self._new_messages(offset, STARTED)
            confirmed[:] = [m.header for m in found]
            logged = self.messages_log is None or any(ALLOCATED.search(m.text) for m in found)
            return logged and bool(self.processes())

        ok = self._wait(started, deadline)
        result.confirm(*confirmed)
        if not ok:
            failures = self._new_lines(offset, START_FAILED, min_severity=Severity.SEVERE)
            result.confirm(*failures)
            return (
                f"{self.instance} did not confirm its start in messages.log within "
                f"{self.settings.start_timeout_s}s" + (f": {failures[-1]}" if failures else "")
            )
        result.change(
            f"instance {self.instance}", "down", "running", applied=True, reason=f"`{done.command}`"
        )
        return None

    # -- helpers -----------------------------------------------------------

    def _wait(self, condition: Callable[[], bool], deadline: float) -> bool:
        while True:
            if condition():
                return True
            if time.monotonic() >= deadline or self.cancel.is_set():
                return False
            self.cancel.wait(self.settings.poll_interval_s)

    def _log_size(self) -> int:
        path = self.messages_log
        try:
            return path.stat().st_size if path is not None else 0
        except FileNotFoundError:
            return 0

    def _new_lines(
        self, offset: int, pattern: re.Pattern[str], *, min_severity: Severity | None = None
    ) -> list[str]:
        """Entries messages.log gained since ``offset`` whose text matches, as log lines."""
        return [m.header for m in self._new_messages(offset, pattern, min_severity=min_severity)]

    def _new_messages(
        self, offset: int, pattern: re.Pattern[str], *, min_severity: Severity | None = None
    ) -> list[IRISMessage]:
        path = self.messages_log
        if path is None:
            return []
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(offset if size >= offset else 0)  # rotated: read it all
                data = handle.read()
        except FileNotFoundError:
            return []
        from pytest_iris.log.reader import LogEntry, parse_text

        found: list[IRISMessage] = []
        for item in parse_text(data.decode("utf-8", "replace")):
            if not isinstance(item, LogEntry):
                continue
            message: IRISMessage = item.message
            if pattern.search(message.text) or (
                min_severity is not None and message.severity >= min_severity
            ):
                found.append(message)
        return found

    def _iris(self, *args: str, timeout: float) -> Completed:
        """Run ``iris ARGS`` in its own process group; on timeout the whole group is killed."""
        argv = (self.iris_cmd, *args)
        executable = resolve(self.iris_cmd, self.env)
        proc = subprocess.Popen(
            [executable, *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # our own child's group only
            out, err = proc.communicate()
            return Completed(argv, -9, out, err, timed_out=True)
        return Completed(argv, proc.returncode, out, err)
