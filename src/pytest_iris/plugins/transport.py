"""pytest face of the transports: ``iris_endpoint``, ``iris_transport``, ``iris_file_transport``.

``@pytest.mark.iris_endpoint_faults(...)`` sets the endpoint's faults before
the test starts; its keywords are those of
:meth:`pytest_iris.transport.Faults.configure` (``fail_next``, ``status``,
``latency``, ``drop_next``, ``down_for``, ``fail_fraction``,
``lose_fraction``, ``seed``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iris.plugins.core import settings_for

if TYPE_CHECKING:
    from pytest_iris.transport import FileTransport, MockEndpoint
    from pytest_iris.transport.protocol import MessageTransport


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "iris_endpoint_faults(fail_next=0, status=503, latency=0, drop_next=0, down_for=0, "
        "fail_fraction=0, lose_fraction=0, seed=None): faults the iris_endpoint injects",
    )
    _check_kind(config)


def _check_kind(config: pytest.Config) -> None:
    """A ``transport.kind`` no plugin registers fails at start-up, not at the first transport.

    Checked only when something set a setting (else the kind is the default,
    ``http``); the plugins seen are those loaded by now (installed ones and
    the initial conftests), as for every other setting.
    """
    from pytest_iris._stash import SETTINGS_KEY

    if SETTINGS_KEY not in config.stash:
        return
    from pytest_iris.registry import Registry

    kind = config.stash[SETTINGS_KEY].transport.kind
    transports = Registry.from_pytest(config).transports
    if kind not in transports:
        raise pytest.UsageError(
            f"transport.kind {kind!r}: unknown transport (registered: "
            f"{', '.join(sorted(transports))}; plugins add transports through the "
            "pytest_iris_add_transports hook)"
        )


@pytest.fixture
def iris_endpoint_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keywords of ``iris_endpoint``'s :class:`~pytest_iris.transport.MockEndpoint`.

    A seed for its random faults derived from the test's node id; override
    this fixture in a conftest to change them for a directory.
    """
    from pytest_iris.seeds import seed_for  # not at start-up

    return {"seed": seed_for(request.config, request.node.nodeid, "endpoint")}


@pytest.fixture
def iris_transport_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``transport`` settings section as ``iris_transport`` and ``iris_file_transport``
    read it (``retry``, ``batch_size``, ``file_format`` ...); override to change them."""
    return settings_for(request.config).transport.model_dump()


@pytest.fixture
def iris_endpoint(
    request: pytest.FixtureRequest, iris_endpoint_kwargs: dict[str, Any]
) -> Iterator[MockEndpoint]:
    """A running :class:`~pytest_iris.transport.MockEndpoint` on 127.0.0.1 (ephemeral port).

    Routes of the user's own come from ``iris_endpoint.expect(...)``; a request
    that no route answered fails the test at teardown, listing what came.
    """
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
    # each failure is raised outside its except block: pytest would print it twice, chained
    with MockEndpoint(**iris_endpoint_kwargs) as endpoint:
        problem = None
        try:
            endpoint.faults.configure(**faults)
        except (ConfigError, TypeError, ValueError) as error:
            problem = f"{request.node.nodeid}: iris_endpoint_faults: {error}"
        if problem:
            pytest.fail(problem, pytrace=False)
        yield endpoint
        try:
            endpoint.check()
        except AssertionError as failure:
            problem = str(failure)
        if problem:
            pytest.fail(problem, pytrace=False)


@pytest.fixture
def iris_transport(
    request: pytest.FixtureRequest,
    iris_endpoint: MockEndpoint,
    tmp_path: Path,
    iris_transport_kwargs: dict[str, Any],
) -> Iterator[MessageTransport]:
    """The transport registered under ``transport.kind`` (an
    :class:`~pytest_iris.transport.HttpTransport` by default), bound to ``iris_endpoint``.

    Found through the registry, so a plugin's transport
    (``pytest_iris_add_transports``) is one ``kind`` away. Settings (retry,
    batching, retention) come from the ``transport`` section; the outbox
    lives in the test's ``tmp_path``. Use it inside a coroutine:
    ``asyncio.run(...)`` with ``async with iris_transport: ...``.
    """
    from pytest_iris.registry import Registry
    from pytest_iris.transport import TransportSettings

    settings = TransportSettings.model_validate(iris_transport_kwargs)
    transport = Registry.from_pytest(request.config).transport(
        settings.kind, settings, url=iris_endpoint.url, outbox_dir=tmp_path / "iris-outbox"
    )
    try:
        yield transport
    finally:
        close = getattr(transport, "close", None)
        if callable(close):
            close()


@pytest.fixture
def iris_file_transport(
    tmp_path: Path, iris_transport_kwargs: dict[str, Any]
) -> Iterator[FileTransport]:
    """A :class:`~pytest_iris.transport.FileTransport` writing ``tmp_path/messages.log``.

    Commands are read from ``tmp_path/commands.jsonl``; the format (``iris``
    or ``jsonl``) comes from the ``transport.file_format`` setting.
    """
    from pytest_iris.transport import FileTransport, TransportSettings

    settings = TransportSettings.model_validate(iris_transport_kwargs)
    suffix = "log" if settings.file_format == "iris" else "jsonl"
    with FileTransport(
        tmp_path / f"messages.{suffix}",
        format=settings.file_format,
        commands_path=tmp_path / "commands.jsonl",
        poll_interval_s=min(settings.poll_interval_s, 0.05),
    ) as transport:
        yield transport
