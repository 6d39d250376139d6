"""pytest face of the remediation tools: ``iris_events`` and ``iris_dispatcher``.

``iris_events`` captures every pytest-iris structlog event of the test (any
level, with its trace id) as a :class:`pytest_iris.testing.CapturedEvents`.
``iris_dispatcher`` is a :class:`pytest_iris.tools.dispatch.Dispatcher` acting
on the test's ``iris_sandbox`` host.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iris.plugins.core import settings_for

if TYPE_CHECKING:
    from pytest_iris.testing import CapturedEvents
    from pytest_iris.tools.dispatch import Dispatcher


@pytest.fixture
def iris_events() -> Iterator[CapturedEvents]:
    """The pytest-iris events logged during the test: ``.named()``, ``.assert_event()`` ..."""
    from pytest_iris.testing import capture_events

    with capture_events() as events:
        yield events


@pytest.fixture
def iris_dispatcher_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keywords of ``iris_dispatcher``'s :class:`~pytest_iris.tools.dispatch.Dispatcher`:
    the ``tools`` settings section and the registry's tools (built-ins and plugins');
    override this fixture in a conftest to change them."""
    from pytest_iris.registry import Registry

    return {
        "settings": settings_for(request.config).tools,
        "tools": Registry.from_pytest(request.config).tools,
    }


@pytest.fixture
def iris_dispatcher(
    request: pytest.FixtureRequest, iris_dispatcher_kwargs: dict[str, Any]
) -> Dispatcher:
    """A Dispatcher for the test's ``iris_sandbox`` (so ``@pytest.mark.iris_host`` applies)."""
    from pytest_iris.tools.dispatch import Dispatcher

    return Dispatcher.for_sandbox(request.getfixturevalue("iris_sandbox"), **iris_dispatcher_kwargs)
