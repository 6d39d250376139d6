"""One HTTP/1.1 server core for the mock endpoint and the OpenAI-compatible server.

Framing comes from ``h11`` (a kept, sans-IO HTTP/1.1 library) so that
chunked bodies, pipelining, HTTP/1.0 clients, conflicting ``Content-Length``
headers (400) and oversized headers (431) behave as the RFCs say; this module
only moves bytes between an asyncio stream and h11. One asyncio loop in one
background thread serves every connection: a thread per keep-alive
connection (``ThreadingHTTPServer``) makes 50 concurrent publishers fight the
client under test for the GIL (``bench/publish.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import threading
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qs, urlsplit

import h11

from pytest_iris.errors import TransportError

#: the largest request head accepted; a larger one gets 431
MAX_HEADER_BYTES: Final = 64 * 1024
#: the largest request body accepted; a larger one gets 413
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
_READ_SIZE: Final = 64 * 1024


@dataclass(frozen=True)
class Request:
    """One request as received; header names are lower case (last value wins in ``headers``)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    #: every header in arrival order, names lower case (repeated names kept)
    raw_headers: tuple[tuple[str, str], ...] = ()
    http_version: str = "1.1"

    @property
    def target(self) -> str:
        """Path with its query string, as the client sent it."""
        from urllib.parse import urlencode

        query = urlencode([(k, v) for k, vs in self.query.items() for v in vs])
        return self.path + ("?" + query if query else "")

    def json(self) -> object:
        """The body parsed as JSON (``ValueError`` when it is not JSON)."""
        return json.loads(self.body)

    def text(self) -> str:
        """The body decoded with the charset of its ``Content-Type`` (UTF-8 by default)."""
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")


@dataclass
class Response:
    """What a handler answers; ``status=None`` drops the connection without a reply.

    With ``stream`` set the body is sent as it is produced (chunked to an
    HTTP/1.1 client, until close to an HTTP/1.0 one); ``body`` is then ignored.
    """

    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: AsyncIterable[bytes] | None = None


#: ``(host, port)`` of the running servers whose traffic cassettes leave alone
_UNRECORDED: set[tuple[str, int]] = set()


def unrecorded_addresses() -> frozenset[tuple[str, int]]:
    """Where the running servers built with ``recorded=False`` listen (the mock endpoints).

    A test's cassette records its LLM calls, not the messages it publishes to
    the mock endpoint: those pass through to the live server instead.
    """
    return frozenset(_UNRECORDED)


