"""The receiver's contract: OpenAPI round trip, wire timestamps, auth from the environment."""

from __future__ import annotations

import asyncio
import calendar
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pytest_iris.errors import ConfigError
from pytest_iris.llm._jsonschema import errors as schema_errors
from pytest_iris.log import parse_message
from pytest_iris.models import RemediationCommand
from pytest_iris.transport import HttpTransport, MockEndpoint
from pytest_iris.transport.schema import TIMESTAMP_PATTERN, json_schemas, openapi
from pytest_iris.transport.settings import RetryPolicy
from pytester_support import run_cli

DOC = openapi()
SCHEMAS = DOC["components"]["schemas"]


def cli_openapi() -> dict[str, Any]:
    done = run_cli(None, "schema", "--openapi")
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_the_cli_prints_an_openapi_31_document_of_the_three_routes() -> None:
    document = cli_openapi()
    assert document == json.loads(json.dumps(DOC))
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/messages", "/messages/batch", "/commands"}
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(document))
    assert refs and all(r.removeprefix("#/components/schemas/") in SCHEMAS for r in refs)
    bad = run_cli(None, "schema", "--openapi", "IRISMessage")
    assert bad.returncode == 2 and "--openapi prints the whole document" in bad.stdout


def test_json_schemas_include_the_envelopes_with_the_wire_timestamp() -> None:
    schemas = json_schemas()
    assert {"MessageEnvelope", "MessageBatch", "IRISMessage"} <= set(schemas)
    text = json.dumps(schemas)
    assert '"date-time"' not in text  # the wire has no zone: RFC 3339 would be a lie
    stamp = schemas["IRISMessage"]["properties"]["timestamp"]
    assert stamp["pattern"] == TIMESTAMP_PATTERN


# -- examples generated from the schema ------------------------------------------------------


def strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values for ``schema`` (the keywords the receiver's schemas use)."""
    if "$ref" in schema:
        return st.deferred(lambda: strategy(SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]))
    if "anyOf" in schema:
        return st.one_of([strategy(option) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: strategy(v) for k, v in properties.items() if k in required},
            optional={k: strategy(v) for k, v in properties.items() if k not in required},
        )
    if kind == "array":
        return st.lists(
            strategy(schema.get("items", {})), min_size=schema.get("minItems", 0), max_size=3
        )
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"].replace("\\u0000", "\\x00"), fullmatch=True)
        return st.text(max_size=20)
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=2**31)
    if kind == "number":
        return st.floats(min_value=schema.get("minimum"), max_value=4e9, allow_nan=False)
    if kind == "null":
        return st.none()
    raise AssertionError(f"the receiver's schema uses a keyword this test does not know: {schema}")


def follows_the_named_rules(envelope: dict[str, Any]) -> bool:
    """The rules ``x-iris-rules`` names because JSON Schema cannot state them."""
    message = envelope["message"]
    year, month, day = (int(p) for p in message["timestamp"][:10].split("-"))
    if day > calendar.monthrange(year, month)[1]:
        return False
    if message.get("continuation"):
        return False
    return not (
        message.get("category") is None and re.match(r"\[[^\]]+\]( |$)", message.get("text", ""))
    )


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MockEndpoint]:
    with MockEndpoint() as running:
        yield running


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelope=strategy({"$ref": "#/components/schemas/MessageEnvelope"}))
def test_what_the_schema_accepts_the_endpoint_accepts(
    endpoint: MockEndpoint, envelope: dict[str, Any]
) -> None:
    assume(follows_the_named_rules(envelope))
    assert not schema_errors(envelope, {"$ref": "#/components/schemas/MessageEnvelope"}, DOC)
    response = httpx.post(endpoint.url + "/messages", json=envelope, timeout=30)
    assert response.status_code == 200, response.text
    batch = httpx.post(endpoint.url + "/messages/batch", json={"messages": [envelope]}, timeout=30)
    assert batch.status_code == 200, batch.text


