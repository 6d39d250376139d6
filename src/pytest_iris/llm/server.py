"""``IrisOpenAIServer``: a local OpenAI-compatible chat server that writes IRIS lines.

A real HTTP server (stdlib, HTTP/1.1 keep-alive, one thread per connection)
on 127.0.0.1 with an ephemeral port. It answers ``POST /v1/chat/completions``
for the prompts of :mod:`pytest_iris.llm.prompts`: generation requests get
entries from the template engine, classify requests get a label from fixed
rules. It can be told to misbehave (status codes with ``Retry-After``, slow
answers, dropped connections, output that breaks the IRIS format) so that
retries and fallback run through the real openai SDK. Cassettes recorded from
it say so: every answer carries ``Server: pytest-iris-iris_openai_server``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal

from pytest_iris import __version__
from pytest_iris.llm._catalog import parse_stamp, render_incident, render_text
from pytest_iris.llm.providers import Provider

SERVER_NAME: Final = "pytest-iris-iris_openai_server"
#: What a cassette recorded from this server says about its origin.
RECORDED_AGAINST: Final = (
    "pytest-iris iris_openai_server (local template engine, not a hosted model)"
)
DEFAULT_MODEL: Final = "iris-template-1"
GARBLED: Final = (
    "Sure! Here are the log lines you asked for:\n"
    "2026-11-26 10:00:00 ERROR shared memory allocation failed\n"
    "[Generic.Event] Allocated 495MB shared memory\n"
    "(1234) 2 something went wrong"
)
_INCIDENT = re.compile(r"^Incident: (\S+)$", re.M)
_SEVERITY = re.compile(r"^\S+ \(\d+\) ([0-3]) ")
_COUNT = re.compile(r"^Write (\d+) entries.*starting at (\S+?)\.?$", re.M)

FaultKind = Literal["status", "slow", "garble", "drop"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One misbehaviour, applied to one request."""

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Received:
    """A request as the server saw it (headers lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class IrisOpenAIServer:
    """Start with ``with IrisOpenAIServer() as server:``; point providers at ``server.base_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, model: str = DEFAULT_MODEL):
        self.model = model
        self.latency_s = 0.0
        self.received: list[Received] = []
        self.peak_concurrent = 0
        self._concurrent = 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _QuietServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- addresses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def provider(self, name: str = "iris-local", *, model: str | None = None) -> Provider:
        """A provider entry pointing at this server (no key needed)."""
        return Provider(
            name=name, base_url=self.base_url, model=model or self.model, api_key_env=None
        )

    # -- misbehaviour ---------------------------------------------------------------------

    def fail_next(
        self, status: int = 500, *, times: int = 1, retry_after: float | None = None
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After``)."""
        self._queue(Fault("status", status=status, retry_after=retry_after), times)

    def slow_next(self, delay_s: float, *, times: int = 1) -> None:
        """Delay the next ``times`` answers by ``delay_s`` seconds."""
        self._queue(Fault("slow", delay_s=delay_s), times)

    def garble_next(self, *, times: int = 1) -> None:
        """Answer the next ``times`` requests with text that is not IRIS log lines."""
        self._queue(Fault("garble"), times)

    def drop_next(self, *, times: int = 1) -> None:
        """Close the connection of the next ``times`` requests without answering."""
        self._queue(Fault("drop"), times)

    def _queue(self, fault: Fault, times: int) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> IrisOpenAIServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="iris-openai-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> IrisOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ------------------------------------------------------------------------

    def _enter(self) -> None:
        with self._lock:
            self._concurrent += 1
            self.peak_concurrent = max(self.peak_concurrent, self._concurrent)

    def _leave(self) -> None:
        with self._lock:
            self._concurrent -= 1

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def sleep(self, seconds: float) -> None:
        """Wait, but stop waiting when the server shuts down."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def completion(self, body: dict[str, Any], garbled: bool = False) -> dict[str, Any]:
        """The chat.completion object answering ``body``."""
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        content = GARBLED if garbled else answer(body.get("messages", []), int(digest[:12], 16))
        prompt_tokens = len(canonical) // 4
        completion_tokens = max(1, len(content) // 4)
        return {
            "id": f"chatcmpl-iris-{digest[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model") or self.model),
            "system_fingerprint": SERVER_NAME,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def answer(messages: list[dict[str, Any]], seed: int) -> str:
    """The assistant's text for a pytest-iris prompt (generation or classification)."""
    user = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    if user and user[0].startswith("Entry:\n"):  # a classify chat (maybe a retry of one)
        return classify_rule(user[0][len("Entry:\n") :])
    for text in reversed(user):
        found = _INCIDENT.search(text)
        if found is None:
            continue
        count_match = _COUNT.search(text)
        count = int(count_match.group(1)) if count_match else 5
        start = (
            parse_stamp(count_match.group(2))
            if count_match
            else parse_stamp("11/26/26-10:00:00:000")
        )
        try:
            return render_text(render_incident(found.group(1), min(count, 200), start, seed))
        except ValueError as error:
            return f"I cannot write that incident: {error}"
    return "I only write InterSystems IRIS messages.log entries."


def classify_rule(entry: str) -> str:
    """The fixed rules the server uses as its 'model' for classification."""
    lowered = entry.lower()
    if any(
        w in lowered for w in ("died", "terminated abnormally", "freezing", "pausing users", "hung")
    ):
        return "restart"
    if any(
        w in lowered for w in ("failed to allocate", "insufficient huge pages", "shmmax", "space")
    ):
        return "os"
    stamped = _SEVERITY.match(entry)
    if (
        stamped
        and stamped.group(1) != "0"
        and "allocated" in lowered
        and "shared memory" in lowered
    ):
        return "os"  # started only after the 1/8 reduction: the kernel limits are too low
    if any(
        w in lowered for w in ("lock table", "gmheap", "global buffer setting", "license limit")
    ):
        return "config"
    return "none"


class _QuietServer(ThreadingHTTPServer):
    """No tracebacks on stderr for connections a client (or a fault) cut short."""

    daemon_threads = True
    request_queue_size = 256  # the stdlib's 5 refuses a burst of concurrent clients

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


def _handler_for(server: IrisOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"{SERVER_NAME}/{__version__}"
        sys_version = ""
        timeout = 10
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``server.received`` instead."""

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._json(
                    200, {"object": "list", "data": [{"id": server.model, "object": "model"}]}
                )
            else:
                self._json(404, _error(f"no route {self.path}", "not_found"))

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            server._record(Received("POST", self.path, headers, body))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, _error(f"no route {self.path}", "not_found"))
                return
            if not isinstance(body, dict):
                self._json(400, _error("the body is not a JSON object", "invalid_request_error"))
                return
            server._enter()
            try:
                self._answer(body)
            finally:
                server._leave()

        def _answer(self, body: dict[str, Any]) -> None:
            server.sleep(server.latency_s)
            fault = server._next_fault()
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault is not None and fault.kind == "status":
                extra = {}
                if fault.retry_after is not None:
                    extra["Retry-After"] = f"{fault.retry_after:g}"
                kind = "rate_limit_exceeded" if fault.status == 429 else "server_error"
                self._json(fault.status, _error(f"injected HTTP {fault.status}", kind), extra)
                return
            if fault is not None and fault.kind == "slow":
                server.sleep(fault.delay_s)
            garbled = fault is not None and fault.kind == "garble"
            self._json(200, server.completion(body, garbled))

        def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (timeout): nothing to do

    return Handler


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": kind, "param": None}}
