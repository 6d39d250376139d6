"""How-to: run examples that write relative paths in a fresh directory of their own.

Some examples write ``mgr/``, ``bin/`` or ``iris.yaml`` relative to the
working directory; pasted into a project, they would leave those files
behind and fail on the next run. This fixture (a ``conftest.py`` beside
them in a user's project) gives each test ``tmp_path`` as its directory.
It overrides ``tests/examples/conftest.py``'s fixture here, so it is the
one this module's test runs under.
"""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _in_a_fresh_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_relative_paths_land_in_the_tests_own_directory(tmp_path: Path) -> None:
    Path("mgr").mkdir()  # would fail on a second run in a project's own directory
    assert Path.cwd() == tmp_path
    assert (tmp_path / "mgr").is_dir()
