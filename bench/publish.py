"""Publishing throughput: 50 concurrent publishers, against raw httpx in the same run.

Baseline: raw ``httpx.AsyncClient`` POSTs of the same payloads (the encoded
envelopes) from 50 concurrent tasks to a bare server (the same asyncio HTTP
server as the mock endpoint, answering 200 without looking at the body), no
outbox, default client limits. Then :class:`HttpTransport` with 50 concurrent
publishers to the :class:`MockEndpoint` (which validates every message and
drops duplicates): single POSTs, and batched (concurrent publishes coalesced).
Targets: single >= 0.7x baseline, batched >= 5x baseline (messages per second).
Also shown, for choosing: raw httpx with 4 connections behind a semaphore
(what the transport does), and the stdlib ThreadingHTTPServer as the server.

    python bench/publish.py [--messages N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

import httpx

from pytest_iris._http.server import BackgroundServer, Request, Response
from pytest_iris.log.model import IRISMessage, Severity
from pytest_iris.transport import HttpTransport, MockEndpoint
from pytest_iris.transport.envelope import encode_one, wrap

PUBLISHERS = 50
START = datetime(2026, 3, 1, 9, 0, 0)


def messages(count: int) -> list[IRISMessage]:
    return [
        IRISMessage(
            timestamp=START + timedelta(milliseconds=i),
            pid=4000 + i % 97,
            severity=Severity(i % 4),
            category="Utility.Event",
            text=f"Journal file has reached its maximum size of {i} MB",
        )
        for i in range(count)
    ]


async def bare_ok(_: Request) -> Response:
    return Response(200, b'{"accepted":1,"duplicates":0}')


async def fan_out(count: int, work: Callable[[int], Awaitable[object]]) -> float:
    """Seconds for ``PUBLISHERS`` tasks to run ``work(i)`` for ``i`` in ``range(count)``."""
    todo = iter(range(count))

    async def worker() -> None:
        for i in todo:
            await work(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(PUBLISHERS)))
    return time.perf_counter() - start


def raw_httpx(
    url: str, bodies: list[bytes], limit: int | None, gate_requests: bool = True
) -> float:
    """Raw POSTs; with ``limit``, that many connections (behind a semaphore if ``gate_requests``)."""

    async def run() -> float:
        limits = (
            httpx.Limits()
            if limit is None
            else httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
        )
        gate = asyncio.Semaphore(limit if limit and gate_requests else PUBLISHERS)
        async with httpx.AsyncClient(base_url=url, limits=limits) as client:

            async def post(i: int) -> None:
                async with gate:
                    response = await client.post("/messages", content=bodies[i])
                response.raise_for_status()

            return await fan_out(len(bodies), post)

    return asyncio.run(run())


def transport_run(control: Control, batch: list[IRISMessage], **options: int) -> float:
    control.ask("reset")
    with tempfile.TemporaryDirectory() as outbox:

        async def run() -> float:
            async with HttpTransport(
                control.endpoint_url, outbox_dir=outbox, **options
            ) as transport:

                async def publish(i: int) -> None:
                    if not await transport.publish(batch[i]):
                        raise RuntimeError("a message went to the outbox during the benchmark")

                return await fan_out(len(batch), publish)

        seconds = asyncio.run(run())
    stored = control.ask("count")
    if stored != len(batch):
        raise RuntimeError(f"endpoint holds {stored} of {len(batch)} messages")
    return seconds


class _BareHandler(BaseHTTPRequestHandler):
    """The stdlib alternative: HTTP/1.1 keep-alive, reply in one write (no Nagle stall)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b'{"accepted":1,"duplicates":0}'
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingHTTPServer):
    request_queue_size = 512  # the default 5 resets connections under 50 concurrent clients
    daemon_threads = True


def serve(pipe: Connection) -> None:
    """The servers' side: bare servers and a MockEndpoint, driven through ``pipe``."""
    bare = BackgroundServer(bare_ok)
    bare.start()
    threading_server = _ThreadingServer(("127.0.0.1", 0), _BareHandler)
    threading.Thread(target=threading_server.serve_forever, daemon=True).start()
    threading_url = f"http://127.0.0.1:{threading_server.server_address[1]}"
    with MockEndpoint() as endpoint:
        pipe.send((bare.url, endpoint.url, threading_url))
        while True:
            command = pipe.recv()
            if command == "reset":
                endpoint.reset()
                pipe.send(None)
            elif command == "count":
                pipe.send(len(endpoint.received_ids))
            else:
                break
    bare.stop()
    threading_server.shutdown()


class Control:
    """Servers in a child process (default) or in this one (``--in-process``)."""

    def __init__(self, in_process: bool) -> None:
        self._pipe, child = multiprocessing.Pipe()
        target = threading.Thread if in_process else multiprocessing.get_context("spawn").Process
        self._runner = target(target=serve, args=(child,), daemon=True)
        self._runner.start()
        self.bare_url, self.endpoint_url, self.threading_url = self._pipe.recv()

    def ask(self, command: str) -> Any:
        self._pipe.send(command)
        return self._pipe.recv()

    def close(self) -> None:
        self._pipe.send("stop")
        self._runner.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--max-in-flight", type=int, default=4)
    parser.add_argument(
        "--in-process", action="store_true", help="servers in a thread of this process"
    )
    args = parser.parse_args()

    batch = messages(args.messages)
    bodies = [encode_one(wrap(m)) for m in batch]
    control = Control(args.in_process)
    flight = args.max_in_flight
    cases: dict[str, Callable[[], float]] = {
        "baseline: raw httpx x50 -> bare server": lambda: raw_httpx(control.bare_url, bodies, None),
        "raw httpx x50, 50 keep-alive connections -> bare": lambda: raw_httpx(
            control.bare_url, bodies, PUBLISHERS, gate_requests=False
        ),
        f"raw httpx x50, {flight} connections -> bare": lambda: raw_httpx(
            control.bare_url, bodies, flight
        ),
        "raw httpx x50 -> stdlib ThreadingHTTPServer": lambda: raw_httpx(
            control.threading_url, bodies, None
        ),
        f"raw httpx x50, {flight} connections -> ThreadingHTTPServer": lambda: raw_httpx(
            control.threading_url, bodies, flight
        ),
        "HttpTransport single -> MockEndpoint": lambda: transport_run(
            control, batch, batch_size=1, max_in_flight=flight
        ),
        f"HttpTransport batched ({args.batch_size}) -> MockEndpoint": lambda: transport_run(
            control, batch, batch_size=args.batch_size, max_in_flight=flight
        ),
    }
    results: dict[str, list[float]] = {}
    try:
        for _ in range(args.runs):
            for name, case in cases.items():
                results.setdefault(name, []).append(args.messages / case())
    finally:
        control.close()

    baseline = statistics.median(next(iter(results.values())))
    where = "in this process" if args.in_process else "in a child process"
    print(
        f"{args.messages} messages, {PUBLISHERS} concurrent publishers, servers {where}, "
        f"median of {args.runs} runs"
    )
    for name, rates in results.items():
        rate = statistics.median(rates)
        print(f"  {name:<58} {rate:>9,.0f} msg/s  {rate / baseline:5.2f}x")
    print("targets: single >= 0.70x, batched >= 5.00x")


if __name__ == "__main__":
    main()
