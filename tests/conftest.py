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


#: Searches that run hundreds of chaos examples (minutes each on 2 cores) are the slow tier:
#: `./dev test --run-slow` runs them; CI runs the rest and names what it skipped.
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run the slow tier (long property-based searches)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a long property-based search; runs only with --run-slow"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow tier (a search of up to 200 chaos examples): --run-slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parents[1]


@pytest.fixture
def real_log() -> Path:
    """A copy of the public real-log corpus (see docs/sources/sources.md)."""
    return DATA / "messages_real.log"
