"""The HTTP core both local servers share: framing from h11, seen through raw sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from pytest_iris._http.server import MAX_HEADER_BYTES, BackgroundServer, Request, Response


async def echo(request: Request) -> Response:
    payload = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "body": request.body.decode("latin-1"),
        "version": request.http_version,
    }
    return Response(200, json.dumps(payload).encode())


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    server = BackgroundServer(echo)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def exchange(server: BackgroundServer, data: bytes) -> bytes:
    """Send ``data`` and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def bodies(raw: bytes) -> list[dict[str, object]]:
    """The JSON bodies of the responses in ``raw`` (Content-Length framed), in order."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        out.append(json.loads(rest[:length]))
        raw = rest[length:]
    return out


def test_chunked_request_body_is_reassembled(server: BackgroundServer) -> None:
    raw = exchange(
        server,
        b"POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert bodies(raw)[0]["body"] == "hello world"


def test_pipelined_requests_are_answered_in_order(server: BackgroundServer) -> None:
    raw = exchange(
        server,
        b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /three?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    got = bodies(raw)
    assert [b["path"] for b in got] == ["/one", "/two", "/three"]
    assert got[1]["body"] == "abc"
    assert got[2]["query"] == {"x": ["1"]}


def test_http_10_client_gets_an_answer_and_the_connection_closes(server: BackgroundServer) -> None:
    raw = exchange(server, b"GET /old HTTP/1.0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert bodies(raw)[0]["version"] == "1.0"


@pytest.mark.parametrize("second", [b"5", b"3"], ids=["conflicting", "equal"])
def test_two_content_lengths_get_400(server: BackgroundServer, second: bytes) -> None:
    raw = exchange(
        server,
        b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\ncontent-length: "
        + second
        + b"\r\n\r\nabcde",
    )
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Length" in raw.split(b"\r\n\r\n", 1)[1]


def test_a_body_mentioning_content_length_is_fine(server: BackgroundServer) -> None:
    body = b"\r\nContent-Length: 9\r\n"
    raw = exchange(
        server,
        b"POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body,
    )
    assert raw.startswith(b"HTTP/1.1 200 ")


def test_only_oversized_headers_get_431(server: BackgroundServer) -> None:
    big = b"X-Big: " + b"a" * (MAX_HEADER_BYTES // 2) + b"\r\n"
    ok = exchange(server, b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + big + b"\r\n")
    assert ok.startswith(b"HTTP/1.1 200 ")
    huge = b"X-Huge: " + b"a" * (MAX_HEADER_BYTES + 10) + b"\r\n"
    refused = exchange(server, b"GET /x HTTP/1.1\r\nHost: x\r\n" + huge + b"\r\n")
    assert refused.startswith(b"HTTP/1.1 431 ")
    malformed = exchange(server, b"NOT HTTP AT ALL\r\n\r\n")
    assert malformed.startswith(b"HTTP/1.1 400 ")


def test_a_streamed_response_reaches_the_client_chunk_by_chunk() -> None:
    """The second event is produced only after the client has read the first one."""
    first_read = threading.Event()

    async def events() -> AsyncIterator[bytes]:
        yield b"data: one\n\n"
        await asyncio.to_thread(first_read.wait, 30)
        yield b"data: two\n\n"

    async def handler(request: Request) -> Response:
        return Response(200, headers={"Content-Type": "text/event-stream"}, stream=events())

    server = BackgroundServer(handler)
    server.start()
    try:
        with (
            httpx.Client(timeout=30) as client,
            client.stream("GET", server.url + "/sse") as response,
        ):
            assert response.headers["transfer-encoding"] == "chunked"
            lines = response.iter_lines()
            assert next(lines) == "data: one"
            first_read.set()
            rest = [line for line in lines if line]
            assert rest == ["data: two"]
    finally:
        first_read.set()
        server.stop()


def test_handler_errors_become_500_naming_the_error() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    server = BackgroundServer(broken)
    server.start()
    try:
        response = httpx.get(server.url + "/")
        assert response.status_code == 500
        assert "RuntimeError: boom" in response.json()["error"]
    finally:
        server.stop()
