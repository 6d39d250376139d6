"""Shared test helpers for the pytest-iris suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Property-based tests: no deadline (a chaos example runs a sandbox host) and derandomized by
# default, so the suite draws the same examples on every run and machine; set
# HYPOTHESIS_PROFILE=iris-search to draw fresh ones (the example database is used then).
hypothesis_settings.register_profile("iris-ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("iris-search", deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "iris-ci"))


DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parents[1]


@pytest.fixture
def real_log() -> Path:
    """A copy of the public real-log corpus (see docs/sources/sources.md)."""
    return DATA / "messages_real.log"
