"""The sandbox's ``bin/``: real executables on a PATH of the sandbox's own.

Each script runs this interpreter and calls
:func:`pytest_iris.sandbox._commands.main` with the host root written into
it, so a subprocess started with ``host.env`` finds the sandbox's ``iris``,
``sysctl``, ``sudo`` and ``kill`` before anything on the real host.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pytest_iris.host import command_environment

COMMANDS = ("iris", "sysctl", "sudo", "kill")

_TEMPLATE = """#!{python}
# pytest-iris sandbox command: acts on the fake host at {root!r}
import sys
sys.dont_write_bytecode = False  # each call is a fresh process: keep the compiled modules
from pytest_iris.sandbox._commands import main
sys.exit(main({name!r}, {root!r}, sys.argv[1:]))
"""


def install_command(bin_dir: Path, root: Path, name: str) -> None:
    """``bin_dir/name``: an executable running the sandbox command ``name`` on ``root``."""
    path = bin_dir / name
    path.write_text(_TEMPLATE.format(python=sys.executable, root=str(root), name=name))
    path.chmod(0o755)


def install(root: Path) -> None:
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in COMMANDS:
        install_command(bin_dir, root, name)


def environment(root: Path) -> dict[str, str]:
    """A copy of this process's environment with the sandbox first on PATH."""
    return command_environment(root)