def test_the_transports_payloads_validate_against_the_schema(tmp_path: Path) -> None:
    lines = [
        "11/26/26-10:00:00:000 (1234) 0 [Generic.Event] Allocated 4401MB shared memory",
        "02/29/28-23:59:59:999 (99) 3 [Utility.Event] leap day, last millisecond",
    ]
    messages = [parse_message(line) for line in lines]
    with MockEndpoint() as running:
        running.queue_command(RemediationCommand(tool="restart", action="restart"))

        async def publish() -> None:
            async with HttpTransport(running.url, outbox_dir=tmp_path / "one") as transport:
                for message in messages:
                    await transport.publish(message)
            async with HttpTransport(
                running.url, outbox_dir=tmp_path / "many", batch_size=2
            ) as transport:
                await transport.publish_many(messages)

        asyncio.run(publish())
        page = httpx.get(running.url + "/commands").json()
        bodies = {r.path: r.json() for r in running.history if r.method == "POST"}
    assert set(bodies) == {"/messages", "/messages/batch"}
    for path, body in bodies.items():
        operation = DOC["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert schema_errors(body, operation["schema"], DOC) == [], path
    assert bodies["/messages/batch"]["messages"][1]["message"]["timestamp"] == (
        "2028-02-29T23:59:59.999000"
    )
    assert schema_errors(page, {"$ref": "#/components/schemas/CommandsPage"}, DOC) == []


def test_a_schema_pattern_rejects_a_zoned_timestamp() -> None:
    assert re.match(TIMESTAMP_PATTERN, "2026-11-26T10:00:00.123000")
    assert not re.match(TIMESTAMP_PATTERN, "2026-11-26T10:00:00Z")
    assert not re.match(TIMESTAMP_PATTERN, "2026-11-26T10:00:00.123456")


# -- auth and redirects ----------------------------------------------------------------------


def test_auth_header_comes_from_the_named_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "hook-credential-7f3a"
    monkeypatch.setenv("IRIS_HOOK_TOKEN", secret)
    message = parse_message("11/26/26-10:00:00:000 (1) 1 [Generic.Event] low disk")
    with MockEndpoint() as running:
        transport = HttpTransport(
            running.url, outbox_dir=tmp_path / "outbox", auth_env="IRIS_HOOK_TOKEN"
        )

        async def publish() -> bool:
            async with transport:
                return await transport.publish(message)

        assert asyncio.run(publish())
        running.assert_received(path="/messages", headers={"authorization": f"Bearer {secret}"})
    assert secret not in transport.settings.model_dump_json()

    down = HttpTransport(
        "http://127.0.0.1:9",
        outbox_dir=tmp_path / "down",
        auth_env="IRIS_HOOK_TOKEN",
        auth_header="X-Api-Key",
        auth_scheme="",
        retry=RetryPolicy(attempts=1),
    )

    async def publish_down() -> bool:
        async with down:
            return await down.publish(message)

    assert not asyncio.run(publish_down())
    stored = b"".join(p.read_bytes() for p in (tmp_path / "down").rglob("*") if p.is_file())
    assert stored and secret.encode() not in stored


def test_a_missing_credential_is_a_clear_error_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IRIS_NOT_SET_TOKEN", raising=False)
    transport = HttpTransport(
        "http://127.0.0.1:9", outbox_dir=tmp_path / "o", auth_env="IRIS_NOT_SET_TOKEN"
    )
    with pytest.raises(ConfigError, match=r"'IRIS_NOT_SET_TOKEN', which is not set"):
        asyncio.run(transport.open())
    with pytest.raises(ConfigError, match="auth_env"):
        HttpTransport("http://127.0.0.1:9", outbox_dir=tmp_path / "p", auth_env="not a name")


@pytest.mark.parametrize("status", [307, 308])
def test_redirects_keep_method_body_and_credential(
    status: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IRIS_HOOK_TOKEN", "tok-1")
    message = parse_message("11/26/26-10:00:00:000 (1) 1 [Generic.Event] moved")
    with MockEndpoint() as running:
        running.expect("POST", "/old/messages").respond_with_status(
            status, headers={"Location": running.url + "/messages"}
        )
        transport = HttpTransport(
            running.url + "/old", outbox_dir=tmp_path / "o", auth_env="IRIS_HOOK_TOKEN"
        )

        async def publish() -> bool:
            async with transport:
                return await transport.publish(message)

        assert asyncio.run(publish())
        assert running.received == [message]
        running.assert_received(path="/messages", headers={"authorization": "Bearer tok-1"})
        running.check()


def test_iris_transport_sends_the_credential_named_in_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_IRIS_TRANSPORT__AUTH_ENV", "HOOK_TOKEN")
    monkeypatch.setenv("PYTEST_IRIS_TRANSPORT__AUTH_HEADER", "X-Api-Key")
    monkeypatch.setenv("PYTEST_IRIS_TRANSPORT__AUTH_SCHEME", "")
    monkeypatch.setenv("HOOK_TOKEN", "k-123")
    pytester.makepyfile(
        """
        import asyncio
        from pytest_iris.log import parse_message

        def test_auth(iris_endpoint, iris_transport):
            message = parse_message("11/26/26-10:00:00:000 (1) 1 [Generic.Event] x")

            async def go():
                async with iris_transport:
                    return await iris_transport.publish(message)

            assert asyncio.run(go())
            iris_endpoint.assert_received(path="/messages", headers={"x-api-key": "k-123"})
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
