"""The missing-extra finder names the extra on import, and leaves probes alone.

User trial (plain ``pip install pytest-iris``, no extras): the finder, installed in
every pytest run by the plugin, made ``importlib.util.find_spec("httpx")`` - the
standard probe a library uses for an optional dependency - raise instead of returning
None, so any library in the user's suite probing for httpx, openai, vcr or faker broke.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# httpx and openai missing as in a venv without the extras: the path finder does not
# see them, so the search reaches pytest-iris's finder, last on sys.meta_path
HIDDEN = """
import sys
from importlib.machinery import PathFinder


class Hiding(PathFinder):
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname.partition(".")[0] in ("httpx", "openai"):
            return None
        return super().find_spec(fullname, path, target)


sys.meta_path[:] = [Hiding if f is PathFinder else f for f in sys.meta_path]
import pytest_iris  # installs the finder, as the plugin does in every pytest run
"""

PROBE = """
import importlib.util
print(importlib.util.find_spec("httpx"))
"""

OURS = """
import asyncio

from pytest_iris.transport.http import HttpTransport


async def main():
    async with HttpTransport("http://127.0.0.1:9", outbox_dir="outbox"):
        pass


try:
    asyncio.run(main())
except ModuleNotFoundError as error:
    print(error)
"""


def run(code: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", HIDDEN + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_probe_for_an_optional_dependency_finds_nothing(tmp_path: Path) -> None:
    assert run(PROBE, tmp_path) == "None"


def test_pytest_iris_own_import_still_names_the_extra(tmp_path: Path) -> None:
    assert run(OURS, tmp_path) == (
        "No module named 'httpx': the HTTP transport needs it; "
        "install it with: pip install 'pytest-iris[http]'"
    )
