"""pytest face of the log generator: ``--iris-seed``, ``@pytest.mark.iris_log``, log fixtures.

Only pytest and the standard library are imported here; the generator
loads inside the fixtures. Every test's seed is derived from the base seed
(``--iris-seed``, ini ``iris_seed``, default 0) and the test's node id, so
a failing test replays with the seed shown in the report header, on any
machine and any xdist worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from pytest_iris.plugins.core import base_seed, settings_for

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
        type=_seed,
        metavar="N",
        help="base seed of the run (default: ini iris_seed, else the seed setting, else 0); "
        "each test's seeds (logs, sandbox host, endpoint) derive from it and its node id",
    )
    parser.addini("iris_seed", "base seed of the run (an integer)", default="")


def _seed(text: str) -> int:
    """``--iris-seed``: 0..2**63-1, as ``pytest-iris generate --seed`` (names the range).

    A usage error of one line, as every bad option value; argparse's own error
    (exit 4 too) printed pytest's usage, inifile and rootdir lines around it.
    """
    import argparse

    from pytest_iris.cli._numbers import MAX_SEED, bounded_int

    try:
        return bounded_int(0, MAX_SEED)(text)
    except argparse.ArgumentTypeError as error:
        raise pytest.UsageError(f"--iris-seed: {error}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)


def pytest_report_header(config: pytest.Config) -> str:
    seed = base_seed(config)
    return f"iris-seed: {seed} (replay generated logs with --iris-seed={seed})"


#: the marker's public keywords (README, docs/logs.md); internal LogStream ones stay out
MARKER_KEYWORDS = (
    "alerts",
    "count",
    "install_dir",
    "instance",
    "jitter",
    "live",
    "rate",
    "seed",
    "sequences",
    "start",
    "structured",
    "version",
)


def _bad_marker(request: pytest.FixtureRequest, message: str) -> NoReturn:
    """Fail setup in one line naming the test and the marker (no traceback: it is the user's)."""
    pytest.fail(f"{request.node.nodeid}: @pytest.mark.iris_log: {message}", pytrace=False)


def _nearest(name: str, allowed: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(allowed), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The marker's keywords, checked here at setup: unknown names and bad values fail the test."""
    marker = request.node.get_closest_marker("iris_log")
    if marker is None:
        return {}
    options = dict(marker.kwargs)
    if marker.args:
        options["sequences"] = marker.args
    for name in options:
        if name not in MARKER_KEYWORDS:
            _bad_marker(
                request,
                f"unknown keyword {name!r}; allowed: {', '.join(MARKER_KEYWORDS)}"
                + _nearest(name, MARKER_KEYWORDS),
            )
    _check_values(request, options)
    return options


def _check_values(request: pytest.FixtureRequest, options: dict[str, Any]) -> None:
    """Numbers in their documented ranges (pytest_iris._limits), ``live`` a dict of writer options."""
    from pytest_iris._limits import MAX_LINES, MAX_RATE, check_number
    from pytest_iris.errors import ConfigError

    bounds = {
        "count": (0, MAX_LINES, True),
        "seed": (0, 2**63 - 1, True),
        "rate": (0, MAX_RATE, False),
        "jitter": (0, 1, False),
    }
    try:
        for name, (low, high, integer) in bounds.items():
            if name in options:
                check_number(options[name], name, low, high, integer=integer)
        if options.get("rate") == 0:
            raise ConfigError(f"rate=0: allowed a number above 0, at most {int(MAX_RATE)}")
        for name in ("alerts", "structured"):
            if name in options and not isinstance(options[name], bool):
                raise ConfigError(f"{name}={options[name]!r}: must be True or False")
        live = options.get("live")
        if live is not None:
            from pytest_iris.generation.live import OPTIONS, check_options

            if not isinstance(live, dict):
                raise ConfigError(
                    f"live={live!r}: must be a dict of writer options ({', '.join(OPTIONS)})"
                )
            for name in live:
                if name not in OPTIONS:
                    raise ConfigError(
                        f"live: unknown option {name!r}; allowed: {', '.join(OPTIONS)}"
                        + _nearest(name, OPTIONS)
                    )
            check_options(live)
        return
    except ConfigError as error:
        problem = str(error).removeprefix("LiveLogWriter: ")
    _bad_marker(request, problem)  # outside the except: no chained traceback


@contextlib.contextmanager
def _user_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """A ConfigError while building the log (unknown sequence, bad start ...) is the user's:
    one line with the test's name, not a traceback."""
    from pytest_iris.errors import ConfigError

    try:
        yield
        return
    except ConfigError as error:
        problem = str(error)
    where = "@pytest.mark.iris_log" if request.node.get_closest_marker("iris_log") else ""
    where = where or f"{request.fixturename} settings"
    # raised from the context manager's exit, it chained the ConfigError ("During handling ...")
    raise pytest.fail.Exception(
        f"{request.node.nodeid}: {where}: {problem}", pytrace=False
    ) from None


@pytest.fixture
def iris_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed, derived from the base seed and the node id."""
    from pytest_iris.seeds import seed_for  # not at start-up

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
    with _user_errors(request):
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
    with _user_errors(request):
        if "start" in options:
            options["start"] = parse_start(options["start"])
        stream = LogStream(seed, **options)
        writer = LiveLogWriter(messages_log_path(root, stream.context.profile), stream, **live)
    with writer:
        yield writer
