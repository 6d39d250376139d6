"""What a request is expected to be, and how a received one differs from it.

One :class:`RequestSpec` serves the endpoint's ``expect(...)`` routes and its
``assert_received(...)``: both need the same answer to "does this request
match, and if not, what is different", so that a failure can list the
nearest requests with their differences (as pytest-httpserver's "similar
requests" and vcrpy's miss report do).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from pytest_iris._http.server import Request


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "not given" for ``json=`` (``None`` is a JSON value: ``null``)
UNSET: Final = _Unset()


@dataclass(frozen=True)
class RequestSpec:
    """Method, path (text or regex), JSON or raw body, header and query subsets.

    ``headers`` and ``query`` match when every given name has the given value
    (names of headers case-insensitive); other headers and parameters are allowed.
    """

    method: str | None = None
    path: str | re.Pattern[str] | None = None
    json: Any = UNSET
    data: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(
        cls,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        json: Any = UNSET,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str | list[str]] | None = None,
    ) -> RequestSpec:
        if json is not UNSET and data is not None:
            raise TypeError("give json= or data=, not both")
        pairs: list[tuple[str, str]] = []
        for name, value in (query or {}).items():
            values = value if isinstance(value, list) else [value]
            pairs.extend((name, str(v)) for v in values)
        return cls(
            method=method.upper() if method else None,
            path=path,
            json=json,
            data=data.encode() if isinstance(data, str) else data,
            headers=tuple((k.lower(), str(v)) for k, v in (headers or {}).items()),
            query=tuple(pairs),
        )

    def describe(self) -> str:
        parts = [self.method or "ANY", _path_text(self.path)]
        if self.json is not UNSET:
            parts.append(f"json={_short(self.json)}")
        if self.data is not None:
            parts.append(f"data={_short(self.data.decode('utf-8', 'replace'))}")
        if self.headers:
            parts.append(f"headers={dict(self.headers)}")
        if self.query:
            parts.append(f"query={_pairs_dict(self.query)}")
        return " ".join(parts)

    def route_differences(self, request: Request) -> list[str]:
        out = []
        if self.method is not None and request.method != self.method:
            out.append(f"method {request.method} != {self.method}")
        if self.path is not None and not _path_matches(self.path, request.path):
            out.append(f"path {request.path} != {_path_text(self.path)}")
        return out

    def differences(self, request: Request) -> list[str]:
        """Everything about ``request`` that this spec does not allow (empty: a match)."""
        out = self.route_differences(request)
        for name, value in self.query:
            got = request.query.get(name)
            if got is None or value not in got:
                out.append(f"query {name}={got[0] if got else '<missing>'!s} != {value}")
        for name, value in self.headers:
            got_header = request.headers.get(name)
            if got_header != value:
                out.append(f"header {name}: {got_header or '<missing>'} != {value}")
        if self.data is not None and request.body != self.data:
            out.append(
                f"body {_short(request.body.decode('utf-8', 'replace'))} != "
                f"{_short(self.data.decode('utf-8', 'replace'))}"
            )
        if self.json is not UNSET:
            try:
                got_json = json.loads(request.body)
            except ValueError:
                out.append(f"body is not JSON ({_short(request.body.decode('utf-8', 'replace'))})")
            else:
                out.extend(json_differences(got_json, self.json))
        return out


def json_differences(
    got: Any,
    want: Any,
    where: str = "json",
    limit: int = 3,
    *,
    describe: Callable[[Any, Any], str] | None = None,
) -> list[str]:
    """Where two JSON values differ, as ``json.a.b: got != want`` (at most ``limit``).

    ``describe(got, want)`` writes what follows ``json.a.b: `` (the cassette
    matcher says which side was recorded).
    """
    out: list[str] = []
    _diff(got, want, where, out, limit, describe or _got_want)
    return out


def _got_want(a: Any, b: Any) -> str:
    return f"{_short(a)} != {_short(b)}"


def _diff(
    a: Any, b: Any, where: str, out: list[str], limit: int, describe: Callable[[Any, Any], str]
) -> None:
    if len(out) >= limit or a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            got, want = a.get(key, "<missing>"), b.get(key, "<missing>")
            _diff(got, want, f"{where}.{key}", out, limit, describe)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{where}[{i}]", out, limit, describe)
    else:
        out.append(f"{where}: {describe(a, b)}")


def _path_matches(path: str | re.Pattern[str], got: str) -> bool:
    if isinstance(path, re.Pattern):
        return path.fullmatch(got) is not None
    return got.rstrip("/") == path.rstrip("/") or got == path


def _path_text(path: str | re.Pattern[str] | None) -> str:
    if path is None:
        return "<any path>"
    return f"re:{path.pattern}" if isinstance(path, re.Pattern) else path


def _pairs_dict(pairs: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= 80 else text[:77] + "..."


def nearest(
    spec: RequestSpec, requests: list[Request], count: int = 5
) -> list[tuple[Request, list[str]]]:
    """The ``count`` requests with the fewest differences from ``spec``, with them."""
    scored = [(r, spec.differences(r)) for r in requests]
    scored.sort(key=lambda pair: (len(spec.route_differences(pair[0])), len(pair[1])))
    return scored[:count]
