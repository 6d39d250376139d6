"""Running the host's commands (``sysctl``, ``iris``).

Commands are looked up on the PATH of the environment the tool was given,
so a sandbox's ``bin/`` wins over the real host's; a missing command is a
:class:`~pytest_iris.errors.ToolError` naming it and the PATH searched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_iris.errors import ToolError


@dataclass(frozen=True)
class Completed:
    """The outcome of one command: its argv, exit status and output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def command(self) -> str:
        import shlex

        return shlex.join(self.argv)


def resolve(command: str, env: Mapping[str, str] | None) -> str:
    """The executable ``command`` names, on the PATH of ``env`` (or the process's)."""
    path = (env if env is not None else os.environ).get("PATH", os.defpath)
    if os.sep in command:
        found = command if os.access(command, os.X_OK) else None
    else:
        found = shutil.which(command, path=path)
    if found is None:
        raise ToolError(f"command {command!r} not found (PATH={path})")
    return found


def run(argv: Sequence[str], *, env: Mapping[str, str] | None, timeout: float) -> Completed:
    """Run ``argv`` to completion or until ``timeout`` (then it is killed)."""
    executable = resolve(argv[0], env)
    try:
        done = subprocess.run(
            [executable, *argv[1:]],
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        return Completed(tuple(argv), -9, _text(expired.stdout), _text(expired.stderr), True)
    return Completed(tuple(argv), done.returncode, done.stdout, done.stderr)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")
