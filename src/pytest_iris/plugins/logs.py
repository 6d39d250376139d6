"""pytest face of the log generator: ``--iris-seed``, ``@pytest.mark.iris_log``, log fixtures.

Only pytest and the standard library are imported here; the generator
loads inside the fixtures. Every test's seed is derived from the base seed
(``--iris-seed``, ini ``iris_seed``, default 0) and the test's node id, so
a failing test replays with the seed shown in the report header, on any
machine and any xdist worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iris.plugins.core import base_seed, settings_for
from pytest_iris.seeds import seed_for

if TYPE_CHECKING:
    from pytest_iris.generation.factory import GeneratedLog, LogFactory
    from pytest_iris.generation.live import LiveLogWriter
    from pytest_iris.registry import Registry

_MARKER = (
    "iris_log(*sequences, count=N, seed=N, start=ISO, rate=R, jitter=J, install_dir=DIR, version=V, alerts=BOOL, structured=BOOL, "
    "instance=NAME, live={...}): choose what the iris_log / iris_live_log fixtures generate "
    "(sequences are names or 'name:key=value,...'; see `pytest-iris sequences`)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iris", "pytest-iris: InterSystems IRIS emulation")
    group.addoption(
        "--iris-seed",
        dest="iris_seed",
        default=None,
        type=int,
        metavar="N",
        help="base seed of the run (default: ini iris_seed, else the seed setting, else 0); "
        "each test's seeds (logs, sandbox host, endpoint) derive from it and its node id",
    )
    parser.addini("iris_seed", "base seed of the run (an integer)", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)


def pytest_report_header(config: pytest.Config) -> str:
    seed = base_seed(config)
    return f"iris-seed: {seed} (replay generated logs with --iris-seed={seed})"


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("iris_log")
    if marker is None:
        return {}
    options = dict(marker.kwargs)
    if marker.args:
        options["sequences"] = marker.args
    return options


@pytest.fixture
def iris_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed, derived from the base seed and the node id."""
    return seed_for(request.config, request.node.nodeid, "test")


def _registry(config: pytest.Config) -> Registry:
    """Where sequence names and templates are found: built-ins and every plugin's."""
    from pytest_iris.registry import Registry

    return Registry.from_pytest(config)


@pytest.fixture
def iris_log_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Stream options of ``iris_log``, ``iris_log_factory`` and ``iris_live_log``.

    From the settings (``logs`` section, ``instance``); override this fixture
    in a conftest to change them for a directory, ``@pytest.mark.iris_log``
    to change them for one test.
    """
    settings = settings_for(request.config)
    logs = settings.logs
    return {
        "rate": logs.rate,
        "jitter": logs.jitter,
        "count": logs.count,
        "instance": settings.instance,
    }


@pytest.fixture
def iris_live_log_kwargs() -> dict[str, Any]:
    """Writer options of ``iris_live_log`` (``rate``, ``rotate_every`` ...); the marker's
    ``live={...}`` wins. Empty: the :class:`~pytest_iris.generation.live.LiveLogWriter` defaults."""
    return {}


@pytest.fixture
def iris_log_factory(
    request: pytest.FixtureRequest, tmp_path: Path, iris_seed: int, iris_log_kwargs: dict[str, Any]
) -> LogFactory:
    """Make several generated messages.log files: ``iris_log_factory("startup", count=500)``."""
    from pytest_iris.generation.factory import LogFactory

    return LogFactory(
        tmp_path / "iris-logs", iris_seed, **iris_log_kwargs, registry=_registry(request.config)
    )


@pytest.fixture
def iris_log(
    request: pytest.FixtureRequest, tmp_path: Path, iris_seed: int, iris_log_kwargs: dict[str, Any]
) -> GeneratedLog:
    """A finished ``<tmp>/iris/mgr/messages.log`` chosen by ``@pytest.mark.iris_log``."""
    from pytest_iris.generation.factory import LogFactory

    options = {
        **iris_log_kwargs,
        "registry": _registry(request.config),
        **_marker_options(request),
    }
    options.pop("live", None)
    seed = options.pop("seed", iris_seed)
    return LogFactory(tmp_path, seed)(seed=seed, root=tmp_path / "iris", **options)


@pytest.fixture
def iris_live_log(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    iris_seed: int,
    iris_log_kwargs: dict[str, Any],
    iris_live_log_kwargs: dict[str, Any],
) -> Iterator[LiveLogWriter]:
    """A started :class:`~pytest_iris.generation.live.LiveLogWriter` on ``<tmp>/iris-live/mgr/messages.log``.

    Stream options come from ``@pytest.mark.iris_log``, writer options from
    its ``live={...}`` (``rate``, ``rotate_every`` ...). Stopped and joined
    at teardown.
    """
    from pytest_iris.generation.factory import parse_start
    from pytest_iris.generation.live import LiveLogWriter
    from pytest_iris.generation.outputs import messages_log_path
    from pytest_iris.generation.stream import LogStream

    defaults = {**iris_log_kwargs, "registry": _registry(request.config)}
    defaults.pop("count", None)
    options = {**defaults, **_marker_options(request)}
    live = {**iris_live_log_kwargs, **(options.pop("live", None) or {})}
    seed = options.pop("seed", iris_seed)
    root = tmp_path / "iris-live"
    options.setdefault("count", 100_000)
    options.setdefault("sequences", ())
    if "start" in options:
        options["start"] = parse_start(options["start"])
    stream = LogStream(seed, **options)
    with LiveLogWriter(messages_log_path(root, stream.context.profile), stream, **live) as writer:
        yield writer
