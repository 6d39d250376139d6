"""Cassettes: where recordings live, how requests match them, and how they are recorded.

Recording goes through vcrpy (its YAML format, its patch of the openai SDK's
HTTP transport). Replay does not: vcrpy scans every recording for every
request, so replay uses :class:`ReplayTransport`, which loads a cassette once,
indexes it by matching key (method, path, JSON body compared semantically;
host and port are ignored, so a recording made against an ephemeral port
replays anywhere) and never opens a socket.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import deque
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Final, get_args
from urllib.parse import urlsplit

from pytest_iris import __version__
from pytest_iris.errors import CassetteError, ConfigError
from pytest_iris.llm._http import http_module, patcher_name
from pytest_iris.llm.scrub import scrub_request, scrub_response
from pytest_iris.llm.settings import RecordModeName

RECORD_MODES: Final[tuple[str, ...]] = get_args(RecordModeName)
OPTION: Final = "--iris-record-mode"
INI: Final = "iris_record_mode"
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_.\-\[\]=,+]+")
_KNOWN_SERVERS: Final = {
    "pytest-iris-iris_openai_server": (
        "pytest-iris iris_openai_server (local template engine, not a hosted model)"
    ),
}

Key = tuple[str, str, str]


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


# -- matching ------------------------------------------------------------------------------


def canonical_body(body: bytes | str | None) -> str:
    """The body as sorted-key compact JSON (or as text when it is not JSON)."""
    if body is None or body == b"" or body == "":
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return json.dumps(
            json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    except ValueError:
        return text


def match_key(method: str, url: str, body: bytes | str | None) -> Key:
    """What a recording is matched on: method, path, semantic JSON body."""
    return (method.upper(), urlsplit(url).path or "/", canonical_body(body))


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: bodies equal as JSON values (key order ignored)."""
    if canonical_body(r1.body) != canonical_body(r2.body):
        raise AssertionError("JSON bodies differ: " + "; ".join(body_differences(r1.body, r2.body)))


def body_differences(new: Any, recorded: Any, limit: int = 3) -> list[str]:
    """Where two JSON bodies differ, as ``path: new != recorded`` (at most ``limit``)."""
    try:
        a, b = (
            json.loads(canonical_body(new) or "null"),
            json.loads(canonical_body(recorded) or "null"),
        )
    except ValueError:
        return ["body is not JSON"]
    out: list[str] = []
    _diff(a, b, "body", out, limit)
    return out