#: what a handler gets for each request
Handler = Callable[[Request], Awaitable[Response]]
#: called for each new connection; returning False resets it at once
Admit = Callable[[], bool]


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (``Content-Type: application/json``)."""
    return Response(
        status,
        json.dumps(payload).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )


class BackgroundServer:
    """Serve ``handler`` on ``host:port`` (0: ephemeral) until :meth:`stop`."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        admit: Admit | None = None,
        server_header: str | None = None,
        name: str = "iris-http",
        recorded: bool = True,
    ) -> None:
        self._handler = handler
        self._recorded = recorded
        self._admit = admit
        self._host = host
        self._port = port
        self._name = name
        self._server_header = server_header.encode("latin-1") if server_header else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        return self._port

    @property
    def host(self) -> str:
        return self._host

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise TransportError("the server is not running; call start() first")
        return self._loop

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Bind and serve in a new daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"{self._name}-{id(self):x}", daemon=True
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
            self._connection, self._host, self._port, limit=_READ_SIZE, backlog=512
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        if not self._recorded:
            _UNRECORDED.add((self._host, self._port))

    def stop(self) -> None:
        """Close the listener and every connection, stop the loop and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        _UNRECORDED.discard((self._host, self._port))
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
        self._abort_all()
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

    # -- one connection ------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._admit is not None and not self._admit():
            writer.transport.abort()
            return
        self._writers.add(writer)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        try:
            while await self._one_request(conn, reader, writer):
                conn.start_next_cycle()
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.transport.abort()
        except h11.ProtocolError:
            writer.transport.abort()
        finally:
            self._writers.discard(writer)
            if not writer.is_closing():
                writer.close()

    async def _next_event(
        self, conn: h11.Connection, reader: asyncio.StreamReader, head: bool = False
    ) -> object:
        while True:
            if head:
                _refuse_repeated_length(conn)
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            conn.receive_data(await reader.read(_READ_SIZE))

    async def _one_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; False when the connection is to be closed."""
        try:
            event = await self._next_event(conn, reader, head=True)
            if not isinstance(event, h11.Request):
                return False  # ConnectionClosed: the client closed an idle connection
            if _head_size(event) > MAX_HEADER_BYTES:  # h11 checks only an incomplete head
                await self._refuse(conn, writer, 431, "headers too large")
                return False
            body = bytearray()
            while True:
                part = await self._next_event(conn, reader)
                if isinstance(part, h11.Data):
                    body += part.data
                    if len(body) > MAX_BODY_BYTES:
                        await self._refuse(conn, writer, 413, "body too large")
                        return False
                elif isinstance(part, h11.EndOfMessage):
                    break
                else:
                    return False  # closed in the middle of a body
        except h11.RemoteProtocolError as error:
            status = error.error_status_hint
            reason = "headers too large" if status == 431 else str(error)
            await self._refuse(conn, writer, status, reason)
            return False
        request = _request(event, bytes(body))
        try:
            response = await self._handler(request)
        except Exception as error:  # a bug in a handler: answer 500 and say what
            response = json_response(
                500, {"error": f"handler failed: {type(error).__name__}: {error}"}
            )
        if response.status is None:
            writer.transport.abort()
            return False
        await self._send(conn, writer, response, head_only=request.method == "HEAD")
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE

    async def _refuse(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, reason: str
    ) -> None:
        response = json_response(status, {"error": reason}, {"Connection": "close"})
        if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            with contextlib.suppress(h11.LocalProtocolError):
                await self._send(conn, writer, response)
                return
        writer.transport.abort()

    async def _send(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        response: Response,
        *,
        head_only: bool = False,
    ) -> None:
        status = response.status or 500
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        names = {k.lower() for k in response.headers}
        if self._server_header is not None and "server" not in names:
            headers.append((b"Server", self._server_header))
        if response.stream is None and "content-length" not in names:
            headers.append((b"Content-Length", str(len(response.body)).encode()))
        if "content-type" not in names and response.stream is None:
            headers.append((b"Content-Type", b"application/json"))
        head = conn.send(h11.Response(status_code=status, headers=headers, reason=_phrase(status)))
        if head_only:
            writer.write(head + conn.send(h11.EndOfMessage()))
        elif response.stream is not None:
            writer.write(head)
            await writer.drain()
            async for chunk in response.stream:
                if chunk:
                    writer.write(conn.send(h11.Data(data=chunk)))
                    await writer.drain()
            writer.write(conn.send(h11.EndOfMessage()))
        else:
            # one write per response: head, body and end together (no Nagle stall)
            body = conn.send(h11.Data(data=response.body)) if response.body else b""
            writer.write(head + body + conn.send(h11.EndOfMessage()))
        await writer.drain()
        if conn.our_state is h11.MUST_CLOSE:
            writer.close()


_CONTENT_LENGTH: Final = re.compile(rb"\r\ncontent-length[ \t]*:", re.I)


def _refuse_repeated_length(conn: h11.Connection) -> None:
    """400 for two Content-Length headers, even equal ones (h11 merges equal ones).

    RFC 9112 6.3 lets a server reject them or merge equal values; a request
    carrying two is malformed or smuggling, so it is rejected.
    """
    data, _closed = conn.trailing_data
    end = data.find(b"\r\n\r\n")
    if end >= 0 and len(_CONTENT_LENGTH.findall(data, 0, end + 2)) > 1:
        raise h11.RemoteProtocolError("two Content-Length headers", error_status_hint=400)


@functools.cache
def _phrase(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _head_size(event: h11.Request) -> int:
    return len(event.target) + sum(len(n) + len(v) + 4 for n, v in event.headers) + 16


def _request(event: h11.Request, body: bytes) -> Request:
    raw = tuple(
        (name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in event.headers
    )
    target = event.target.decode("latin-1")
    parts = urlsplit(target)
    return Request(
        method=event.method.decode("ascii"),
        path=parts.path or "/",
        query=parse_qs(parts.query, keep_blank_values=True),
        headers=dict(raw),
        body=body,
        raw_headers=raw,
        http_version=event.http_version.decode("ascii"),
    )
