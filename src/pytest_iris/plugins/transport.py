"""pytest face of the transports: ``iris_endpoint``, ``iris_transport``, ``iris_file_transport``.

``@pytest.mark.iris_endpoint_faults(...)`` sets the endpoint's faults before
the test starts; its keywords are those of
:meth:`pytest_iris.transport.Faults.configure` (``fail_next``, ``status``,
``latency``, ``drop_next``, ``down_for``, ``fail_fraction``,
``lose_fraction``, ``seed``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "iris_endpoint_faults(fail_next=0, status=503, latency=0, drop_next=0, down_for=0, "
        "fail_fraction=0, lose_fraction=0, seed=None): faults the iris_endpoint injects",
    )


def _seed(request: pytest.FixtureRequest) -> int:
    digest = hashlib.sha256(request.node.nodeid.encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _settings(request: pytest.FixtureRequest) -> Any:
    from pytest_iris.settings import load_settings

    config = request.config
    path = config.getoption("iris_config", default=None) or config.getini("iris_config") or None
    return load_settings(path)


@pytest.fixture
def iris_endpoint(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running :class:`~pytest_iris.transport.MockEndpoint` on 127.0.0.1 (ephemeral port)."""
    from pytest_iris.errors import ConfigError
    from pytest_iris.transport import MockEndpoint

    faults: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("iris_endpoint_faults"))):
        if marker.args:
            pytest.fail(
                f"{request.node.nodeid}: iris_endpoint_faults takes keywords only, "
                f"got {marker.args!r}",
                pytrace=False,
            )
        faults.update(marker.kwargs)
    with MockEndpoint(seed=_seed(request)) as endpoint:
        try:
            endpoint.faults.configure(**faults)
        except (ConfigError, TypeError, ValueError) as error:
            pytest.fail(f"{request.node.nodeid}: iris_endpoint_faults: {error}", pytrace=False)
        yield endpoint


@pytest.fixture
def iris_transport(
    request: pytest.FixtureRequest, iris_endpoint: Any, tmp_path: Path
) -> Iterator[Any]:
    """An :class:`~pytest_iris.transport.HttpTransport` bound to ``iris_endpoint``.

    Settings (retry, batching, retention) come from the ``transport`` section;
    the outbox lives in the test's ``tmp_path``. Use it inside a coroutine:
    ``asyncio.run(...)`` with ``async with iris_transport: ...``.
    """
    from pytest_iris.transport import HttpTransport

    settings = _settings(request).transport
    transport = HttpTransport.from_settings(
        settings, url=iris_endpoint.url, outbox_dir=tmp_path / "iris-outbox"
    )
    try:
        yield transport
    finally:
        transport.close()


@pytest.fixture
def iris_file_transport(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A :class:`~pytest_iris.transport.FileTransport` writing ``tmp_path/messages.log``.

    Commands are read from ``tmp_path/commands.jsonl``; the format (``iris``
    or ``jsonl``) comes from the ``transport.file_format`` setting.
    """
    from pytest_iris.transport import FileTransport

    settings = _settings(request).transport
    suffix = "log" if settings.file_format == "iris" else "jsonl"
    with FileTransport(
        tmp_path / f"messages.{suffix}",
        format=settings.file_format,
        commands_path=tmp_path / "commands.jsonl",
        poll_interval_s=min(settings.poll_interval_s, 0.05),
    ) as transport:
        yield transport
