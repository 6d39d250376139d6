"""Shared test helpers for the pytest-iris suite."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parents[1]


@pytest.fixture
def real_log() -> Path:
    """A copy of the public real-log corpus (see docs/sources/sources.md)."""
    return DATA / "messages_real.log"
