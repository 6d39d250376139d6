"""A command that needs an extra the user did not install says which, in one line, exit 2."""

import subprocess
import sys
from pathlib import Path

# the extra's module missing exactly as in a venv without it: the plugin's own finder, first
WITHOUT_HTTPX = """
import sys
from pytest_iris import _extras
sys.meta_path.insert(0, _extras.MissingExtraFinder())
from pytest_iris.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_chaos_over_http_without_httpx_is_one_line(tmp_path: Path) -> None:
    """``pytest-iris chaos`` on a ``transport: http`` scenario printed a 40-line traceback."""
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_HTTPX, "chaos", "endpoint_down_during_incident"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    problems = [line for line in done.stderr.splitlines() if not line.startswith("{")]
    assert problems == [
        "pytest-iris chaos: No module named 'httpx': the HTTP transport needs it; "
        "install it with: pip install 'pytest-iris[http]'"
    ]
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_plain_chaos_without_httpx_stops_before_any_scenario(tmp_path: Path) -> None:
    """What the README says of ``pytest-iris chaos`` after a plain ``pip install``."""
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_HTTPX, "chaos", "--report", "chaos.html"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""  # no scenario ran before the error
    assert done.stderr.splitlines()[-1] == (
        "pytest-iris chaos: No module named 'httpx': the HTTP transport needs it; "
        "install it with: pip install 'pytest-iris[http]'"
    )
    assert list(tmp_path.iterdir()) == []
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert done.stderr.splitlines()[-1].removeprefix("pytest-iris chaos: ").split(";")[0] in readme
