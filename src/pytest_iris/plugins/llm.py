"""pytest face of the LLM part: cassette options, the local OpenAI server, generator fixtures.

Only pytest and the standard library load here; openai, vcrpy and pydantic
load inside the fixtures that need them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_iris.plugins.core import settings_for

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo

    from pytest_iris.errors import CassetteError
    from pytest_iris.llm.cassette import CassetteSession
    from pytest_iris.llm.generator import LLMGenerator
    from pytest_iris.llm.providers import Provider
    from pytest_iris.llm.server import IrisOpenAIServer
    from pytest_iris.llm.settings import LLMSettings

_MODES = ("none", "once", "new_episodes", "all")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("iris")
    group.addoption(
        "--iris-record-mode",
        dest="iris_record_mode",
        default=None,
        type=_record_mode,
        metavar="MODE",
        help="LLM cassettes: none (default, replay only), once, new_episodes or all "
        "(default: ini iris_record_mode).",
    )
    group.addoption(
        "--iris-cassette-dir",
        dest="iris_cassette_dir",
        default=None,
        metavar="DIR",
        help="Directory of LLM cassettes, relative to the rootdir (default: ini "
        "iris_cassette_dir, else 'cassettes').",
    )
    parser.addini("iris_record_mode", "LLM cassette record mode (none, once, new_episodes, all).")
    parser.addini("iris_cassette_dir", "Directory of LLM cassettes, relative to the rootdir.")


def _record_mode(text: str) -> str:
    """``--iris-record-mode``: a usage error of one line naming the modes, as every bad option
    value (argparse's ``choices`` printed pytest's usage, inifile and rootdir lines too)."""
    if text not in _MODES:
        raise pytest.UsageError(f"--iris-record-mode: {text!r}: one of {', '.join(_MODES)}")
    return text


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "iris_cassette(name=None): record and replay every HTTP call of this test (any client) "
        "in a vcrpy cassette named after the test (or name), in the --iris-record-mode.",
    )
    config.addinivalue_line(
        "markers",
        "iris_llm(incidents=('startup',), count=5): what the iris_llm_log fixture asks the "
        "LLM generator to write (incidents in order, count entries each).",
    )


@pytest.fixture
def iris_openai_server() -> Iterator[IrisOpenAIServer]:
    """A local OpenAI-compatible server on 127.0.0.1 answering with IRIS lines."""
    from pytest_iris.llm.server import IrisOpenAIServer

    with IrisOpenAIServer() as server:
        yield server


@pytest.fixture
def iris_llm_settings(pytestconfig: pytest.Config) -> LLMSettings:
    """The ``llm`` section of pytest-iris settings (options > ini > env > YAML > defaults)."""
    return settings_for(pytestconfig).llm


@pytest.fixture
def iris_llm_providers(iris_llm_settings: LLMSettings) -> tuple[Provider, ...]:
    """The provider chain; override this fixture to point ``iris_llm`` elsewhere."""
    return iris_llm_settings.providers


@pytest.fixture
def iris_record_mode(iris_llm_settings: LLMSettings) -> str:
    """Record mode: ``--iris-record-mode``, else ini ``iris_record_mode``, else settings."""
    return iris_llm_settings.record_mode


@pytest.fixture
def iris_cassette_dir(pytestconfig: pytest.Config, iris_llm_settings: LLMSettings) -> Path:
    """Cassette directory: ``--iris-cassette-dir``, else ini ``iris_cassette_dir``, else settings."""
    return pytestconfig.rootpath / os.path.expanduser(iris_llm_settings.cassette_dir)


@pytest.fixture
def iris_cassette(
    request: pytest.FixtureRequest, iris_cassette_dir: Path, iris_record_mode: str
) -> Iterator[CassetteSession]:
    """This test's cassette, named after its node id, in the configured record mode.

    It records and replays every HTTP call of the test, whatever client makes
    it (the generator's, and the user's own LLM client); a request that finds
    no recording fails the test at teardown, saying how to record it.
    ``@pytest.mark.iris_cassette`` turns it on for a test that does not ask
    for the fixture; ``iris_cassette("name")`` names the cassette file.
    """
    from pytest_iris.errors import CassetteError
    from pytest_iris.llm.cassette import CassetteSession, cassette_path

    nodeid = request.node.nodeid
    path = cassette_path(iris_cassette_dir, nodeid)
    marker = request.node.get_closest_marker("iris_cassette")
    if marker is not None and (marker.args or marker.kwargs):
        unknown = sorted(set(marker.kwargs) - {"name"})
        if unknown or len(marker.args) + len(marker.kwargs) > 1:
            pytest.fail(
                f"{nodeid}: iris_cassette takes one argument, name (a cassette file name); "
                f"got args {marker.args!r}, keywords {sorted(marker.kwargs)}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
                pytrace=False,
            )
        name = marker.kwargs.get("name", marker.args[0] if marker.args else None)
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            pytest.fail(
                f"{nodeid}: iris_cassette takes one cassette file name (no '/'), got {name!r}",
                pytrace=False,
            )
        path = path.with_name(name if name.endswith(".yaml") else name + ".yaml")
    session = CassetteSession(path, iris_record_mode, nodeid=nodeid, capture="all")
    problem = None
    try:  # an unreadable cassette: its one line, not vcrpy's frames
        cassette = session.__enter__()
    except CassetteError as error:
        problem = str(error)
    if problem:
        pytest.fail(problem, pytrace=False)
    try:
        yield cassette
    finally:
        session.__exit__(*sys.exc_info())
    try:  # a miss the test failed with is not reported again (pytest keeps it in last_value)
        cassette.check(getattr(sys, "last_value", None))
    except CassetteError as error:
        problem = str(error)
    if problem:  # failed outside the except block: pytest would print the message twice, chained
        pytest.fail(problem, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test that failed on a cassette miss shows the miss, not the client's internals.

    The miss is raised inside the HTTP client (vcrpy's patch, under httpx, under
    the openai SDK, which re-raises it as ``APIConnectionError``): pytest would
    print some 70 lines of their frames before the one message that matters. The
    report keeps the test's own frames and the :class:`CassetteError` (its
    ``CassetteMiss``); ``--tb=long``, ``--tb=native`` or ``--full-trace`` print
    everything as before.
    """
    report = yield
    excinfo = call.excinfo
    if excinfo is None or not report.failed or _full_trace(item.config):
        return report
    miss = _cassette_error(excinfo.value)
    if miss is not None:
        shorter = _miss_repr(item, excinfo, miss)
        if shorter is not None:
            report.longrepr = shorter
    return report


