"""How-to examples of docs/llm.md: each one is included in that page."""

import json

import openai
import pytest
from pydantic import BaseModel

from pytest_iris.llm import IrisOpenAIServer, LLMGenerator


def test_two_providers_one_fails_one_garbles():
    with IrisOpenAIServer() as primary, IrisOpenAIServer() as backup:
        primary.fail_next(429, retry_after=7, times=2)
        backup.garble_next()  # its first answer is not IRIS lines: asked again
        chain = [primary.provider("primary"), backup.provider("backup")]
        with LLMGenerator(chain, max_concurrency=4) as llm:
            result = llm.generate_sync("shm_failure", 4)
            label = llm.classify_sync(result.messages[0]).label

    print(result.text)
    assert result.provider == "backup" and result.attempts == 2
    assert result.fallbacks[0] == "primary: HTTP 429, Retry-After 7"
    assert len(result.messages) == 4
    assert label in {"config", "os", "restart", "none"}


class Plan(BaseModel):
    action: str
    value: int


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_log",
            "parameters": {"type": "object", "properties": {"lines": {"type": "integer"}}},
        },
    }
]


@pytest.fixture
def client(iris_openai_server):
    with openai.OpenAI(base_url=iris_openai_server.base_url, api_key="unused") as c:
        yield c


def test_tool_call_then_structured_output(iris_openai_server, client):
    iris_openai_server.reply(
        "failed to start", tool_calls=[{"name": "read_log", "arguments": {"lines": 20}}], times=1
    )
    iris_openai_server.reply("failed to start", json={"action": "raise_shmmax", "value": 8})
    question = [{"role": "user", "content": "IRIS failed to start. What now?"}]
    first = client.chat.completions.create(model="any", messages=question, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"lines": 20}
    plan = client.chat.completions.parse(model="any", messages=question, response_format=Plan)
    assert plan.choices[0].message.parsed == Plan(action="raise_shmmax", value=8)


def test_streaming_and_the_responses_api(iris_openai_server, client):
    iris_openai_server.reply("summary", stream=["Shared memory ", "is too small."])
    chunks = client.chat.completions.create(
        model="any",
        messages=[{"role": "user", "content": "summary please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Shared memory is too small."
    assert client.responses.create(model="any", input="summary").output_text == text


def test_unscripted_prompts_are_refused(client):
    with pytest.raises(openai.BadRequestError, match="no scripted reply matches"):
        client.chat.completions.create(model="any", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.iris_cassette
def test_my_agent_offline(iris_openai_server):
    iris_openai_server.reply("disk", content="Free space on /iris/db.")
    with openai.OpenAI(base_url=iris_openai_server.base_url, api_key="unused") as client:
        done = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "disk full?"}]
        )
    assert done.choices[0].message.content == "Free space on /iris/db."


@pytest.fixture
def iris_cassette_dir(tmp_path):
    return tmp_path / "cassettes"  # here: a fresh one per test; default: <rootdir>/cassettes


@pytest.fixture
def iris_llm_providers(iris_openai_server):
    return (iris_openai_server.provider("local"),)


@pytest.fixture
def iris_record_mode():
    return "once"  # record on the first run, replay afterwards (usually: the ini key)


def test_my_tailer_on_llm_lines(iris_llm):
    result = iris_llm.generate_sync("write_daemon_death", 4)
    assert result.provider == "local"
    assert any(m.severity == 3 for m in result.messages)


@pytest.mark.iris_llm(incidents=("startup", "lock_table"), count=3)
def test_a_whole_log(iris_llm_log):
    from pytest_iris import read_log

    entries = list(read_log(iris_llm_log))
    assert len(entries) == 6
