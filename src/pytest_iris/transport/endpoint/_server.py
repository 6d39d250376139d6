"""A small HTTP/1.1 server on asyncio, running its own loop in a background thread.

Why not ``http.server``: a ThreadingHTTPServer spends a thread per keep-alive
connection, and 50 concurrent publishers in the same process then fight over
the GIL with the client under test. One asyncio loop serves all connections
in one thread (see ``bench/publish.py`` for the figures). It speaks only
what the transports need: ``Content-Length`` bodies, keep-alive, no
pipelining guarantees beyond in-order replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qs, urlsplit

from pytest_iris.errors import TransportError

MAX_HEADER_BYTES: Final = 64 * 1024
MAX_BODY_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    """One parsed request; header names are lower case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Response:
    """What a handler answers; ``status=None`` drops the connection without a reply."""

    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


#: what a handler gets for each request; ``None`` from the handler drops the connection
Handler = Callable[[Request], Awaitable[Response]]
#: called for each new connection; returning False resets it at once
Admit = Callable[[], bool]


class BackgroundServer:
    """Serve ``handler`` on ``host:port`` (0: ephemeral) until :meth:`stop`."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        admit: Admit | None = None,
    ) -> None:
        self._handler = handler
        self._admit = admit
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise TransportError("the server is not running; call start() first")
        return self._loop

    def start(self) -> None:
        """Bind and serve in a new daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"iris-endpoint-{id(self):x}", daemon=True
        )
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._bind(), loop)
        try:
            future.result(timeout=10)
        except OSError as error:
            self.stop()
            raise TransportError(f"cannot listen on {self._host}:{self._port}: {error}") from error

    async def _bind(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self._host, self._port, limit=MAX_HEADER_BYTES, backlog=512
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        """Close the listener and every connection, stop the loop and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._close(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = None
        self._thread = None

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def abort_connections(self) -> None:
        """Reset every open connection (from any thread)."""
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._abort_all)

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._admit is not None and not self._admit():
            writer.transport.abort()
            return
        self._writers.add(writer)
        try:
            while await self._one_request(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            writer.transport.abort()
        except ValueError:  # headers larger than the stream limit
            writer.write(_response_bytes(Response(431, b'{"error":"headers too large"}'), True))
            writer.close()
        finally:
            self._writers.discard(writer)
            if not writer.is_closing():
                writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; False when the connection is to be closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if error.partial:
                raise
            return False  # the client closed an idle keep-alive connection
        request, problem = _parse_head(head)
        if request is None:
            writer.write(_response_bytes(Response(400, _error_body(problem)), True))
            await writer.drain()
            return False
        length_text = request.headers.get("content-length", "0")
        if "chunked" in request.headers.get("transfer-encoding", "").lower():
            writer.write(_response_bytes(Response(411, _error_body("send Content-Length")), True))
            await writer.drain()
            return False
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            writer.write(_response_bytes(Response(400, _error_body("bad Content-Length")), True))
            await writer.drain()
            return False
        body = await reader.readexactly(int(length_text)) if length_text != "0" else b""
        request = Request(request.method, request.path, request.query, request.headers, body)
        try:
            response = await self._handler(request)
        except Exception as error:  # a bug in a handler: answer 500 and say what
            response = Response(
                500, _error_body(f"handler failed: {type(error).__name__}: {error}")
            )
        if response.status is None:
            writer.transport.abort()
            return False
        close = request.headers.get("connection", "").lower() == "close"
        writer.write(_response_bytes(response, close))
        await writer.drain()
        return not close


def _parse_head(head: bytes) -> tuple[Request | None, str]:
    try:
        text = head.decode("latin-1")
        line, _, rest = text.partition("\r\n")
        method, target, version = line.split(" ")
    except ValueError:
        return None, "malformed request line"
    if not version.startswith("HTTP/1."):
        return None, f"unsupported protocol {version!r}"
    headers: dict[str, str] = {}
    for raw in rest.split("\r\n"):
        if not raw:
            continue
        name, sep, value = raw.partition(":")
        if not sep:
            return None, f"malformed header line {raw!r}"
        headers[name.strip().lower()] = value.strip()
    parts = urlsplit(target)
    return Request(method, parts.path, parse_qs(parts.query), headers, b""), ""


def _error_body(reason: str) -> bytes:
    import json

    return json.dumps({"error": reason}).encode()


def _response_bytes(response: Response, close: bool) -> bytes:
    status = response.status or 500
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Status"
    lines = [f"HTTP/1.1 {status} {phrase}", f"Content-Length: {len(response.body)}"]
    if "content-type" not in {k.lower() for k in response.headers}:
        lines.append("Content-Type: application/json")
    lines.extend(f"{k}: {v}" for k, v in response.headers.items())
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body