def _diff(a: Any, b: Any, where: str, out: list[str], limit: int) -> None:
    if len(out) >= limit or a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            _diff(a.get(k, "<missing>"), b.get(k, "<missing>"), f"{where}.{k}", out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{where}[{i}]", out, limit)
    else:
        out.append(f"{where}: {_short(a, b)} != recorded {_short(b, a)}")


def _short(value: Any, other: Any = None) -> str:
    if isinstance(value, str) and isinstance(other, str):
        at = next(
            (i for i, (x, y) in enumerate(zip(value, other, strict=False)) if x != y),
            min(len(value), len(other)),
        )
        value = ("..." if at > 20 else "") + value[max(0, at - 20) :]
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


# -- storage -------------------------------------------------------------------------------


def origins(requests: list[Any], responses: list[dict[str, Any]]) -> list[str]:
    """Where the interactions were recorded: origin and, when known, what answered."""
    seen: dict[str, None] = {}
    for request, response in zip(requests, responses, strict=False):
        parts = urlsplit(request.uri if hasattr(request, "uri") else request["uri"])
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        server = headers.get("server") or []
        name = (server[0] if isinstance(server, list) and server else str(server or "")).split("/")[
            0
        ]
        what = _KNOWN_SERVERS.get(name, f"server header {name!r}" if name else "unknown server")
        seen[f"{parts.scheme}://{parts.netloc} - {what}"] = None
    return list(seen)


def write_atomic(path: Path, data: str) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class IrisPersister:
    """vcrpy persister: atomic writes, and metadata saying where the recording came from."""

    @staticmethod
    def load_cassette(cassette_path: str | os.PathLike[str], serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        if not path.is_file():
            raise CassetteNotFoundError()
        data = path.read_text("utf-8")
        if not data.strip():
            raise CassetteNotFoundError()
        return deserialize(data, serializer)

    @staticmethod
    def save_cassette(
        cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any
    ) -> None:
        import vcr
        from vcr.serialize import serialize

        metadata = dict(cassette_dict.get("metadata") or {})
        metadata["recorded_against"] = origins(
            cassette_dict["requests"], cassette_dict["responses"]
        )
        metadata["recorded_with"] = f"pytest-iris {__version__}, vcrpy {vcr.__version__}"
        write_atomic(
            Path(cassette_path), serialize({**cassette_dict, "metadata": metadata}, serializer)
        )


def read_cassette(path: Path) -> dict[str, Any]:
    """The raw cassette mapping (``interactions``, ``metadata``); a CassetteError if unreadable."""
    from vcr.serializers import yamlserializer

    try:
        data = yamlserializer.deserialize(path.read_text("utf-8"))
    except (OSError, ValueError, Exception) as error:  # yaml errors subclass Exception
        raise CassetteError(f"cassette {path} cannot be read: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"cassette {path} is not a vcrpy cassette (no 'interactions' list)")
    return data


# -- replay --------------------------------------------------------------------------------


class CassetteIndex:
    """A cassette's recordings by matching key, each played once in recorded order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = read_cassette(path)
        self.metadata: dict[str, Any] = data.get("metadata") or {}
        self._entries: dict[Key, deque[tuple[int, str, list[tuple[str, str]], bytes]]] = {}
        #: (method, path, body bytes as recorded) -> key: skips re-encoding an identical body
        self._raw: dict[tuple[str, str, bytes], Key] = {}
        self.size = 0
        for number, interaction in enumerate(data["interactions"], 1):
            try:
                request, response = interaction["request"], interaction["response"]
                key = match_key(request["method"], request["uri"], request.get("body"))
                body = response["body"]["string"]
                raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
                headers = [(n, v) for n, values in response["headers"].items() for v in values]
                entry = (
                    int(response["status"]["code"]),
                    response["status"].get("message") or "",
                    headers,
                    raw,
                )
            except (KeyError, TypeError, AttributeError) as error:
                raise CassetteError(
                    f"cassette {path}: interaction {number} is malformed ({error!r})"
                ) from error
            self._entries.setdefault(key, deque()).append(entry)
            raw_body = request.get("body")
            if isinstance(raw_body, str):
                raw_body = raw_body.encode("utf-8")
            if isinstance(raw_body, bytes):
                self._raw.setdefault((key[0], key[1], raw_body), key)
            self.size += 1
        self._played: dict[Key, int] = {}

    def key_for(self, method: str, path: str, body: bytes) -> Key:
        """The matching key of a request (bodies byte-identical to a recording skip JSON)."""
        return self._raw.get((method, path, body)) or (method, path, canonical_body(body))

    def keys(self) -> Iterator[Key]:
        return iter(self._entries)

    def play(self, key: Key) -> tuple[int, str, list[tuple[str, str]], bytes] | None:
        queue = self._entries.get(key)
        if not queue:
            return None
        self._played[key] = self._played.get(key, 0) + 1
        return queue.popleft()

    def miss_reason(self, key: Key) -> str:
        """Why ``key`` has no recording left: played already, or the nearest difference."""
        played = self._played.get(key, 0)
        if played:
            return f"its {played} recording(s) were already played"
        near = [k for k in self._entries if k[:2] == key[:2]]
        if not near:
            return f"the cassette has no {key[0]} {key[1]} request at all"
        diffs = min((body_differences(key[2], k[2]) for k in near), key=len)
        return "the nearest recording differs in " + "; ".join(diffs)


class ReplayTransport:
    """An HTTP transport for the openai SDK's client that answers from a cassette.

    Loads the cassette on the first request (once) and never touches the network.
    """

    def __init__(self, path: Path, mode: str = "none", nodeid: str | None = None) -> None:
        self.path = path
        self.mode = mode
        self.nodeid = nodeid
        self._index: CassetteIndex | None = None
        self._httpx = http_module()

    @property
    def index(self) -> CassetteIndex:
        """The cassette's index, loaded on first use."""
        return self._index if self._index is not None else self.load()

    def load(self) -> CassetteIndex:
        """Read and index the cassette (again): every recording becomes playable."""
        if not self.path.is_file():
            raise CassetteError(
                f"cassette {self.path} does not exist and record mode {self.mode!r} only "
                f"replays; {self._how_to_record()}"
            )
        self._index = CassetteIndex(self.path)
        return self._index

    def _how_to_record(self) -> str:
        target = f" {self.nodeid}" if self.nodeid else ""
        if self.path.is_file():
            return (
                f"add the request with `pytest{target} {OPTION}=new_episodes` (or record the "
                f"whole cassette again with `{OPTION}=all`; ini key `{INI}`)"
            )
        return f"record it with `pytest{target} {OPTION}=once` (or ini `{INI} = once`)"

    async def handle_async_request(self, request: Any) -> Any:
        body = await request.aread()
        index = self.index
        key = index.key_for(request.method.upper(), request.url.path or "/", body)
        found = index.play(key)
        if found is None:
            raise CassetteError(
                f"no recording in cassette {self.path} for {key[0]} {key[1]}: "
                f"{index.miss_reason(key)}. Record mode {self.mode!r} replays only this "
                "cassette's recordings; "
                f"{self._how_to_record()}"
            )
        status, reason, headers, raw = found
        httpx = self._httpx
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(raw),
            extensions={"reason_phrase": reason.encode("ascii", "replace")} if reason else None,
            request=request,
        )

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> ReplayTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


# -- a cassette in use ---------------------------------------------------------------------


def check_mode(mode: str) -> str:
    if mode not in RECORD_MODES:
        raise ConfigError(
            f"invalid record mode {mode!r} (from {OPTION} or ini {INI}); "
            f"choose one of {', '.join(RECORD_MODES)}"
        )
    return mode


class CassetteSession:
    """One test's cassette: replay transport, or vcrpy recording, by record mode.

    ``none`` replays only; ``once`` replays an existing cassette and records a
    missing one; ``new_episodes`` replays what matches and records the rest;
    ``all`` records everything again and replaces the cassette's content.
    """

    def __init__(
        self, path: str | os.PathLike[str], mode: str = "none", *, nodeid: str | None = None
    ):
        self.path = Path(path)
        self.mode = check_mode(mode)
        self.nodeid = nodeid
        self.transport: ReplayTransport | None = None
        self._context: Any = None

    @property
    def replaying(self) -> bool:
        return self.mode == "none" or (
            self.mode == "once" and self.path.is_file() and self.path.stat().st_size > 0
        )

    def __enter__(self) -> CassetteSession:
        if self.replaying:
            self.transport = ReplayTransport(self.path, self.mode, self.nodeid)
            return self
        self._context = recorder(self.mode).use_cassette(str(self.path))
        self._context.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        context, self._context = self._context, None
        if context is not None:
            context.__exit__(*exc)


def recorder(mode: str) -> Any:
    """A vcrpy ``VCR`` configured for pytest-iris recordings in ``mode``."""
    import vcr
    from vcr.patch import PATCHER_NAMES

    machine = vcr.VCR(
        serializer="yaml",
        record_mode=check_mode(mode),
        match_on=("method", "path", "iris_json_body"),
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
        drop_unused_requests=mode == "all",
        skip_patchers=tuple(n for n in PATCHER_NAMES if n != patcher_name()),
    )
    machine.register_matcher("iris_json_body", json_body_matcher)
    machine.register_persister(IrisPersister)
    return machine
