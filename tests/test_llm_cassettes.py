"""Cassettes: naming, recording through vcrpy, replay without network, scrubbing, the scan."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import pytest
import yaml

from pytest_iris.cli import main as cli_main
from pytest_iris.errors import CassetteError, ConfigError, LLMError
from pytest_iris.llm.cassette import (
    CassetteIndex,
    CassetteSession,
    ReplayTransport,
    cassette_path,
    match_key,
)
from pytest_iris.llm.generator import LLMGenerator
from pytest_iris.llm.guard import NetworkDenied, deny_network
from pytest_iris.llm.providers import Provider
from pytest_iris.llm.scan import scan_paths
from pytest_iris.llm.server import IrisOpenAIServer

REPO = Path(__file__).parents[1]
SHIPPED = sorted((REPO / "cassettes").rglob("*.yaml"))
FAKE_KEY = "sk-proj-FAKEtestKEY0123456789abcdefghijklmnop"


def _nowhere() -> Provider:
    """A provider that must never be contacted (replay only)."""
    return Provider(name="nowhere", base_url="http://192.0.2.1:9/v1", model="iris-template-1")


def _record(path: Path, server: IrisOpenAIServer, mode: str = "once", *incidents: str) -> None:
    with CassetteSession(path, mode) as cassette:
        assert cassette.transport is None  # recording: real transport, patched by vcrpy
        with LLMGenerator([server.provider()], transport=cassette.transport) as llm:
            for name in incidents or ("startup",):
                llm.generate_sync(name, 3)


def _interactions(path: Path) -> list[dict[str, object]]:
    return list(yaml.safe_load(path.read_text())["interactions"])


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        ("tests/test_a.py::test_one", "tests/test_a/test_one.yaml"),
        ("tests/test_a.py::TestX::test_two", "tests/test_a/TestX.test_two.yaml"),
        ("test_b.py::test_p[shm_failure-3]", "test_b/test_p[shm_failure-3].yaml"),
        ("t.py::test_q[a/b c:d]", "t/test_q[a_b_c_d].yaml"),
        ("../up.py::test_r", "_up_/up/test_r.yaml"),
    ],
)
def test_cassette_names_follow_the_node_id(nodeid: str, expected: str) -> None:
    assert cassette_path("cassettes", nodeid) == Path("cassettes", expected)


def test_invalid_record_mode_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--iris-record-mode"):
        CassetteSession(tmp_path / "c.yaml", "sometimes")


# -- matching ----------------------------------------------------------------------------


def test_matching_ignores_key_order_host_and_port() -> None:
    a = match_key(
        "post", "http://127.0.0.1:1234/v1/chat/completions", b'{"b": 1, "a": [1, {"y": 2, "x": 1}]}'
    )
    b = match_key(
        "POST", "https://api.example.com/v1/chat/completions", '{"a":[1,{"x":1,"y":2}],"b":1}'
    )
    assert a == b
    assert a != match_key("POST", "http://h/v1/chat/completions", '{"a":[1,{"x":1,"y":3}],"b":1}')
    assert a != match_key("POST", "http://h/v1/embeddings", '{"a":[1,{"x":1,"y":2}],"b":1}')


# -- record and replay -------------------------------------------------------------------


def test_record_once_then_replay_with_every_connect_denied(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer
) -> None:
    path = tmp_path / "c.yaml"
    provider = iris_openai_server.provider()
    with (
        CassetteSession(path, "once") as cassette,
        LLMGenerator([provider], transport=cassette.transport) as llm,
    ):
        live = llm.generate_sync("shm_failure", 4)
        label = llm.classify_sync(live.messages[0]).label
    assert len(_interactions(path)) == 2
    for mode in ("none", "once"):  # once + existing cassette replays too
        with deny_network() as attempts, CassetteSession(path, mode) as cassette:
            assert cassette.replaying
            with LLMGenerator([_nowhere()], transport=cassette.transport) as llm:
                replayed = llm.generate_sync("shm_failure", 4)
                assert llm.classify_sync(replayed.messages[0]).label == label
        assert attempts == []
        assert replayed.messages == live.messages
        assert replayed.provider == "nowhere"  # the chain entry the replay stood in for


def test_the_guard_really_blocks(iris_openai_server: IrisOpenAIServer) -> None:
    with (
        deny_network() as attempts,
        LLMGenerator([iris_openai_server.provider()]) as llm,
        pytest.raises(LLMError, match="every provider in the chain failed"),
    ):
        llm.generate_sync("startup", 2)
    assert attempts and attempts[0][1] == int(iris_openai_server.url.rsplit(":", 1)[1])
    with deny_network(), pytest.raises(NetworkDenied):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


def test_missing_cassette_names_the_cassette_and_the_option(tmp_path: Path) -> None:
    path = tmp_path / "tests" / "test_x" / "test_y.yaml"
    with (
        CassetteSession(path, "none", nodeid="tests/test_x.py::test_y") as cassette,
        LLMGenerator([_nowhere()], transport=cassette.transport) as llm,
        pytest.raises(CassetteError) as caught,
    ):
        llm.generate_sync("startup")
    message = str(caught.value)
    assert str(path) in message
    assert "does not exist" in message
    assert "pytest tests/test_x.py::test_y --iris-record-mode=once" in message
    assert "iris_record_mode" in message


def test_unrecorded_request_says_what_differs(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, iris_openai_server)
    with (
        CassetteSession(path, "none") as cassette,
        LLMGenerator([_nowhere()], transport=cassette.transport, temperature=0.9) as llm,
        pytest.raises(CassetteError) as caught,
    ):
        llm.generate_sync("startup", 3)
    assert "body.temperature: 0.9 != recorded 0.7" in str(caught.value)
    assert "--iris-record-mode=new_episodes" in str(caught.value)


def test_each_recording_is_played_once(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, iris_openai_server)
    index = CassetteIndex(path)
    (key,) = list(index.keys())
    assert index.play(key) is not None
    assert index.play(key) is None
    assert "already played" in index.miss_reason(key)


def test_new_episodes_adds_and_all_replaces(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, iris_openai_server, "once", "startup")
    _record(path, iris_openai_server, "new_episodes", "startup", "mirror")
    contents = [json.dumps(i["request"]) for i in _interactions(path)]  # type: ignore[index]
    assert len(contents) == 2
    assert "Incident: startup" in contents[0] and "Incident: mirror" in contents[1]
    assert len(iris_openai_server.received) == 2  # startup replayed in new_episodes mode
    _record(path, iris_openai_server, "all", "journal_space")
    contents = [json.dumps(i["request"]) for i in _interactions(path)]  # type: ignore[index]
    assert len(contents) == 1 and "Incident: journal_space" in contents[0]


def test_cassettes_say_truthfully_where_they_were_recorded(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, iris_openai_server)
    metadata = yaml.safe_load(path.read_text())["metadata"]
    (origin,) = metadata["recorded_against"]
    assert origin.startswith(iris_openai_server.url)
    assert "iris_openai_server" in origin and "not a hosted model" in origin
    assert metadata["recorded_with"].startswith("pytest-iris ")


def test_a_failed_save_leaves_the_old_cassette(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    _record(path, iris_openai_server)
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        _record(path, iris_openai_server, "all", "mirror")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


# -- secrets -----------------------------------------------------------------------------


def test_secrets_are_scrubbed_at_record_time(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IRIS_TEST_FAKE_KEY", FAKE_KEY)
    provider = Provider(
        name="keyed",
        base_url=iris_openai_server.base_url,
        model="iris-template-1",
        api_key_env="IRIS_TEST_FAKE_KEY",
    )
    path = tmp_path / "cassettes" / "keyed.yaml"
    with (
        CassetteSession(path, "once") as cassette,
        LLMGenerator([provider], transport=cassette.transport) as llm,
    ):
        llm.generate_sync("startup", 2)
    # The key really went over the wire ...
    assert iris_openai_server.received[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    # ... and not into the cassette.
    text = path.read_text()
    assert FAKE_KEY not in text
    assert "authorization" not in text.lower()
    assert scan_paths(tmp_path / "cassettes") == []
    assert cli_main(["cassettes", "check", str(tmp_path / "cassettes")]) == 0


def test_query_parameters_and_response_headers_are_scrubbed_too() -> None:
    from vcr.request import Request

    from pytest_iris.llm.scrub import scrub_request, scrub_response

    request = Request(
        "POST",
        f"https://example.openai.azure.com/openai/deployments/d/chat/completions?api-version=1&api-key={FAKE_KEY}",
        b"{}",
        {"api-key": FAKE_KEY, "X-Goog-Api-Key": FAKE_KEY, "content-type": "application/json"},
    )
    scrubbed = scrub_request(request)
    assert FAKE_KEY not in scrubbed.uri and "api-version=1" in scrubbed.uri
    assert dict(scrubbed.headers) == {"content-type": "application/json"}
    response = scrub_response(
        {"headers": {"Set-Cookie": ["s=1"], "openai-organization": ["org"], "server": ["x"]}}
    )
    assert response["headers"] == {"server": ["x"]}


def test_the_scan_finds_a_key_that_got_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaked = tmp_path / "leaked.yaml"
    leaked.write_text(
        "interactions:\n- request:\n    headers:\n      Authorization:\n"
        f"      - Bearer {FAKE_KEY}\n"
    )
    findings = scan_paths(tmp_path)
    kinds = {f.kind for f in findings}
    assert {"OpenAI-style key", "bearer token", "credential header or field"} <= kinds
    assert all(FAKE_KEY not in str(f) for f in findings)  # the report itself leaks nothing
    assert cli_main(["cassettes", "check", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert f"{leaked}:4:" in out.out and FAKE_KEY not in out.out + out.err
    assert cli_main(["cassettes", "check", str(tmp_path / "missing")]) == 2


def test_cassettes_list_says_what_each_holds(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(tmp_path / "a" / "one.yaml", iris_openai_server, "once", "startup", "mirror")
    (tmp_path / "a" / "broken.yaml").write_text("interactions: 3\n")
    assert cli_main(["cassettes", "list", str(tmp_path)]) == 2
    out = capsys.readouterr()
    assert f"{tmp_path / 'a' / 'one.yaml'}: 2 interaction(s) (2x200); recorded against" in out.out
    assert "iris_openai_server" in out.out
    assert "broken.yaml is not a vcrpy cassette" in out.err


def test_shipped_cassettes_hold_nothing_key_like() -> None:
    assert SHIPPED, "the repository ships cassettes under cassettes/"
    assert scan_paths(REPO / "cassettes") == []


# -- every shipped cassette replays offline through the real SDK -------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(REPO)) for p in SHIPPED])
def test_every_shipped_cassette_replays_offline(path: Path) -> None:
    import openai
    from openai import AsyncOpenAI

    from pytest_iris.llm._http import http_module

    data = yaml.safe_load(path.read_text())
    assert any("iris_openai_server" in o for o in data["metadata"]["recorded_against"])
    transport = ReplayTransport(path)
    client = AsyncOpenAI(
        api_key="not-needed",
        base_url="http://192.0.2.1:9/v1",
        max_retries=0,
        http_client=http_module().AsyncClient(transport=transport),
    )

    async def replay_all() -> list[tuple[int, str | None]]:
        out: list[tuple[int, str | None]] = []
        for interaction in data["interactions"]:
            body = json.loads(interaction["request"]["body"])
            try:
                response = await client.chat.completions.create(**body)
            except openai.APIStatusError as error:  # recorded failures (429 ...) replay too
                out.append((error.status_code, None))
            else:
                out.append((200, response.choices[0].message.content))
        return out

    with deny_network() as attempts:
        contents = asyncio.run(replay_all())
    assert attempts == []
    recorded = []
    for interaction in data["interactions"]:
        status = interaction["response"]["status"]["code"]
        answer = json.loads(interaction["response"]["body"]["string"])
        recorded.append(
            (status, answer["choices"][0]["message"]["content"] if status == 200 else None)
        )
    assert contents == recorded


def test_replay_matches_a_reordered_body(
    tmp_path: Path, iris_openai_server: IrisOpenAIServer
) -> None:
    from pytest_iris.llm._http import http_module

    path = tmp_path / "c.yaml"
    _record(path, iris_openai_server)
    recorded = json.loads(_interactions(path)[0]["request"]["body"])  # type: ignore[index]
    reordered = json.dumps(dict(reversed(list(recorded.items()))), indent=2).encode()
    assert reordered != _interactions(path)[0]["request"]["body"].encode()  # type: ignore[index]
    httpx = http_module()

    async def send() -> int:
        async with httpx.AsyncClient(transport=ReplayTransport(path)) as client:
            response = await client.post(
                "http://elsewhere:1/v1/chat/completions", content=reordered
            )
            return int(response.status_code)

    with deny_network() as attempts:
        assert asyncio.run(send()) == 200
    assert attempts == []


def test_cassettes_list_of_a_missing_path_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # listing nothing would read as "no cassettes recorded"; check says the same
    assert cli_main(["cassettes", "list", str(tmp_path / "cassettes")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"pytest-iris cassettes list: {tmp_path / 'cassettes'}: no such file or directory"
