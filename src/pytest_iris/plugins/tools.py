"""pytest face of the remediation tools: ``iris_events`` and ``iris_dispatcher``.

``iris_events`` captures every pytest-iris structlog event of the test (any
level, with its trace id) as a :class:`pytest_iris.testing.CapturedEvents`.
``iris_dispatcher`` is a :class:`pytest_iris.tools.dispatch.Dispatcher` acting
on the test's ``iris_sandbox`` host.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def iris_events() -> Iterator[Any]:
    """The pytest-iris events logged during the test: ``.named()``, ``.assert_event()`` ..."""
    from pytest_iris.testing import capture_events

    with capture_events() as events:
        yield events


@pytest.fixture
def iris_dispatcher(request: pytest.FixtureRequest) -> Any:
    """A Dispatcher for the test's ``iris_sandbox`` (so ``@pytest.mark.iris_host`` applies)."""
    from pytest_iris.tools.dispatch import Dispatcher

    return Dispatcher.for_sandbox(request.getfixturevalue("iris_sandbox"))
