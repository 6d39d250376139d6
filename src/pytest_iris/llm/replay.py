"""Replay without vcrpy's linear scan: a cassette loaded once, indexed, no sockets."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_iris.errors import CassetteError
from pytest_iris.llm._http import http_module
from pytest_iris.llm.matching import Key, body_differences, canonical_body, match_key
from pytest_iris.llm.settings import INI, OPTION
from pytest_iris.llm.storage import read_cassette


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


def how_to_record(path: Path, nodeid: str | None) -> str:
    """The command that records ``path`` (or adds to it), for error messages."""
    target = f" {nodeid}" if nodeid else ""
    if path.is_file():
        return (
            f"add the request with `pytest{target} {OPTION}=new_episodes` (or record the "
            f"whole cassette again with `{OPTION}=all`; ini key `{INI}`)"
        )
    return f"record it with `pytest{target} {OPTION}=once` (or ini `{INI} = once`)"


def missing_message(path: Path, mode: str, nodeid: str | None) -> str:
    return (
        f"cassette {path} does not exist and record mode {mode!r} only replays; "
        f"{how_to_record(path, nodeid)}"
    )


def miss_message(
    path: Path, mode: str, nodeid: str | None, method: str, uri: str, body: Any
) -> str:
    """Why a request has no recording in ``path``, and how to record it (any client)."""
    key = match_key(method, uri, body)
    if not path.is_file():
        return f"{missing_message(path, mode, nodeid)} (request: {key[0]} {key[1]})"
    index = CassetteIndex(path)
    reason = (
        "its recording(s) were already played"
        if key in set(index.keys())
        else index.miss_reason(key)
    )
    return (
        f"no recording in cassette {path} for {key[0]} {key[1]}: {reason}. Record mode "
        f"{mode!r} replays only this cassette's recordings; {how_to_record(path, nodeid)}"
    )


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
            raise CassetteError(missing_message(self.path, self.mode, self.nodeid))
        self._index = CassetteIndex(self.path)
        return self._index

    def _how_to_record(self) -> str:
        return how_to_record(self.path, self.nodeid)

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
