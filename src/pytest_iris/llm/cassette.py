"""Cassettes: where recordings live, how requests match them, and how they are recorded.

Recording goes through vcrpy (its YAML format, its patch of the openai SDK's
HTTP transport). Replay does not: vcrpy scans every recording for every
request, so replay uses :class:`ReplayTransport`, which loads a cassette once,
indexes it by matching key (method, path, JSON body compared semantically;
host and port are ignored, so a recording made against an ephemeral port
replays anywhere) and never opens a socket.

With ``capture="all"`` (the ``iris_cassette`` fixture and marker) a session
also records and replays the traffic of the user's own code, whatever HTTP
client it uses (every client vcrpy patches: httpx, httpx2, requests,
urllib3, aiohttp ...), with the same record modes, matching, scrubbing and
miss messages. The files are plain vcrpy cassettes: vcrpy replays them
matched on ``method``, ``path`` and the body (``iris_json_body``, or
``body`` when the client's JSON is byte-identical).
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from pytest_iris.errors import CassetteError, ConfigError
from pytest_iris.llm._http import patcher_name
from pytest_iris.llm.matching import (
    Key,
    body_differences,
    canonical_body,
    json_body_matcher,
    match_key,
)
from pytest_iris.llm.replay import CassetteIndex, ReplayTransport, miss_message
from pytest_iris.llm.scrub import scrub_request, scrub_response
from pytest_iris.llm.settings import INI, OPTION, RECORD_MODES
from pytest_iris.llm.storage import IrisPersister, origins, read_cassette, write_atomic

__all__ = [
    "INI",
    "OPTION",
    "RECORD_MODES",
    "CassetteIndex",
    "CassetteSession",
    "IrisPersister",
    "Key",
    "ReplayTransport",
    "body_differences",
    "canonical_body",
    "cassette_path",
    "check_mode",
    "json_body_matcher",
    "match_key",
    "origins",
    "read_cassette",
    "recorder",
    "write_atomic",
]

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.\-\[\]=,+]+")


# -- names ---------------------------------------------------------------------------------


def cassette_path(directory: str | os.PathLike[str], nodeid: str) -> Path:
    """``<directory>/<test file without .py>/<Class.test_name[param]>.yaml`` for a node id.

    Node ids are relative to the rootdir, so the name is the same on every
    machine and every xdist worker.
    """
    file_part, _, rest = nodeid.partition("::")
    parts = [_safe(p) if p not in ("..", ".") else "_up_" for p in PurePosixPath(file_part).parts]
    if parts:
        parts[-1] = parts[-1].removesuffix(".py")
    name = _safe(rest.replace("::", ".")) if rest else "module"
    return Path(directory, *parts, name + ".yaml")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "_"


def check_mode(mode: str) -> str:
    if mode not in RECORD_MODES:
        raise ConfigError(
            f"invalid record mode {mode!r} (from {OPTION} or ini {INI}); "
            f"choose one of {', '.join(RECORD_MODES)}"
        )
    return mode


Capture = Literal["openai", "all"]


class CassetteSession:
    """One test's cassette: replay transport, or vcrpy recording, by record mode.

    ``none`` replays only; ``once`` replays an existing cassette and records a
    missing one; ``new_episodes`` replays what matches and records the rest;
    ``all`` records everything again and replaces the cassette's content.
    ``capture="all"`` covers every HTTP client of the process, not only the
    openai SDK's; requests it could not replay are listed by :meth:`check`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        mode: str = "none",
        *,
        nodeid: str | None = None,
        capture: Capture = "openai",
    ):
        self.path = Path(path)
        self.mode = check_mode(mode)
        self.nodeid = nodeid
        self.capture = capture
        self.transport: ReplayTransport | None = None
        self._context: Any = None
        #: why each request that found no recording missed (replay modes)
        self.misses: list[str] = []
        self._raised: list[BaseException] = []  # the error each miss raised, in order

    @property
    def replaying(self) -> bool:
        return self.mode == "none" or (
            self.mode == "once" and self.path.is_file() and self.path.stat().st_size > 0
        )

    def __enter__(self) -> CassetteSession:
        everything = self.capture == "all"
        if self.replaying:
            self.transport = ReplayTransport(self.path, self.mode, self.nodeid)
            if not everything:
                return self
            self._context = recorder("none", everything=True).use_cassette(str(self.path))
        else:
            self._context = recorder(self.mode, everything=everything).use_cassette(str(self.path))
        self._watch(self._context.__enter__())
        return self

    def _watch(self, cassette: Any) -> None:
        """Note every request vcrpy cannot replay, with the reason, for :meth:`check`."""
        can_play = cassette.can_play_response_for

        def watched(request: Any) -> bool:
            __tracebackhide__ = True  # the test's failure starts at its own call
            if can_play(request):
                return True
            if cassette.write_protected and cassette.filter_request(request) is not None:
                # vcrpy would raise its own error next, whose advice (record_mode='once',
                # "the default") is not pytest-iris's: raise ours, of vcrpy's type too
                message = miss_message(
                    self.path, self.mode, self.nodeid, request.method, request.uri, request.body
                )
                self.misses.append(message)
                self._raised.append(_miss_type()(message))
                raise self._raised[-1]
            return False

        cassette.can_play_response_for = watched

    def check(self, failure: BaseException | None = None) -> None:
        """Raise :class:`CassetteError` naming the requests that found no recording.

        Misses whose error is in ``failure``'s chain (the test failed with it, so the
        user has read it already) are left out; a miss the code under test caught is not.
        """
        shown: set[int] = set()
        while failure is not None and id(failure) not in shown:
            shown.add(id(failure))
            failure = failure.__cause__ or failure.__context__
        left = [m for m, e in zip(self.misses, self._raised, strict=True) if id(e) not in shown]
        if left:
            more = f" (+{len(left) - 1} more)" if len(left) > 1 else ""
            raise CassetteError(left[0] + more)

    def __exit__(self, *exc: Any) -> None:
        context, self._context = self._context, None
        if context is not None:
            context.__exit__(*exc)