def _full_trace(config: pytest.Config) -> bool:
    style = config.getoption("tbstyle", "auto")
    return bool(config.getoption("fulltrace", False)) or style in ("long", "native", "no")


def _cassette_error(error: BaseException | None) -> CassetteError | None:
    """The :class:`CassetteError` ``error`` is or wraps (``__cause__``/``__context__``)."""
    from _pytest.outcomes import OutcomeException

    from pytest_iris.errors import CassetteError

    if isinstance(error, AssertionError | OutcomeException):
        return None  # the test's own verdict, even one given while handling a miss
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, CassetteError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _miss_repr(
    item: pytest.Item, excinfo: ExceptionInfo[BaseException], miss: CassetteError
) -> Any:
    """``miss`` as pytest shows a failure, with the frames of the test's own code only.

    Those are the frames after pytest's own and before the first one in an
    installed library (site-packages, the standard library, pytest-iris); ``None`` if
    there are none to show.
    """
    import sysconfig

    from _pytest._code.code import ExceptionInfo, Traceback, TracebackEntry

    import pytest_iris

    libraries = tuple(
        {os.path.join(sysconfig.get_path(name), "") for name in ("stdlib", "purelib", "platlib")}
        | {os.path.join(os.path.dirname(pytest_iris.__file__), "")}  # an editable install
    )
    own: list[TracebackEntry] = []
    for entry in excinfo.traceback:
        inside = str(entry.path).startswith(libraries)
        if inside and own:
            break
        if not inside:
            own.append(entry)
    if not own or miss.__traceback__ is None:
        return None
    info = ExceptionInfo.from_exception(miss)
    info.traceback = Traceback(own)
    # not item.repr_failure: its filter re-walks the raw traceback into the libraries
    config = item.config
    shown = info.getrepr(
        funcargs=True,
        showlocals=bool(config.getoption("showlocals", False)),
        style="short" if config.getoption("tbstyle", "auto") == "short" else "long",
        tbfilter=False,
        truncate_locals=config.get_verbosity() <= 1,
        chain=False,
    )
    if excinfo.value is not miss:
        shown.addsection(
            "pytest-iris",
            f"the miss was re-raised as "
            f"{type(excinfo.value).__module__}.{type(excinfo.value).__qualname__}; "
            "--tb=long shows that and the HTTP client's frames",
        )
    return shown


