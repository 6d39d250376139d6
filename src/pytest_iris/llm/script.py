"""Answers a test scripts for the local OpenAI-compatible server.

``server.reply(match=..., content=... | tool_calls=... | json=... | stream=[...])``
adds a :class:`Script`; the first script whose ``match`` accepts a request
(and has uses left) answers it, on every route that produces text (Chat
Completions and the Responses API alike). ``match`` is a substring or regex
of the last user message, a dict that must be a subset of the request body,
or a callable of the body. A ``handler`` computes the answer from the body.
"""

from __future__ import annotations

import json as jsonlib
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


@dataclass(frozen=True)
class ToolCall:
    """One function call the assistant makes; ``arguments`` is the JSON text."""

    name: str
    arguments: str = "{}"

    @classmethod
    def of(cls, value: ToolCall | Mapping[str, Any] | tuple[str, Any]) -> ToolCall:
        if isinstance(value, ToolCall):
            return value
        if isinstance(value, tuple):
            name, arguments = value
        else:
            name, arguments = value["name"], value.get("arguments", {})
        text = arguments if isinstance(arguments, str) else jsonlib.dumps(arguments)
        return cls(str(name), text)


@dataclass(frozen=True)
class Reply:
    """What the assistant answers: text (maybe in given stream pieces) or tool calls.

    ``auto``: nothing scripted beyond the match; the server fills in a value
    valid for the request's ``response_format`` schema or forced tool.
    """

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    json: Any = UNSET
    stream: tuple[str, ...] | None = None
    auto: bool = False

    @classmethod
    def build(
        cls,
        content: str | None = None,
        tool_calls: Sequence[ToolCall | Mapping[str, Any] | tuple[str, Any]] | None = None,
        json: Any = UNSET,
        stream: Sequence[str] | None = None,
    ) -> Reply:
        given = [
            name
            for name, value in (
                ("content", content),
                ("json", None if json is UNSET else json),
                ("stream", stream),
            )
            if value is not None
        ]
        if json is not UNSET and json is None:
            given.append("json")
        if len(given) > 1:
            raise TypeError(f"give one of content=, json=, stream= (got {', '.join(given)})")
        if stream is not None:
            content = "".join(stream)
        if json is not UNSET:
            content = jsonlib.dumps(json)
        calls = tuple(ToolCall.of(c) for c in tool_calls or ())
        return cls(
            content=content,
            tool_calls=calls,
            json=json,
            stream=tuple(stream) if stream is not None else None,
            auto=content is None and not calls,
        )

    @classmethod
    def coerce(cls, value: Any) -> Reply:
        """A handler's return value as a reply: a Reply, a str, or a dict of build()'s keywords."""
        if isinstance(value, Reply):
            return value
        if isinstance(value, str):
            return cls.build(content=value)
        if isinstance(value, Mapping):
            return cls.build(**dict(value))
        raise TypeError(
            f"a reply handler returned {type(value).__name__}; return a str, a Reply, or a "
            "dict with content=, tool_calls=, json= or stream="
        )


Matcher = str | re.Pattern[str] | Mapping[str, Any] | Callable[[dict[str, Any]], bool] | None
ReplyHandler = Callable[[dict[str, Any]], Any]


@dataclass
class Script:
    """One scripted answer: what it matches, what it answers, how often."""

    match: Matcher = None
    reply: Reply | None = None
    handler: ReplyHandler | None = None
    #: uses left (None: unlimited)
    times: int | None = None
    #: requests it answered
    calls: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def accepts(self, body: dict[str, Any], last_user: str) -> bool:
        match = self.match
        if match is None:
            return True
        if isinstance(match, str):
            return match in last_user
        if isinstance(match, re.Pattern):
            return match.search(last_user) is not None
        if isinstance(match, Mapping):
            return _subset(match, body)
        return bool(match(body))

    def answer(self, body: dict[str, Any]) -> Reply:
        if self.handler is not None:
            return Reply.coerce(self.handler(body))
        return self.reply or Reply(auto=True)

    def describe(self) -> str:
        match = self.match
        if isinstance(match, re.Pattern):
            return f"match=re({match.pattern!r})"
        if callable(match) and not isinstance(match, Mapping):
            return f"match={getattr(match, '__name__', 'callable')}"
        return f"match={match!r}"


def _subset(want: Any, got: Any) -> bool:
    if isinstance(want, Mapping):
        return isinstance(got, Mapping) and all(
            k in got and _subset(v, got[k]) for k, v in want.items()
        )
    return bool(want == got)


class Scripts:
    """The scripts of one server, consulted in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Script] = []

    def add(self, script: Script) -> Script:
        with self._lock:
            self._items.append(script)
        return script

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def describe(self) -> list[str]:
        with self._lock:
            return [s.describe() for s in self._items]

    def find(self, body: dict[str, Any], last_user: str) -> Script | None:
        with self._lock:
            for script in self._items:
                if script.times is not None and script.calls >= script.times:
                    continue
                if script.accepts(body, last_user):
                    script.calls += 1
                    script.bodies.append(body)
                    return script
        return None


def conversation(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of every message of a Chat Completions or Responses request."""
    out: list[tuple[str, str]] = []
    if isinstance(body.get("instructions"), str):
        out.append(("system", body["instructions"]))
    items = body.get("messages")
    if items is None:
        raw = body.get("input")
        items = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw or []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        role = str(item.get("role") or item.get("type") or "")
        out.append((role, _text(item.get("content", item.get("output", "")))))
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return "" if content is None else str(content)


def last_user_text(body: dict[str, Any]) -> str:
    users = [text for role, text in conversation(body) if role == "user"]
    return users[-1] if users else ""
