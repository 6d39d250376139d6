"""``pytest-iris generate -o PATH`` with a missing parent directory is an error, not a new tree.

The user trial: ``generate -o some/mistyped/dir/out.log`` silently created
``some/mistyped/dir``. The docs promise no directory creation, so a missing
parent is the CLI's one-line bad-input error (exit 2) and nothing is written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MAIN = "import sys; from pytest_iris.cli import main; sys.exit(main())"


def _generate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", MAIN, "generate", "--count", "20", *args]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_a_missing_parent_is_a_one_line_error_and_nothing_is_created(tmp_path: Path) -> None:
    done = _generate(tmp_path, "-o", "some/mistyped/dir/out.log")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "pytest-iris generate: -o some/mistyped/dir/out.log: some/mistyped/dir does not exist "
        "(create it first)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_parent_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x\n")
    done = _generate(tmp_path, "-o", str(tmp_path / "notes.txt" / "out.log"))
    assert done.returncode == 2
    assert done.stderr == (
        f"pytest-iris generate: -o {tmp_path}/notes.txt/out.log: {tmp_path}/notes.txt "
        "is not a directory\n"
    )
    assert (tmp_path / "notes.txt").read_text() == "x\n"


def test_an_existing_directory_and_the_current_one_still_work(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    for out in ("logs/messages.log", "here.log"):
        done = _generate(tmp_path, "--seed", "1", "-o", out)
        assert (done.returncode, done.stderr) == (0, "")
        assert len((tmp_path / out).read_text().splitlines()) == 20
