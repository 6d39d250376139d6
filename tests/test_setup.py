"""The test set-up itself: the suite passes wherever a user clones the project.

A checkout under a private directory (``mktemp -d`` is 0700, Ubuntu homes are 0750,
CI workspaces are private) must pass the tests that run code as another user.
These tests build such a checkout: a copy of ``pyproject.toml``, ``src/`` and
``tests/`` under a 0700 directory, with a thin virtualenv inside it whose
site-packages entries are links to this environment's packages (no install, so it
takes well under a second; the links sit inside the private directory, so another
user can follow none of them). Then they run the live tests from another
working directory, with ``TMPDIR`` inside the private directory too and ``HOME``
pointing nowhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tools_support import NOBODY, SYSTEM_PATH, NobodyPython, Unavailable

REPO = Path(__file__).parents[1]
#: Skip reasons of the live tests that say the checkout was out of nobody's reach.
CHECKOUT_CAUSES = ("cannot run code as nobody", "ModuleNotFoundError", "Permission denied")


def private_checkout(base: Path) -> Path:
    """Copy the project under ``base/private`` (0700), with a thin venv inside it."""
    private = base / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)  # whatever the umask
    checkout = private / "p"
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".hypothesis", "*.egg-info")
    shutil.copytree(REPO / "src", checkout / "src", ignore=ignore)
    shutil.copytree(REPO / "tests", checkout / "tests", ignore=ignore)
    shutil.copy2(REPO / "pyproject.toml", checkout / "pyproject.toml")
    thin_venv(checkout / ".venv", checkout / "src")
    return checkout


def thin_venv(where: Path, src: Path) -> Path:
    """A venv whose site-packages links to this environment's packages; ``src`` editable."""
    venv.create(where, with_pip=False, symlinks=True)
    python = where / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    ours = {REPO / "src", REPO / "tests", REPO}
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for entry in map(Path, sys.path):
        if not entry.is_dir() or entry in ours or entry.is_relative_to(stdlib):
            continue
        for item in entry.iterdir():
            # the project itself comes from the private copy, not from this environment
            own = "pytest_iris" in item.name and not item.name.endswith(".dist-info")
            if own or item.name == "__pycache__" or (site / item.name).exists():
                continue
            (site / item.name).symlink_to(item)
    (site / "_pytest_iris_checkout.pth").write_text(f"{src}\n")
    return python


def nobody_cannot_read(path: Path) -> bool:
    done = subprocess.run(
        [*NOBODY, "test", "-r", str(path)],
        env={"PATH": SYSTEM_PATH},
        cwd="/",
        capture_output=True,
        check=False,
    )
    return done.returncode != 0


def test_live_kernel_tests_pass_from_a_checkout_under_a_private_directory(tmp_path: Path) -> None:
    try:
        NobodyPython.prepare(["json"]).close()  # setpriv works and nobody can run Python
    except Unavailable as why:
        pytest.skip(f"cannot run code as nobody here: {why}")
    checkout = private_checkout(tmp_path)
    python = checkout / ".venv" / "bin" / "python"
    assert nobody_cannot_read(checkout / "src" / "pytest_iris" / "__init__.py")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (checkout.parent / "tmp").mkdir()
    leaks = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTEST_", "COV_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(leaks)}
    env.update(TMPDIR=str(checkout.parent / "tmp"), HOME=str(tmp_path / "no-home"))
    where = subprocess.run(
        [python, "-c", "import pytest_iris; print(pytest_iris.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(checkout / "src")
    live = str(checkout / "tests" / "test_tools_kernel_live.py")
    done = subprocess.run(
        [python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:xdist", live],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert not [cause for cause in CHECKOUT_CAUSES if cause in output], output
    summary = done.stdout.strip().splitlines()[-1]
    if not re.search(r"\b\d+ passed", summary):
        pytest.skip(f"the live tests skip on this host for its own reasons: {output[-600:]}")


LIVE_SANDBOX = """
import sys, tempfile
from pytest_iris.sandbox.live.sandbox import LiveSandbox, namespaces_available
reason = namespaces_available()
if reason:
    print("SKIP " + reason)
    sys.exit(0)
with tempfile.TemporaryDirectory() as d, LiveSandbox(d, kernel={"kernel.shmmax": 2**31}) as live:
    before = live.read_sysctl("kernel.shmmax")
    live.set_sysctl("kernel.shmmax", 68719476736)
    print(before, live.read_sysctl("kernel.shmmax"))
"""
#: What LIVE_SANDBOX loads, lazy imports included (the copy holds only these).
LIVE_SANDBOX_IMPORTS = [
    "pytest_iris.sandbox",
    "pytest_iris.sandbox.guard",
    "pytest_iris.sandbox.procview",
    "pytest_iris.sandbox.live.sandbox",
    "pytest_iris.sandbox.live._iris",
    "pytest_iris.generation.catalog",
    "pytest_iris.tools.cpf",
    "pytest_iris.models",
    "yaml",
    "psutil",
    "filelock",
]


def test_live_sandbox_works_for_a_non_root_user() -> None:
    """A user namespace made by a non-root user denies setgroups(): nsenter must not call it."""
    try:
        nobody = NobodyPython.prepare(LIVE_SANDBOX_IMPORTS)
    except Unavailable as why:
        pytest.skip(f"cannot run code as nobody here: {why}")
    try:
        done = nobody.run(NOBODY, LIVE_SANDBOX, timeout=120)
    finally:
        nobody.close()
    assert done.returncode == 0, done.stderr
    if done.stdout.startswith("SKIP "):
        pytest.skip(done.stdout.strip())
    assert done.stdout.split() == ["2147483648", "68719476736"]
