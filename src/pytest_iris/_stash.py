"""What pytest-iris keeps in a pytest config's stash, and the run's base seed read from it.

Below both :mod:`pytest_iris.plugins.core` (which stores the validated
settings) and :mod:`pytest_iris.seeds` (which derives a test's seeds from a
config), so neither imports the other. Imported only where pytest runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_iris import defaults

if TYPE_CHECKING:
    from pytest_iris.settings import IrisSettings

#: the run's validated settings (stored by the core plugin, loaded once)
SETTINGS_KEY: pytest.StashKey[IrisSettings] = pytest.StashKey()


def base_seed(config: pytest.Config) -> int:
    """The run's base seed (the ``seed`` setting); pydantic stays unloaded when nothing sets it."""
    if SETTINGS_KEY in config.stash:
        return config.stash[SETTINGS_KEY].seed
    return defaults.SEED
