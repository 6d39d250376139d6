"""The sandbox's ``bin/``: real executables on a PATH of the sandbox's own.

Each script runs this interpreter and calls
:func:`pytest_iris.sandbox._commands.main` with the host root written into
it, so a subprocess started with ``host.env`` finds the sandbox's ``iris``,
``sysctl``, ``sudo`` and ``kill`` before anything on the real host.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

COMMANDS = ("iris", "sysctl", "sudo", "kill")
#: real directories kept on the sandbox PATH after bin/, for ordinary tools (cat, grep ...)
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

_TEMPLATE = """#!{python}
# pytest-iris sandbox command: acts on the fake host at {root!r}
import sys
from pytest_iris.sandbox._commands import main
sys.exit(main({name!r}, {root!r}, sys.argv[1:]))
"""


def install(root: Path) -> None:
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    from pytest_iris.sandbox._procfs import _put

    for name in COMMANDS:
        _put(
            f"{bin_dir}/{name}",
            _TEMPLATE.format(python=sys.executable, root=str(root), name=name),
            0o755,
        )


def environment(root: Path) -> dict[str, str]:
    """A copy of this process's environment with the sandbox first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{root / 'bin'}:{SYSTEM_PATH}"
    env["PYTEST_IRIS_SANDBOX"] = str(root)
    env.pop("PYTEST_IRIS_SANDBOX_EUID", None)
    return env
