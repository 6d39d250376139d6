"""Keep secrets out of cassettes: scrub requests and responses at record time.

vcrpy calls :func:`scrub_request` and :func:`scrub_response` before anything
is stored, so neither the interactions nor the metadata built from them
(``recorded_against`` reads the scrubbed URIs) ever hold:

* the userinfo of a URL (``https://user:pass@host``): dropped;
* a query parameter or header whose *name* says it carries a credential
  (key, token, secret, password, signature, subscription, cookie, session,
  auth, credential; ``sk``, ``sig``, ``code``): dropped;
* a value of a known *shape* anywhere (URL path, header values, bodies):
  OpenAI/Anthropic ``sk-...``, Azure's 32-hex keys, JWTs, ``Bearer``/``Basic``
  credentials, AWS/Google/GitHub/Slack keys: replaced by ``REDACTED``.

Bodies are scrubbed in each form vcrpy may store them: JSON (parsed, so
``\\u``-escaped keys are seen; secret-named fields are redacted), form- and
URL-encoded text, UTF-8, UTF-16 and undecodable bytes (which vcrpy writes
as base64 ``!!binary``; scrubbed byte for byte through latin-1, so the
ASCII key shapes are found and nothing else changes).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

#: what a scrubbed value becomes (ASCII, matches no key shape)
REDACTED: Final = "REDACTED"

#: Header, query-parameter and JSON field names that carry credentials or sessions.
SECRET_NAME: Final = re.compile(
    r"(?i)(key|token|secret|passw|pwd|signature|subscription|cookie|session|auth(?!ors?(?![a-z]))"
    r"|credential|openai-organization|openai-project)"
    r"|^(sk|sig|code|sas)$"
)
#: names that count tokens rather than carry one (``max_tokens``, ``x-ratelimit-*-tokens``)
_COUNT_NAME: Final = re.compile(r"(?i)tokens|token[-_]?(count|limit|usage)")
#: JSON fields whose bare name is common and harmless in API bodies (error ``code``)
_HARMLESS_FIELDS: Final = frozenset({"code"})

#: Known key shapes, found anywhere in a text (shared with :mod:`pytest_iris.llm.scan`).
KEY_SHAPES: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("Anthropic key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{16,}")),
    ("OpenAI-style key", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*")),
    ("bearer token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9_\-\.=:+/~]{8,}")),
    ("basic credentials", re.compile(r"(?i)\bbasic\s+[A-Za-z0-9+/=]{12,}")),
    ("Azure 32-hex key", re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32}(?![0-9A-Za-z])")),
    ("AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)


def is_secret_name(name: str) -> bool:
    """True for a header/parameter/field name that says it carries a credential."""
    return SECRET_NAME.search(name) is not None and not _COUNT_NAME.search(name)


def scrub_text(text: str) -> str:
    """``text`` with every known key shape replaced by ``REDACTED``."""
    for _, pattern in KEY_SHAPES:
        text = pattern.sub(REDACTED, text)
    return text


def scrub_url(uri: str) -> str:
    """``uri`` without userinfo, secret-named query parameters or key shapes in the path."""
    parts = urlsplit(uri)
    netloc = parts.netloc.rpartition("@")[2]
    path = quote(scrub_text(unquote(parts.path)), safe="/:@!$&'()*+,;=-._~")
    query = parts.query
    if query:
        pairs = [
            (k, scrub_text(v))
            for k, v in parse_qsl(query, keep_blank_values=True)
            if not is_secret_name(k)
        ]
        query = urlencode(pairs)
    return urlunsplit(parts._replace(netloc=netloc, path=path, query=query))


def scrub_headers(headers: Any) -> dict[str, Any]:
    """Headers without secret-named ones; key shapes in the others' values redacted."""
    out: dict[str, Any] = {}
    for name, value in dict(headers or {}).items():
        if is_secret_name(name):
            continue
        if isinstance(value, list):
            out[name] = [scrub_text(v) if isinstance(v, str) else v for v in value]
        else:
            out[name] = scrub_text(value) if isinstance(value, str) else value
    return out


def scrub_body(body: Any) -> Any:
    """A request/response body (bytes, text or None) with credentials redacted."""
    if body is None or body == b"" or body == "":
        return body
    if isinstance(body, str):
        return _scrub_decoded(body)
    if not isinstance(body, bytes | bytearray):
        return body
    data = bytes(body)
    for encoding in _utf16(data):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        scrubbed = _scrub_decoded(text)
        if scrubbed != text:
            return scrubbed.encode(encoding)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # not text (vcrpy writes it as !!binary): ASCII key shapes, byte for byte
        return scrub_text(data.decode("latin-1")).encode("latin-1")
    scrubbed = _scrub_decoded(text)
    return data if scrubbed == text else scrubbed.encode("utf-8")


def scrub_request(request: Any) -> Any:
    """vcrpy ``before_record_request``: the request without credentials."""
    request.uri = scrub_url(request.uri)
    request.headers = scrub_headers(request.headers)
    request.body = scrub_body(request.body)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy ``before_record_response``: the response without credentials."""
    response["headers"] = scrub_headers(response.get("headers"))
    body = response.get("body")
    if isinstance(body, dict) and "string" in body:
        body["string"] = scrub_body(body["string"])
    return response


# --- internals -----------------------------------------------------------------


def _utf16(data: bytes) -> list[str]:
    """``["utf-16"]`` when ``data`` looks like UTF-16 (a BOM, or NULs in every other byte)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return ["utf-16"]
    if len(data) >= 4 and len(data) % 2 == 0:
        if data[1::2].count(0) > len(data) // 4:
            return ["utf-16-le"]
        if data[0::2].count(0) > len(data) // 4:
            return ["utf-16-be"]
    return []


def _scrub_decoded(text: str) -> str:
    """Text of a body: as JSON if it is JSON, as a form if it is one, else as text."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            cleaned = _scrub_json(value)
            if cleaned == value and scrub_text(text) == text:
                return text
            return json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False)
    if "=" in text and "\n" not in text and " " not in text:
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs and all(k for k, _ in pairs):
            cleaned = [(k, REDACTED if is_secret_name(k) else scrub_text(v)) for k, v in pairs]
            return text if cleaned == pairs else urlencode(cleaned)
    decoded = unquote(text) if "%" in text else text
    return scrub_text(decoded) if scrub_text(decoded) != decoded else text


def _secret_field(name: str) -> bool:
    return is_secret_name(name) and name.casefold() not in _HARMLESS_FIELDS


def _scrub_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(v, str) and v and _secret_field(k) else _scrub_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value
