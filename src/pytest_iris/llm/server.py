"""``IrisOpenAIServer``: a local OpenAI-compatible server for any client a test uses.

A real HTTP server on 127.0.0.1 (ephemeral port) on the shared HTTP core
(:mod:`pytest_iris._http`: h11 framing, one asyncio loop in one thread).
Routes: ``POST /v1/chat/completions`` (``stream``, ``stream_options.include_usage``,
``tools``/``tool_choice``, ``response_format`` ``json_object``/``json_schema``,
``n``), ``POST /v1/responses`` (plain and streamed events), ``POST
/v1/embeddings`` (deterministic vectors, float or base64), ``GET /v1/models``
and ``GET /v1/models/{id}``.

Answers come from the test's scripts (``server.reply(...)``,
:mod:`pytest_iris.llm.script`); pytest-iris's own prompts, unscripted, get
IRIS-aware answers (:mod:`pytest_iris.llm.iris_answers`); anything else gets
a 400 that names what to script. Faults (status codes with ``Retry-After``,
slow answers, dropped connections, output that breaks the IRIS format) apply
to every route. Cassettes recorded from it say so: every answer carries
``Server: pytest-iris-iris_openai_server``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pytest_iris import __version__
from pytest_iris._http.server import BackgroundServer, Request, Response, json_response
from pytest_iris.llm import _jsonschema, _wire
from pytest_iris.llm.iris_answers import answer, classify_rule, iris_answer
from pytest_iris.llm.providers import Provider
from pytest_iris.llm.script import (
    UNSET,
    Matcher,
    Reply,
    ReplyHandler,
    Script,
    Scripts,
    ToolCall,
    conversation,
    last_user_text,
)

__all__ = [
    "DEFAULT_MODEL",
    "GARBLED",
    "RECORDED_AGAINST",
    "SERVER_NAME",
    "Fault",
    "IrisOpenAIServer",
    "Received",
    "Reply",
    "Script",
    "ToolCall",
    "answer",
    "classify_rule",
]

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
    """A request as the server saw it (headers lower-cased; body parsed JSON or None)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _Refused(Exception):
    """A request the server answers with a 400 naming what is wrong."""

    def __init__(self, message: str, code: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.code = code


class IrisOpenAIServer:
    """Start with ``with IrisOpenAIServer() as server:``; point clients at ``server.base_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, model: str = DEFAULT_MODEL):
        self.model = model
        self.latency_s = 0.0
        self.received: list[Received] = []
        self.peak_concurrent = 0
        self._concurrent = 0
        self._faults: deque[Fault] = deque()
        self._scripts = Scripts()
        self._lock = threading.Lock()
        self._server = BackgroundServer(
            self._handle,
            host=host,
            port=port,
            server_header=f"{SERVER_NAME}/{__version__}",
            name="iris-openai-server",
        )

    # -- addresses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as ``base_url`` (``.../v1``)."""
        return self.url + "/v1"

    def provider(self, name: str = "iris-local", *, model: str | None = None) -> Provider:
        """A provider entry pointing at this server (no key needed)."""
        return Provider(
            name=name, base_url=self.base_url, model=model or self.model, api_key_env=None
        )

    # -- scripted answers -----------------------------------------------------------------

    def reply(
        self,
        match: Matcher = None,
        *,
        content: str | None = None,
        tool_calls: Sequence[ToolCall | Mapping[str, Any] | tuple[str, Any]] | None = None,
        json: Any = UNSET,
        stream: Sequence[str] | None = None,
        handler: ReplyHandler | None = None,
        times: int | None = None,
    ) -> Script:
        """Script the answer to requests that ``match`` accepts (first added, first tried).

        ``match``: substring or compiled regex of the last user message, a dict
        that must be a subset of the request body, a callable of the body, or
        None (any request). Answer with ``content`` text, ``tool_calls``
        (``[{"name": ..., "arguments": {...}}]``), ``json`` (a value sent as
        JSON text, checked against the request's ``json_schema``), ``stream``
        (text in the pieces a streaming client receives), or ``handler(body)``
        returning any of those. With none of them, the server fills in a value
        valid for the request's schema or forced tool. ``times``: uses, then
        the script is spent.
        """
        if handler is not None and (content, tool_calls, stream) != (None, None, None):
            raise TypeError("give handler= or content=/tool_calls=/json=/stream=, not both")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, got {times}")
        scripted = None if handler is not None else Reply.build(content, tool_calls, json, stream)
        return self._scripts.add(Script(match, scripted, handler, times))

    def clear_replies(self) -> None:
        self._scripts.clear()

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
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> IrisOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one request ----------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        body: Any = None
        if request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
        with self._lock:
            self.received.append(Received(request.method, request.path, request.headers, body))
            self._concurrent += 1
            self.peak_concurrent = max(self.peak_concurrent, self._concurrent)
        try:
            if self.latency_s > 0:
                await asyncio.sleep(self.latency_s)
            fault = self._next_fault()
            if fault is not None and fault.kind == "drop":
                return Response(None)
            if fault is not None and fault.kind == "status":
                extra = (
                    {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                )
                kind = "rate_limit_exceeded" if fault.status == 429 else "server_error"
                return json_response(
                    fault.status, _error(f"injected HTTP {fault.status}", kind), extra
                )
            if fault is not None and fault.kind == "slow":
                await asyncio.sleep(fault.delay_s)
            garbled = fault is not None and fault.kind == "garble"
            try:
                return self._route(request, body, garbled)
            except _Refused as refused:
                return json_response(400, _error(str(refused), refused.code))
        finally:
            with self._lock:
                self._concurrent -= 1

    def _route(self, request: Request, body: Any, garbled: bool) -> Response:
        path = request.path.rstrip("/")
        path = path[3:] if path.startswith("/v1/") or path == "/v1" else path
        if request.method == "GET" and path == "/models":
            return json_response(200, {"object": "list", "data": [self._model_object(self.model)]})
        if request.method == "GET" and path.startswith("/models/"):
            return json_response(200, self._model_object(path.removeprefix("/models/")))
        routes = {"/chat/completions": self._chat, "/responses": self._responses}
        if path in routes or path == "/embeddings":
            if request.method != "POST":
                return json_response(
                    405, _error(f"use POST for {request.path}", "invalid_request_error")
                )
            if not isinstance(body, dict):
                raise _Refused("the body is not a JSON object")
            if path == "/embeddings":
                return self._embeddings(body)
            return routes[path](body, garbled)
        return json_response(404, _error(f"no route {request.method} {request.path}", "not_found"))

    def _model_object(self, name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 0, "owned_by": SERVER_NAME}

    # -- what to answer -------------------------------------------------------------------

    def _reply_for(self, body: dict[str, Any], digest: str, garbled: bool) -> Reply:
        last = last_user_text(body)
        script = self._scripts.find(body, last)
        if garbled:
            return Reply.build(content=GARBLED)
        if script is not None:
            try:
                return script.answer(body)
            except Exception as error:
                raise _Refused(
                    f"the reply handler of script {script.describe()} failed: "
                    f"{type(error).__name__}: {error}"
                ) from error
        messages = [{"role": role, "content": text} for role, text in conversation(body)]
        text = iris_answer(messages, int(digest[:12], 16))
        if text is None:
            scripts = "; ".join(self._scripts.describe()) or "none"
            raise _Refused(
                f"no scripted reply matches this request and it is not a pytest-iris prompt "
                f"(last user message: {last[:80]!r}). Script one in the test: "
                "iris_openai_server.reply(match='...', content='...') (or tool_calls=, json=, "
                f"stream=, handler=). Scripts in force: {scripts}",
                "unscripted_request",
            )
        return Reply.build(content=text)

    def _resolve(
        self,
        body: dict[str, Any],
        digest: str,
        garbled: bool,
        tools: dict[str, Any],
        text_format: dict[str, Any],
    ) -> _wire.Answer:
        """The answer to ``body``: its reply, fitted to its tools and output format.

        ``text_format`` is ``{"type": "text" | "json_object" | "json_schema", "schema": ...}``.
        """
        kind = text_format.get("type")
        schema = (text_format.get("schema") or {}) if kind == "json_schema" else None
        return self._answer(
            self._reply_for(body, digest, garbled),
            digest,
            tools=tools,
            forced=_forced_tool(body.get("tool_choice"), tools),
            schema=schema,
            json_mode=kind == "json_object",
            strict=not garbled,
        )

    def _answer(
        self,
        reply: Reply,
        digest: str,
        *,
        tools: dict[str, Any],
        forced: str | None,
        schema: dict[str, Any] | None,
        json_mode: bool,
        strict: bool,
    ) -> _wire.Answer:
        calls = reply.tool_calls
        content = reply.content
        if reply.auto:
            if forced is not None:
                arguments = _jsonschema.instance(tools.get(forced) or {"type": "object"})
                calls = (ToolCall(forced, json.dumps(arguments)),)
            elif schema is not None:
                content = json.dumps(_jsonschema.instance(schema))
            elif json_mode:
                content = "{}"
            else:
                raise _Refused(
                    "the scripted reply gives no content=, json=, stream=, tool_calls= or "
                    "handler=, and the request asks for no JSON schema or forced tool to fill in"
                )
        for call in calls:
            if call.name not in tools:
                offered = ", ".join(tools) or "none"
                raise _Refused(
                    f"the scripted tool call {call.name!r} is not among the request's tools "
                    f"({offered})"
                )
        if not calls and strict and content is not None:
            self._check_json(content, schema, json_mode)
        ids = tuple(
            _wire.Call(f"call_{_short_hash(digest, j)}", c.name, c.arguments)
            for j, c in enumerate(calls)
        )
        text = None if calls and content is None else (content or "")
        pieces = reply.stream if reply.stream is not None else _wire.pieces_of(text or "")
        return _wire.Answer(text, ids, tuple(pieces))

    @staticmethod
    def _check_json(content: str, schema: dict[str, Any] | None, json_mode: bool) -> None:
        if schema is None and not json_mode:
            return
        try:
            value = json.loads(content)
        except ValueError:
            raise _Refused(
                f"the request asks for JSON (response_format) but the scripted content is not "
                f"JSON: {content[:60]!r}; script json=... instead"
            ) from None
        if schema is not None:
            problems = _jsonschema.errors(value, schema)
            if problems:
                raise _Refused(
                    "the scripted JSON does not validate against the request's schema: "
                    + "; ".join(problems[:3])
                )
        elif not isinstance(value, dict):
            raise _Refused("json_object mode needs a JSON object; the scripted JSON is not one")

    # -- Chat Completions -----------------------------------------------------------------

    def _chat(self, body: dict[str, Any], garbled: bool) -> Response:
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            raise _Refused("'messages' is required: a non-empty list of chat messages")
        digest = _digest(body)
        tools = {
            str(t["function"]["name"]): t["function"].get("parameters") or {}
            for t in body.get("tools") or []
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        }
        response_format = dict(body.get("response_format") or {})
        response_format["schema"] = (response_format.get("json_schema") or {}).get("schema")
        answer = self._resolve(body, digest, garbled, tools, response_format)
        count = int(body.get("n") or 1)
        if not 1 <= count <= 128:
            raise _Refused(f"n must be between 1 and 128, got {count}")
        answers = [answer] * count
        ident = f"chatcmpl-iris-{digest[:24]}"
        model = str(body.get("model") or self.model)
        created = int(time.time())
        prompt = len(_canonical(body)) // 4
        if body.get("stream"):
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = _wire.chat_chunks(ident, model, created, answers, prompt, SERVER_NAME, usage)
            return _event_stream(chunks)
        return json_response(
            200, _wire.chat_completion(ident, model, created, answers, prompt, SERVER_NAME)
        )

    # -- Responses API --------------------------------------------------------------------

    def _responses(self, body: dict[str, Any], garbled: bool) -> Response:
        if body.get("input") in (None, "", []):
            raise _Refused("'input' is required: a string or a list of input items")
        digest = _digest(body)
        tools = {
            str(t["name"]): t.get("parameters") or {}
            for t in body.get("tools") or []
            if isinstance(t, dict) and t.get("type") == "function" and "name" in t
        }
        text_format = (body.get("text") or {}).get("format") or {}
        answer = self._resolve(body, digest, garbled, tools, text_format)
        ident = digest[:24]
        model = str(body.get("model") or self.model)
        created = int(time.time())
        prompt = len(_canonical(body)) // 4
        if body.get("stream"):
            return _event_stream(_wire.response_events(ident, model, created, body, answer, prompt))
        output = _wire.response_items(ident, answer)
        return json_response(
            200, _wire.response_object(ident, model, created, body, output, prompt)
        )

    # -- embeddings -----------------------------------------------------------------------

    def _embeddings(self, body: dict[str, Any]) -> Response:
        raw = body.get("input")
        if raw in (None, "", []):
            raise _Refused("'input' is required: a string or a list of strings or token lists")
        return json_response(200, _wire.embeddings(body, str(body.get("model") or self.model)))


def _forced_tool(choice: Any, tools: dict[str, Any]) -> str | None:
    if isinstance(choice, dict):
        name = choice.get("name") or (choice.get("function") or {}).get("name")
        if name is not None and name not in tools:
            raise _Refused(f"tool_choice names {name!r}, which is not among the tools")
        return str(name) if name is not None else None
    if choice == "required" and tools:
        return next(iter(tools))
    return None


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


def _short_hash(digest: str, index: int) -> str:
    return hashlib.sha256(f"{digest}:{index}".encode()).hexdigest()[:24]


def _event_stream(chunks: Iterable[bytes]) -> Response:
    async def produce() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    headers = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    return Response(200, headers=headers, stream=produce())


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": kind, "param": None}}