@functools.cache
def _miss_type() -> type[CassetteError]:
    """The error a request with no recording raises: a :class:`CassetteError` with
    pytest-iris's message that code catching vcrpy's own miss error still catches."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    class CassetteMiss(CassetteError, CannotOverwriteExistingCassetteException):  # type: ignore[misc]
        def __init__(self, message: str) -> None:
            Exception.__init__(self, message)

    CassetteMiss.__qualname__ = "CassetteMiss"  # shown as pytest_iris.llm.cassette.CassetteMiss
    return CassetteMiss


def _scrub_or_pass(request: Any) -> Any:
    """Requests to a running mock endpoint pass through unrecorded; the rest are scrubbed."""
    from pytest_iris._http.server import unrecorded_addresses

    parts = urlsplit(request.uri)
    host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
    if (host, parts.port) in unrecorded_addresses():
        return None
    return scrub_request(request)


def recorder(mode: str, *, everything: bool = False) -> Any:
    """A vcrpy ``VCR`` configured for pytest-iris recordings in ``mode``.

    ``everything``: patch every HTTP client vcrpy knows, not only the openai SDK's.
    """
    import vcr
    from vcr.patch import PATCHER_NAMES

    machine = vcr.VCR(
        serializer="yaml",
        record_mode=check_mode(mode),
        match_on=("method", "path", "iris_json_body"),
        before_record_request=_scrub_or_pass,
        before_record_response=scrub_response,
        decode_compressed_response=True,
        drop_unused_requests=mode == "all",
        skip_patchers=() if everything else tuple(n for n in PATCHER_NAMES if n != patcher_name()),
    )
    machine.register_matcher("iris_json_body", json_body_matcher)
    machine.register_persister(IrisPersister)
    return machine