@pytest.fixture(autouse=True)
def _iris_cassette_marker(request: pytest.FixtureRequest) -> None:
    """``@pytest.mark.iris_cassette``: the test's HTTP traffic goes through ``iris_cassette``."""
    if request.node.get_closest_marker("iris_cassette") is not None:
        request.getfixturevalue("iris_cassette")


@pytest.fixture
def iris_llm(
    iris_cassette: CassetteSession,
    iris_llm_providers: tuple[Provider, ...],
    iris_llm_settings: LLMSettings,
) -> Iterator[LLMGenerator]:
    """An :class:`~pytest_iris.llm.generator.LLMGenerator` bound to this test's cassette."""
    from pytest_iris.llm.generator import LLMGenerator

    settings = iris_llm_settings.model_copy(update={"providers": tuple(iris_llm_providers)})
    with LLMGenerator.from_settings(settings, transport=iris_cassette.transport) as generator:
        yield generator


@pytest.fixture
def iris_llm_log(request: pytest.FixtureRequest, iris_llm: LLMGenerator, tmp_path: Path) -> Path:
    """``tmp_path/mgr/messages.log`` written from the LLM's (recorded) output.

    The ``iris_llm`` marker names the incidents and the entries per incident.
    """
    from pytest_iris.errors import CassetteError
    from pytest_iris.llm.generator import MAX_ENTRIES
    from pytest_iris.llm.logfile import write_incidents
    from pytest_iris.llm.prompts import INCIDENTS

    nodeid = request.node.nodeid
    marker = request.node.get_closest_marker("iris_llm")
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
    args = marker.args if marker else ()
    incidents = kwargs.pop("incidents", ("startup",))
    if isinstance(incidents, str):
        incidents = (incidents,)
    count = kwargs.pop("count", 5)
    # a typo here is the user's: one line naming the test, the keyword and what is allowed
    if kwargs or args:
        pytest.fail(
            f"{nodeid}: iris_llm takes keywords incidents and count only; got "
            + (f"unknown {sorted(kwargs)}" if kwargs else f"positional {args!r}"),
            pytrace=False,
        )
    unknown = [name for name in incidents if name not in INCIDENTS]
    if unknown:
        pytest.fail(
            f"{nodeid}: iris_llm incidents: unknown {unknown}; known: "
            + ", ".join(sorted(INCIDENTS)),
            pytrace=False,
        )
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ENTRIES:
        pytest.fail(
            f"{nodeid}: iris_llm count={count!r}: allowed 1..{MAX_ENTRIES} entries per incident",
            pytrace=False,
        )
    problem = None
    try:
        return write_incidents(iris_llm, tmp_path / "mgr" / "messages.log", tuple(incidents), count)
    except CassetteError as error:  # its one line, not the openai/asyncio frames under it
        problem = str(error)
    pytest.fail(problem, pytrace=False)  # outside the except: not printed twice, chained
