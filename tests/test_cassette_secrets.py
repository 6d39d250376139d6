"""Secrets never reach a cassette: one recording per secret form, one planted file per form.

Record-time tests send real requests through pytest-iris's own vcrpy recorder
(the scrubbers as configured in :func:`pytest_iris.llm.cassette.recorder`)
to a real HTTP server on 127.0.0.1 that echoes keys back in headers and
bodies; the cassette written must hold none of them. Check tests plant each
form in a file and expect ``pytest-iris cassettes check`` to find it.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import pytest

from pytest_iris.cli import main as cli_main
from pytest_iris.llm.scan import scan_paths

# Fake secrets of each shape (none is a real credential).
OPENAI = "sk-proj-" + "Zq4" * 12
AZURE = "3f9c1b7e2d4a6f8091bc3de5f7a9b1c2"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJpcmlzLXRlc3QifQ.c2lnbmF0dXJlLW5vdC1yZWFs"
PASSWORD = "hunter2-not-real"
OPAQUE = "opaque-sessionvalue-42"  # no known shape: only its name gives it away


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body: bytes = b'{"ok":true}'
    headers_out: ClassVar[dict[str, str]] = {}

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = type(self).body
        self.send_response(200)
        for name, value in type(self).headers_out.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def echo() -> Iterator[tuple[type[_Echo], str]]:
    handler = type("Echo", (_Echo,), {"headers_out": {}, "body": b'{"ok":true}'})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _record(path: Path, method: str, url: str, **options: Any) -> None:
    from pytest_iris.llm._http import http_module
    from pytest_iris.llm.cassette import recorder

    httpx = http_module()
    with recorder("all").use_cassette(str(path)), httpx.Client() as client:
        assert client.request(method, url, **options).status_code == 200


def _assert_clean(path: Path, *secrets: str) -> None:
    raw = path.read_bytes()
    text = raw.decode("utf-8", "replace")
    for secret in secrets:
        assert secret not in text
        assert quote(secret, safe="") not in text
        assert base64.b64encode(secret.encode()).decode()[:16] not in text
    assert scan_paths(path) == [], [str(f) for f in scan_paths(path)]


def test_userinfo_password_leaves_uri_and_metadata(tmp_path: Path, echo: Any) -> None:
    _, host = echo
    path = tmp_path / "c.yaml"
    _record(path, "GET", f"http://iris:{PASSWORD}@{host}/v1/models")
    _assert_clean(path, PASSWORD)
    text = path.read_text()
    assert f"http://{host}/v1/models" in text  # the request itself is kept
    assert f"http://{host} - " in text  # metadata recorded_against, without userinfo


@pytest.mark.parametrize(
    "query",
    [f"subscription-key={AZURE}", f"sk={OPAQUE}", f"api-key={OPAQUE}", f"sig={OPAQUE}",
     f"access_token={OPAQUE}", f"x-session={OPAQUE}", f"note={OPENAI}"],
)  # fmt: skip
def test_secret_query_parameters_are_dropped(tmp_path: Path, echo: Any, query: str) -> None:
    _, host = echo
    path = tmp_path / "c.yaml"
    _record(path, "GET", f"http://{host}/v1/models?api-version=2024-06-01&{query}")
    _assert_clean(path, query.partition("=")[2])
    assert "api-version=2024-06-01" in path.read_text()


@pytest.mark.parametrize("key", [OPENAI, AZURE, JWT])
def test_a_key_in_the_url_path_is_redacted(tmp_path: Path, echo: Any, key: str) -> None:
    _, host = echo
    path = tmp_path / "c.yaml"
    _record(path, "GET", f"http://{host}/keys/{key}/models")
    _assert_clean(path, key)
    assert "/keys/REDACTED/models" in path.read_text()


@pytest.mark.parametrize(
    ("name", "value"),
    [("Authorization", f"Bearer {OPAQUE}"), ("api-key", AZURE), ("X-Session-Cookie", OPAQUE),
     ("Ocp-Apim-Subscription-Key", AZURE), ("X-Signature", OPAQUE), ("X-Trace-Note", JWT),
     ("X-Custom", f"Bearer {OPAQUE}")],
)  # fmt: skip
def test_request_headers_are_scrubbed(tmp_path: Path, echo: Any, name: str, value: str) -> None:
    _, host = echo
    path = tmp_path / "c.yaml"
    _record(path, "GET", f"http://{host}/v1/models", headers={name: value})
    _assert_clean(path, OPAQUE if OPAQUE in value else value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("Set-Cookie", f"session={OPAQUE}"), ("X-Echo-Key", AZURE), ("X-Echo", OPENAI),
     ("X-Token", JWT)],
)  # fmt: skip
def test_keys_echoed_in_response_headers_are_scrubbed(
    tmp_path: Path, echo: Any, name: str, value: str
) -> None:
    handler, host = echo
    handler.headers_out = {name: value}
    path = tmp_path / "c.yaml"
    _record(path, "GET", f"http://{host}/v1/models")
    _assert_clean(path, OPAQUE if OPAQUE in value else value)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"echo": OPENAI, "nested": [{"azure": AZURE}]}).encode(),
        json.dumps({"api_key": OPAQUE, "client_secret": OPAQUE}).encode(),
        json.dumps({"echo": OPENAI}, ensure_ascii=True).replace("s", "\\u0073").encode(),
        f"token={OPAQUE}&user=iris".encode(),
        f"plain text {JWT} and Bearer {OPAQUE}".encode(),
        f"escaped {quote(OPENAI)}".encode(),
        json.dumps({"echo": OPENAI}).encode("utf-16"),
        b"\xff\xfe\x00binary\x00" + OPENAI.encode() + b"\x00\x81",
    ],
    ids=["json", "json-named", "json-u-escaped", "form", "text", "url-encoded", "utf-16",
         "binary"],
)  # fmt: skip
def test_keys_in_response_bodies_are_scrubbed(tmp_path: Path, echo: Any, body: bytes) -> None:
    handler, host = echo
    handler.body = body
    path = tmp_path / "c.yaml"
    _record(path, "GET", f"http://{host}/v1/models")
    _assert_clean(path, OPENAI, OPAQUE, JWT)


def test_keys_in_request_bodies_are_scrubbed(tmp_path: Path, echo: Any) -> None:
    _, host = echo
    path = tmp_path / "c.yaml"
    body = {"model": "m", "max_tokens": 5, "api_key": OPAQUE, "messages": [{"content": OPENAI}]}
    _record(path, "POST", f"http://{host}/v1/chat/completions", json=body)
    _assert_clean(path, OPAQUE, OPENAI)
    assert "max_tokens" in path.read_text()  # a count of tokens is not a token


# --- cassettes check finds every planted form ----------------------------------


def _cassette(headers: str = "", uri: str = "http://127.0.0.1/v1/models", body: str = "") -> str:
    return (
        "interactions:\n- request:\n    body: null\n    headers:\n"
        f"{headers}      Accept:\n      - '*/*'\n    method: GET\n    uri: {uri}\n"
        "  response:\n    body:\n"
        f"{body or '      string: ok'}\n"
        "    headers: {}\n    status:\n      code: 200\n      message: OK\n"
        "version: 1\nmetadata:\n  recorded_against:\n  - http://127.0.0.1 - unknown server\n"
    )


PLANTED = {
    "openai": _cassette(body=f'      string: \'{{"k": "{OPENAI}"}}\''),
    "azure-32-hex": _cassette(body=f"      string: 'key {AZURE}'"),
    "jwt": _cassette(body=f"      string: {JWT}"),
    "bearer": _cassette(headers=f"      X-Forward:\n      - Bearer {OPAQUE}\n"),
    "base64-binary": _cassette(
        body="      string: !!binary |\n        "
        + base64.b64encode(f'{{"echo": "{OPENAI}"}}'.encode()).decode()
    ),
    "base64-binary-utf16": _cassette(
        body="      string: !!binary |\n        "
        + base64.b64encode(f"key {AZURE}".encode("utf-16")).decode()
    ),
    "url-encoded": _cassette(body=f"      string: 'a%3D{quote(OPENAI, safe='')}'"),
    "double-url-encoded": _cassette(body=f"      string: '{quote(quote(JWT, safe=''))}'"),
    "u-escaped": _cassette(
        body='      string: \'{"k": "' + "".join(f"\\u{ord(c):04x}" for c in OPENAI) + "\"}'"
    ),
    "session-cookie-header": _cassette(headers=f"      X-Session-Cookie:\n      - {OPAQUE}\n"),
    "custom-token-header": _cassette(headers=f"      X-Auth-Token:\n      - {OPAQUE}\n"),
    "userinfo-uri": _cassette(uri=f"http://iris:{PASSWORD}@127.0.0.1/v1/models"),
    "subscription-key-query": _cassette(uri=f"http://127.0.0.1/v1?subscription-key={OPAQUE}"),
    "sk-query": _cassette(uri=f"http://127.0.0.1/v1?sk={OPAQUE}"),
}


@pytest.mark.parametrize("form", sorted(PLANTED))
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_cassettes_check_finds_each_planted_form(
    tmp_path: Path, form: str, encoding: str, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = tmp_path / f"{form}.yaml"
    planted.write_bytes(PLANTED[form].encode(encoding))
    assert scan_paths(planted), f"{form} in {encoding} not found"
    assert cli_main(["cassettes", "check", str(tmp_path)]) == 1
    out = capsys.readouterr()
    for secret in (OPENAI, AZURE, JWT, OPAQUE, PASSWORD):
        assert secret not in out.out + out.err  # the report itself leaks nothing


def test_a_clean_cassette_passes(tmp_path: Path) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text(
        _cassette(
            headers="      x-ratelimit-remaining-tokens:\n      - '149'\n",
            body='      string: \'{"usage": {"total_tokens": 12, "max_tokens": 5}}\'',
        )
    )
    assert scan_paths(clean) == []
    assert cli_main(["cassettes", "check", str(clean)]) == 0
