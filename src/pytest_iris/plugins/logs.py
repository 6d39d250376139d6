"""pytest face of the log generator: ``--iris-seed``, ``@pytest.mark.iris_log``, log fixtures.

Only pytest and the standard library are imported here; the generator
loads inside the fixtures. Every test's seed is derived from the base seed
(``--iris-seed``, ini ``iris_seed``, default 0) and the test's node id, so
a failing test replays with the seed shown in the report header, on any
machine and any xdist worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

_MARKER = (
    "iris_log(*sequences, count=N, seed=N, start=ISO, rate=R, jitter=J, install_dir=DIR, "
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
        help="base seed for generated IRIS logs (default: ini iris_seed, else 0); each test's "
        "seed is derived from it and the test's node id",
    )
    parser.addini("iris_seed", "base seed for generated IRIS logs (an integer)", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)


def base_seed(config: pytest.Config) -> int:
    """The run's base seed: ``--iris-seed``, else ini ``iris_seed``, else the
    settings' ``logs.seed`` (YAML or ``PYTEST_IRIS_LOGS__SEED``), else 0."""
    value = config.getoption("iris_seed", None)
    if value is not None:
        return int(value)
    raw = str(config.getini("iris_seed") or "").strip()
    if raw:
        try:
            return int(raw)
        except ValueError:
            raise pytest.UsageError(
                f"ini option iris_seed must be an integer, got {raw!r}"
            ) from None
    from pytest_iris.plugins import core

    # Settings were loaded at start-up only if a file or PYTEST_IRIS_* asked for
    # them; otherwise pydantic stays unimported and the default applies.
    if core._SETTINGS_KEY in config.stash:
        seed = core.settings_for(config).logs.seed
        if seed is not None:
            return seed
    return 0


def seed_for_test(base: int, nodeid: str) -> int:
    """A test's seed: SHA-256 of the base seed and node id (never ``hash()``)."""
    digest = hashlib.sha256(f"{base}\x1ftest\x1f{nodeid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


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
    return seed_for_test(base_seed(request.config), request.node.nodeid)


_CATALOG_KEY = pytest.StashKey[Any]()


def _catalog(config: pytest.Config) -> Any:
    """The template catalog plus what ``pytest_iris_add_templates`` hooks return (once a run)."""
    if _CATALOG_KEY not in config.stash:
        from pytest_iris.generation.catalog import load_catalog

        catalog = load_catalog()
        extra: list[Any] = []
        if hasattr(config.hook, "pytest_iris_add_templates"):  # specs come with the chaos part
            from pytest_iris.registry import Registry

            extra = list(Registry.from_pytest(config).templates)
        config.stash[_CATALOG_KEY] = catalog.extended(extra) if extra else catalog
    return config.stash[_CATALOG_KEY]


def _defaults(config: pytest.Config) -> dict[str, Any]:
    """Stream defaults from the settings' ``logs`` section, and the catalog."""
    from pytest_iris.plugins.core import settings_for

    logs = settings_for(config).logs
    return {
        "rate": logs.rate,
        "jitter": logs.jitter,
        "count": logs.count,
        "instance": logs.instance,
        "catalog": _catalog(config),
    }


@pytest.fixture
def iris_log_factory(request: pytest.FixtureRequest, tmp_path: Any, iris_seed: int) -> Any:
    """Make several generated messages.log files: ``iris_log_factory("startup", count=500)``."""
    from pytest_iris.generation.factory import LogFactory

    return LogFactory(tmp_path / "iris-logs", iris_seed, **_defaults(request.config))


@pytest.fixture
def iris_log(request: pytest.FixtureRequest, tmp_path: Any, iris_seed: int) -> Any:
    """A finished ``<tmp>/iris/mgr/messages.log`` chosen by ``@pytest.mark.iris_log``."""
    from pytest_iris.generation.factory import LogFactory

    options = {**_defaults(request.config), **_marker_options(request)}
    options.pop("live", None)
    seed = options.pop("seed", iris_seed)
    return LogFactory(tmp_path, seed)(seed=seed, root=tmp_path / "iris", **options)


@pytest.fixture
def iris_live_log(request: pytest.FixtureRequest, tmp_path: Any, iris_seed: int) -> Iterator[Any]:
    """A started :class:`~pytest_iris.generation.live.LiveLogWriter` on ``<tmp>/iris-live/mgr/messages.log``.

    Stream options come from ``@pytest.mark.iris_log``, writer options from
    its ``live={...}`` (``rate``, ``rotate_every`` ...). Stopped and joined
    at teardown.
    """
    from pytest_iris.generation.factory import parse_start
    from pytest_iris.generation.live import LiveLogWriter
    from pytest_iris.generation.outputs import messages_log_path
    from pytest_iris.generation.stream import LogStream

    defaults = _defaults(request.config)
    defaults.pop("count")
    options = {**defaults, **_marker_options(request)}
    live = dict(options.pop("live", None) or {})
    seed = options.pop("seed", iris_seed)
    root = tmp_path / "iris-live"
    options.setdefault("install_dir", str(root))
    options.setdefault("count", 100_000)
    options.setdefault("sequences", ())
    if "start" in options:
        options["start"] = parse_start(options["start"])
    stream = LogStream(seed, **options)
    with LiveLogWriter(messages_log_path(root), stream, **live) as writer:
        yield writer
