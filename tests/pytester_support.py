"""A user's project in a pytester directory, and the ``pytest-iris`` command run in it.

The error tests (``tests/test_downstream_errors.py``, ``tests/test_chaos_errors.py``)
check the same bad input twice, under pytest and under the command, the way a
user meets it: these are the steps they share.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from pytest_iris.builtin_plugin import SCENARIO_DIR

TESTS = Path(__file__).parent


#: the ``pytest-iris`` command as the tests run it: this interpreter, this checkout's code
CLI = (sys.executable, "-m", "pytest_iris")


def cli_env(env: Mapping[str, str] | None) -> dict[str, str] | None:
    """The command's environment: this one (``None``), or ``env`` over a clean copy of it.

    With ``env``, the developer's own ``PYTEST_IRIS_*`` variables are dropped and
    ``env`` is added instead, so their settings cannot decide the outcome.
    """
    if env is None:
        return None
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_IRIS_")}
    return environ | {"PYTHONDONTWRITEBYTECODE": "1", **env}


def run_cli(
    cwd: Path | None, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_iris ARGS`` in ``cwd`` (None: this directory), its output as text.

    ``env`` as :func:`cli_env` takes it. ``timeout`` is a deadline for a hang, not a
    speed assertion: a loaded CI machine is slow, not wrong.
    """
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(env),
        check=False,
        timeout=timeout,
    )


def start_cli(
    cwd: Path | None, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """:func:`run_cli` started, not waited for: for commands that run side by side or get a
    signal. Its stdout and stderr are pipes (text); the caller communicates and reaps it.
    """
    return subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=cli_env(env),
    )


def add_scenario(pytester: pytest.Pytester, name: str) -> None:
    """A shipped ``iris_chaos_<name>.yaml`` in the project, collected as a chaos item."""
    shutil.copy(SCENARIO_DIR / f"iris_chaos_{name}.yaml", pytester.path)


def add_remediators(pytester: pytest.Pytester) -> None:
    """``tests/chaos_remediators.py`` (the deliberately broken remediators) in the project."""
    shutil.copy(TESTS / "chaos_remediators.py", pytester.path / "chaos_remediators.py")


def run_user_tests(
    pytester: pytest.Pytester, source: str, *args: str, module: str = "test_user", **outcomes: int
) -> pytest.RunResult:
    """``source`` as the user's ``<module>.py``, run in-process; ``outcomes`` checked."""
    pytester.makepyfile(**{module: source})
    result = pytester.runpytest(*args)
    result.assert_outcomes(**outcomes)
    return result


def assert_errors_name_their_tests(
    out: str, marker: str, messages: Mapping[str, str], *, module: str = "test_user.py"
) -> None:
    """Each test's message is reported as ``MODULE::TEST: @pytest.mark.MARKER: MESSAGE``."""
    for test, message in messages.items():
        assert f"{module}::{test}: @pytest.mark.{marker}: {message}" in out, test
