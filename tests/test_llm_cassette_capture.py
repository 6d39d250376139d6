"""capture="all" sessions: every client recorded, mock endpoint traffic passed through, misses named."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from pytest_iris.errors import CassetteError
from pytest_iris.llm.cassette import CassetteSession
from pytest_iris.llm.server import IrisOpenAIServer
from pytest_iris.llm.storage import read_cassette
from pytest_iris.transport import MockEndpoint


def ask(server: IrisOpenAIServer, text: str) -> str:
    with openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0) as client:
        done = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": text}]
        )
    return str(done.choices[0].message.content)


def test_llm_calls_are_recorded_and_endpoint_publishes_pass_through(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with IrisOpenAIServer() as server, MockEndpoint() as endpoint:
        server.reply("disk", content="free space")
        endpoint.expect("POST", "/hook").respond_with_json({"ok": True})
        with CassetteSession(path, "once", capture="all"):
            assert ask(server, "disk?") == "free space"
            assert httpx.post(endpoint.url + "/hook", json={"n": 1}).json() == {"ok": True}
        uris = [i["request"]["uri"] for i in read_cassette(path)["interactions"]]
        assert uris == [server.base_url + "/chat/completions"]

        with CassetteSession(path, "none", capture="all") as replay:
            assert ask(server, "disk?") == "free space"  # from the cassette
            assert httpx.post(endpoint.url + "/hook", json={"n": 2}).status_code == 200  # live
            replay.check()
        assert len(server.received) == 1  # only the recording run reached the server
        assert [r.json() for r in endpoint.requests_to("/hook")] == [{"n": 1}, {"n": 2}]


def test_a_request_without_recording_is_named_with_the_difference(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with IrisOpenAIServer() as server:
        server.reply(content="ok")
        with CassetteSession(path, "once", capture="all"):
            ask(server, "first question")
        with CassetteSession(path, "none", capture="all", nodeid="t.py::test_x") as replay:
            with pytest.raises(
                (openai.APIConnectionError, CannotOverwriteExistingCassetteException)
            ):
                ask(server, "second question")  # vcrpy's own error, or the SDK's wrapping of it
            with pytest.raises(CassetteError) as failure:
                replay.check()
    message = str(failure.value)
    assert "no recording in cassette" in message and "POST /v1/chat/completions" in message
    assert "body.messages[0].content" in message
    assert "pytest t.py::test_x --iris-record-mode=new_episodes" in message
