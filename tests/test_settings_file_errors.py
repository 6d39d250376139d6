"""``--iris-config DIR`` says it is a directory (user trial: it said 'does not exist')."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.settings import load_settings


def test_a_directory_is_not_a_settings_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert (
        str(caught.value) == f"settings file {str(tmp_path)!r} is a directory; give the YAML file"
    )


def test_a_missing_file_still_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "iris.yaml")
