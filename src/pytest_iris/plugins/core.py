"""Options every part shares."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iris", "pytest-iris: InterSystems IRIS emulation")
    group.addoption(
        "--iris-config",
        dest="iris_config",
        default=None,
        metavar="PATH",
        help="YAML settings file for pytest-iris (default: ini key iris_config).",
    )
    parser.addini("iris_config", "YAML settings file for pytest-iris.", default="")
