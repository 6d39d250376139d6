"""The user's own routes on the mock endpoint: ``expect(...)`` and its responders.

Modelled on pytest-httpserver's handlers (learned from its API, not its
code): an expectation is a :class:`~pytest_iris._http.match.RequestSpec`
plus what to answer. Ordered expectations must arrive in the order they were
declared; one-shot ones answer once; permanent ones answer every time. They
are consulted in that order, before the built-in IRIS envelope routes.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pytest_iris._http.match import UNSET, RequestSpec
from pytest_iris._http.server import Request, Response

#: what ``respond_with_handler`` accepts: a function of the request, sync or async
UserHandler = Callable[[Request], "Response | Awaitable[Response]"]
Kind = Literal["permanent", "oneshot", "ordered"]


@dataclass
class Expectation:
    """One user route; chain a ``respond_with_*`` call to say what it answers."""

    spec: RequestSpec
    kind: Kind = "permanent"
    #: how many requests it answered
    calls: int = 0
    _answer: UserHandler | None = field(default=None, repr=False)

    def respond_with_json(
        self, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Expectation:
        body = json.dumps(payload).encode()
        response = Response(status, body, {"Content-Type": "application/json", **(headers or {})})
        self._answer = lambda _request: _copy(response)
        return self

    def respond_with_data(
        self,
        data: str | bytes = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> Expectation:
        body = data.encode() if isinstance(data, str) else data
        kind = content_type or ("text/plain; charset=utf-8" if isinstance(data, str) else None)
        response = Response(
            status, body, {"Content-Type": kind or "application/octet-stream", **(headers or {})}
        )
        self._answer = lambda _request: _copy(response)
        return self

    def respond_with_status(
        self, status: int, headers: dict[str, str] | None = None
    ) -> Expectation:
        return self.respond_with_data(b"", status, headers, "text/plain")

    def respond_with_handler(self, handler: UserHandler) -> Expectation:
        """Answer with ``handler(request)``: a :class:`Response`, sync or async.

        A sync handler runs in a worker thread, so it may block without
        stalling the endpoint's other connections.
        """
        self._answer = handler
        return self

    async def answer(self, request: Request) -> Response:
        handler = self._answer
        if handler is None:
            return Response(200, b"", {"Content-Type": "text/plain"})
        if inspect.iscoroutinefunction(handler):
            result = await handler(request)
        else:
            result = await asyncio.to_thread(handler, request)
            if inspect.isawaitable(result):
                result = await result
        if not isinstance(result, Response):
            raise TypeError(
                f"the handler of {self.spec.describe()} returned {type(result).__name__}; "
                "return pytest_iris.transport.endpoint.Response(status, body, headers)"
            )
        return result


def _copy(response: Response) -> Response:
    return Response(response.status, response.body, dict(response.headers))


class Expectations:
    """Every user route of one endpoint; thread-safe (tests add, the server thread matches)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ordered: list[Expectation] = []
        self.oneshot: list[Expectation] = []
        self.permanent: list[Expectation] = []
        #: problems found while matching (out-of-order arrivals), for teardown
        self.errors: list[str] = []

    def add(
        self,
        method: str | None,
        path: str | re.Pattern[str] | None,
        *,
        json: Any = UNSET,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str | list[str]] | None = None,
        kind: Kind = "permanent",
    ) -> Expectation:
        spec = RequestSpec.build(method, path, json=json, data=data, headers=headers, query=query)
        expectation = Expectation(spec, kind)
        with self._lock:
            {"ordered": self.ordered, "oneshot": self.oneshot, "permanent": self.permanent}[
                kind
            ].append(expectation)
        return expectation

    def clear(self) -> None:
        with self._lock:
            self.ordered.clear()
            self.oneshot.clear()
            self.permanent.clear()
            self.errors.clear()

    def all(self) -> list[Expectation]:
        with self._lock:
            return [*self.ordered, *self.oneshot, *self.permanent]

    def find(self, request: Request) -> Expectation | None:
        """The expectation that answers ``request`` (spent one-shots are removed)."""
        with self._lock:
            for position, expectation in enumerate(self.ordered):
                if not expectation.spec.differences(request):
                    if position:
                        first = self.ordered[0].spec.describe()
                        self.errors.append(
                            f"{request.method} {request.target} arrived before the ordered "
                            f"expectation {first}"
                        )
                        return None
                    expectation.calls += 1
                    self.ordered.pop(0)
                    return expectation
            for position, expectation in enumerate(self.oneshot):
                if not expectation.spec.differences(request):
                    expectation.calls += 1
                    self.oneshot.pop(position)
                    return expectation
            for expectation in self.permanent:
                if not expectation.spec.differences(request):
                    expectation.calls += 1
                    return expectation
        return None

    def pending(self) -> list[Expectation]:
        """Ordered and one-shot expectations no request has used yet."""
        with self._lock:
            return [*self.ordered, *self.oneshot]
