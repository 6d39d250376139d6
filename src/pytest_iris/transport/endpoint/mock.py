"""A real HTTP endpoint for transports under test: records, validates, misbehaves.

Routes (JSON bodies):

- ``POST /messages``: one :class:`MessageEnvelope`; an ``Idempotency-Key``
  header, when sent, must equal its id.
- ``POST /messages/batch``: ``{"messages": [envelope, ...]}``, all or nothing.
- ``GET /commands?after=SEQ&limit=N``: queued :class:`RemediationCommand`\\ s
  with a sequence number above ``after``, as ``{"commands": [{"seq", "command"}],
  "next": SEQ}``; the client keeps the cursor, so a lost reply loses nothing.
- ``GET /health``.

A bad payload gets 422 with ``{"error": reason, "index": i}`` (``index`` for
batches). A message whose id was seen before is acknowledged and not stored
again. Faults come from :class:`~pytest_iris.transport.endpoint.faults.Faults`
and apply to every route, the user's included.

The user's own routes (any method, path, body format) come first:
``endpoint.expect("POST", "/hook", json={...}).respond_with_json({...})``
(:mod:`~pytest_iris.transport.endpoint.expect`). A request that matches
neither a user route nor a built-in one gets 404 and is kept in
:attr:`MockEndpoint.unexpected`; the ``iris_endpoint`` fixture fails the
test at teardown with what came.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from pytest_iris._http.match import UNSET, RequestSpec, nearest
from pytest_iris._http.server import BackgroundServer, Request, Response
from pytest_iris.models import IRISMessage, RemediationCommand, Severity
from pytest_iris.transport.endpoint.expect import Expectation, Expectations, Kind
from pytest_iris.transport.endpoint.faults import Faults
from pytest_iris.transport.envelope import MessageBatch, MessageEnvelope


class MockEndpoint:
    """An IRIS message receiver on 127.0.0.1 (ephemeral port) in a background thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, *, seed: int = 0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.faults = Faults(seed)
        self._server = BackgroundServer(
            self._handle,
            host=host,
            port=port,
            admit=self.faults.admit,
            name="iris-endpoint",
            recorded=False,  # a test's cassette keeps its LLM calls, not its publishes
        )
        self._lock = threading.Condition()
        self._expectations = Expectations()
        self._history: list[Request] = []
        self._unexpected: list[Request] = []
        self._envelopes: list[MessageEnvelope] = []
        self._ids: set[str] = set()
        self._commands: list[RemediationCommand] = []
        self.duplicates = 0
        self.requests = 0
        #: reasons of every 422 answered, in order
        self.rejections: list[str] = []

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> MockEndpoint:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MockEndpoint:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    def go_down(self, seconds: float) -> None:
        """Refuse connections for ``seconds`` and reset the open ones now."""
        self.faults.down_for(seconds)
        self._server.abort_connections()

    def reset(self) -> None:
        """Forget everything received and queued, and clear the faults."""
        self.faults.clear()
        with self._lock:
            self._envelopes.clear()
            self._ids.clear()
            self._commands.clear()
            self.duplicates = 0
            self.requests = 0
            self.rejections.clear()
            self._history.clear()
            self._unexpected.clear()
        self._expectations.clear()

    # -- the user's own routes -------------------------------------------------------

    def expect(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        json: Any = UNSET,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str | list[str]] | None = None,
        once: bool = False,
        ordered: bool = False,
    ) -> Expectation:
        """A route of the user's own: answer matching requests as the responder says.

        ``json`` compares the body as a JSON value, ``data`` as bytes (text is
        UTF-8 encoded); ``headers`` and ``query`` must be present with those
        values. ``once``: answers one request; ``ordered``: answers one request,
        and ordered expectations must arrive in the order they were declared.
        Chain ``.respond_with_json/_data/_status/_handler(...)``; without one it
        answers ``200`` with an empty body.
        """
        kind: Kind = "ordered" if ordered else "oneshot" if once else "permanent"
        return self._expectations.add(
            method, path, json=json, data=data, headers=headers, query=query, kind=kind
        )

    def expect_once(
        self, method: str | None = None, path: str | None = None, **kw: Any
    ) -> Expectation:
        """:meth:`expect` answering a single request."""
        return self.expect(method, path, once=True, **kw)

    def expect_ordered(
        self, method: str | None = None, path: str | None = None, **kw: Any
    ) -> Expectation:
        """:meth:`expect` answering a single request, in declaration order."""
        return self.expect(method, path, ordered=True, **kw)

    @property
    def expectations(self) -> list[Expectation]:
        """The user routes still in force (spent one-shot and ordered ones are gone)."""
        return self._expectations.all()

    @property
    def history(self) -> list[Request]:
        """Every request the endpoint handled (faulted ones excluded), in arrival order."""
        with self._lock:
            return list(self._history)

    @property
    def unexpected(self) -> list[Request]:
        """Requests no user route or built-in route answered."""
        with self._lock:
            return list(self._unexpected)

    def requests_to(self, path: str | re.Pattern[str], method: str | None = None) -> list[Request]:
        """The handled requests to ``path`` (and ``method``), in arrival order."""
        spec = RequestSpec.build(method, path)
        return [r for r in self.history if not spec.differences(r)]

    def check(self) -> None:
        """Fail when a request came that nothing expected, or ordered ones came out of order.

        The ``iris_endpoint`` fixture calls this at teardown.
        """
        problems = list(self._expectations.errors)
        for request in self.unexpected:
            body = request.body[:200].decode("utf-8", "replace")
            problems.append(
                f"unexpected {request.method} {request.target} "
                f"(content-type {request.headers.get('content-type', '-')}): {body!r}"
            )
        if problems:
            routes = [e.spec.describe() for e in self._expectations.all()] or ["(none)"]
            raise AssertionError(
                f"the endpoint at {self.url} received requests nobody expected:\n  "
                + "\n  ".join(problems)
                + "\nuser routes still in force:\n  "
                + "\n  ".join(routes)
            )

    # -- what was received -----------------------------------------------------

    @property
    def received(self) -> list[IRISMessage]:
        """Every message stored, in arrival order, each once."""
        with self._lock:
            return [e.message for e in self._envelopes]

    @property
    def envelopes(self) -> list[MessageEnvelope]:
        """The stored envelopes (id, trace id, message), in arrival order."""
        with self._lock:
            return list(self._envelopes)

    @property
    def received_ids(self) -> list[str]:
        with self._lock:
            return [e.id for e in self._envelopes]

    def wait_for(
        self,
        count: int,
        timeout: float = 5.0,
        *,
        path: str | re.Pattern[str] | None = None,
        method: str | None = None,
    ) -> list[Any]:
        """Block until at least ``count`` messages are stored; fail after ``timeout`` s.

        With ``path`` (and ``method``): until ``count`` requests to that route
        were handled, returning those :class:`Request`\\ s.
        """
        if path is not None or method is not None:
            return self._wait_for_requests(count, timeout, RequestSpec.build(method, path))
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._envelopes) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = len(self._envelopes)
                    tail = "\n".join(f"  {e.message.format()}" for e in self._envelopes[-5:])
                    raise AssertionError(
                        f"waited {timeout:g} s for {count} message(s) at {self.url}, "
                        f"got {got}; last received:\n{tail or '  (none)'}"
                    )
                self._lock.wait(left)
            return [e.message for e in self._envelopes]

    def _wait_for_requests(self, count: int, timeout: float, spec: RequestSpec) -> list[Request]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [r for r in self._history if not spec.differences(r)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = "\n".join(f"  {r.method} {r.target}" for r in self._history[-5:])
                    raise AssertionError(
                        f"waited {timeout:g} s for {count} request(s) {spec.describe()} at "
                        f"{self.url}, got {len(found)}; last requests:\n{seen or '  (none)'}"
                    )
                self._lock.wait(left)

    def assert_received(
        self,
        *,
        category: str | None = None,
        min_severity: int | Severity | None = None,
        text: str | None = None,
        pid: int | None = None,
        at_least: int = 1,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        json: Any = UNSET,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str | list[str]] | None = None,
    ) -> list[Any]:
        """The messages matching every given criterion; fails listing the closest ones.

        ``text`` matches as a substring. The failure names, for the five
        closest messages, which criteria each one missed. With any of
        ``method``, ``path``, ``json``, ``data``, ``headers`` or ``query`` it
        checks requests on any route instead and returns the matching
        :class:`Request`\\ s; a failure lists the nearest requests and how each
        differs.
        """
        if (method, path, data, headers, query) != (None,) * 5 or json is not UNSET:
            spec = RequestSpec.build(
                method, path, json=json, data=data, headers=headers, query=query
            )
            return self._assert_requests(spec, at_least)
        criteria = _criteria(category, min_severity, text, pid)
        messages = self.received
        found = [m for m in messages if not _missed(m, criteria)]
        if len(found) >= at_least:
            return found
        wanted = ", ".join(f"{name}={value!r}" for name, value, _ in criteria) or "anything"
        ranked = sorted(messages, key=lambda m: len(_missed(m, criteria)))[:5]
        lines = [
            f"  {m.format().splitlines()[0]}  (missed: {', '.join(_missed(m, criteria))})"
            for m in ranked
        ]
        raise AssertionError(
            f"expected at least {at_least} message(s) with {wanted} at {self.url}, "
            f"found {len(found)} among {len(messages)} received; closest:\n"
            + ("\n".join(lines) if lines else "  (nothing received)")
        )

    def _assert_requests(self, spec: RequestSpec, at_least: int) -> list[Request]:
        history = self.history
        found = [r for r in history if not spec.differences(r)]
        if len(found) >= at_least:
            return found
        lines = [
            f"  {r.method} {r.target}: " + "; ".join(diffs) for r, diffs in nearest(spec, history)
        ]
        raise AssertionError(
            f"expected at least {at_least} request(s) {spec.describe()} at {self.url}, "
            f"found {len(found)} among {len(history)} received; nearest:\n"
            + ("\n".join(lines) if lines else "  (nothing received)")
        )

    # -- commands --------------------------------------------------------------

    def queue_command(self, command: RemediationCommand | dict[str, Any]) -> RemediationCommand:
        """Queue a command for transports polling ``GET /commands``."""
        if not isinstance(command, RemediationCommand):
            command = RemediationCommand.model_validate(command)
        with self._lock:
            self._commands.append(command)
        return command

    @property
    def commands(self) -> list[RemediationCommand]:
        with self._lock:
            return list(self._commands)

    # -- request handling (server thread) ------------------------------------------

    async def _handle(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
        decision = self.faults.decide()
        if decision.delay_s:
            await asyncio.sleep(decision.delay_s)
        if decision.drop:
            return Response(None)
        if decision.status is not None:
            return _json(decision.status, {"error": "injected fault"})
        with self._lock:
            self._history.append(request)
            self._lock.notify_all()
        expectation = self._expectations.find(request)
        if expectation is not None:
            response = await expectation.answer(request)
        else:
            response = self._route(request)
        if response.status == 200 and request.method == "POST" and self.faults.lose_reply():
            return Response(None)
        return response

    def _route(self, request: Request) -> Response:
        route = (request.method, request.path.rstrip("/"))
        if route == ("POST", "/messages"):
            return self._post_one(request)
        if route == ("POST", "/messages/batch"):
            return self._post_batch(request)
        if route == ("GET", "/commands"):
            return self._get_commands(request)
        if route == ("GET", "/health"):
            return _json(200, {"status": "ok"})
        allowed = {"/messages": "POST", "/messages/batch": "POST", "/commands": "GET"}
        if route[1] in allowed:
            return _json(
                405,
                {"error": f"use {allowed[route[1]]} for {route[1]}"},
                {"Allow": allowed[route[1]]},
            )
        with self._lock:
            self._unexpected.append(request)
        routes = [e.spec.describe() for e in self._expectations.all()]
        return _json(404, {"error": f"no route {request.path}", "routes": routes})

    def _post_one(self, request: Request) -> Response:
        try:
            envelope = MessageEnvelope.model_validate_json(request.body)
        except PydanticValidationError as error:
            return self._reject(_reason(error))
        key = request.headers.get("idempotency-key")
        if key is not None and key != envelope.id:
            return self._reject(
                f"Idempotency-Key {key!r} does not match message id {envelope.id!r}"
            )
        accepted, duplicates = self._store([envelope])
        return _json(200, {"accepted": accepted, "duplicates": duplicates})

    def _post_batch(self, request: Request) -> Response:
        try:
            batch = MessageBatch.model_validate_json(request.body)
        except PydanticValidationError as error:
            first = error.errors()[0]
            loc = first["loc"]
            index = (
                loc[1]
                if len(loc) > 1 and loc[0] == "messages" and isinstance(loc[1], int)
                else None
            )
            return self._reject(_reason(error), index)
        accepted, duplicates = self._store(batch.messages)
        return _json(200, {"accepted": accepted, "duplicates": duplicates})

    def _store(self, envelopes: Iterable[MessageEnvelope]) -> tuple[int, int]:
        accepted = duplicates = 0
        with self._lock:
            for envelope in envelopes:
                if envelope.id in self._ids:
                    duplicates += 1
                    continue
                self._ids.add(envelope.id)
                self._envelopes.append(envelope)
                accepted += 1
            self.duplicates += duplicates
            if accepted:
                self._lock.notify_all()
        return accepted, duplicates

    def _reject(self, reason: str, index: int | None = None) -> Response:
        with self._lock:
            self.rejections.append(reason)
        body: dict[str, Any] = {"error": reason}
        if index is not None:
            body["index"] = index
        return _json(422, body)

    def _get_commands(self, request: Request) -> Response:
        try:
            after = int(request.query.get("after", ["0"])[0])
            limit = int(request.query.get("limit", ["100"])[0])
        except ValueError:
            return _json(400, {"error": "after and limit must be integers"})
        if after < 0 or limit < 1:
            return _json(400, {"error": "after must be >= 0 and limit >= 1"})
        with self._lock:
            chosen = self._commands[after : after + limit]
        items = [
            {"seq": after + i + 1, "command": c.model_dump(mode="json")}
            for i, c in enumerate(chosen)
        ]
        return _json(200, {"commands": items, "next": after + len(chosen)})


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), headers or {})


def _reason(error: PydanticValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


Criterion = tuple[str, Any, Any]


def _criteria(
    category: str | None, min_severity: int | Severity | None, text: str | None, pid: int | None
) -> list[Criterion]:
    out: list[Criterion] = []
    if category is not None:
        out.append(("category", category, lambda m: m.category == category))
    if min_severity is not None:
        out.append(("min_severity", int(min_severity), lambda m: m.severity >= min_severity))
    if text is not None:
        out.append(("text", text, lambda m: text in m.text))
    if pid is not None:
        out.append(("pid", pid, lambda m: m.pid == pid))
    return out


def _missed(message: IRISMessage, criteria: list[Criterion]) -> list[str]:
    return [name for name, _, test in criteria if not test(message)]
