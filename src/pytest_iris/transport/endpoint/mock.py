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
again. Faults come from :class:`~pytest_iris.transport.endpoint.faults.Faults`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from pytest_iris._http.server import BackgroundServer, Request, Response
from pytest_iris.models import IRISMessage, RemediationCommand, Severity
from pytest_iris.transport.endpoint.faults import Faults
from pytest_iris.transport.envelope import MessageBatch, MessageEnvelope


class MockEndpoint:
    """An IRIS message receiver on 127.0.0.1 (ephemeral port) in a background thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, *, seed: int = 0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.faults = Faults(seed)
        self._server = BackgroundServer(self._handle, host=host, port=port, admit=self.faults.admit)
        self._lock = threading.Condition()
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

    def wait_for(self, count: int, timeout: float = 5.0) -> list[IRISMessage]:
        """Block until at least ``count`` messages are stored; fail after ``timeout`` s."""
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

    def assert_received(
        self,
        *,
        category: str | None = None,
        min_severity: int | Severity | None = None,
        text: str | None = None,
        pid: int | None = None,
        at_least: int = 1,
    ) -> list[IRISMessage]:
        """The messages matching every given criterion; fails listing the closest ones.

        ``text`` matches as a substring. The failure names, for the five
        closest messages, which criteria each one missed.
        """
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
        return _json(404, {"error": f"no route {request.path}"})

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
