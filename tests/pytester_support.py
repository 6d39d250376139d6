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


def run_cli(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_iris ARGS`` in ``cwd``, its output as text.

    With ``env``, the developer's own ``PYTEST_IRIS_*`` variables are dropped and
    ``env`` is added instead, so their settings cannot decide the outcome.
    """
    environ = None
    if env is not None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_IRIS_")}
        environ |= {"PYTHONDONTWRITEBYTECODE": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "pytest_iris", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        check=False,
        timeout=120,
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
