"""What a request is matched on: method, path, and the JSON body compared as a value.

Scheme, host and port are left out on purpose: a recording made against a
local server on an ephemeral port, or against a hosted provider, must replay
anywhere.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

Key = tuple[str, str, str]


def canonical_body(body: bytes | str | None) -> str:
    """The body as sorted-key compact JSON (or as text when it is not JSON)."""
    if body is None or body == b"" or body == "":
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        return json.dumps(
            json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    except ValueError:
        return text


def match_key(method: str, url: str, body: bytes | str | None) -> Key:
    """What a recording is matched on: method, path, semantic JSON body."""
    return (method.upper(), urlsplit(url).path or "/", canonical_body(body))


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: bodies equal as JSON values (key order ignored)."""
    if canonical_body(r1.body) != canonical_body(r2.body):
        raise AssertionError("JSON bodies differ: " + "; ".join(body_differences(r1.body, r2.body)))


def body_differences(new: Any, recorded: Any, limit: int = 3) -> list[str]:
    """Where two JSON bodies differ, as ``path: new != recorded`` (at most ``limit``)."""
    from pytest_iris._http.match import json_differences  # the endpoint's walk; h11 on use only

    try:
        a, b = (
            json.loads(canonical_body(new) or "null"),
            json.loads(canonical_body(recorded) or "null"),
        )
    except ValueError:
        return ["body is not JSON"]
    return json_differences(a, b, "body", limit, describe=_new_recorded)


def _new_recorded(new: Any, recorded: Any) -> str:
    return f"{_short(new, recorded)} != recorded {_short(recorded, new)}"


def _short(value: Any, other: Any = None) -> str:
    if isinstance(value, str) and isinstance(other, str):
        at = next(
            (i for i, (x, y) in enumerate(zip(value, other, strict=False)) if x != y),
            min(len(value), len(other)),
        )
        value = ("..." if at > 20 else "") + value[max(0, at - 20) :]
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
