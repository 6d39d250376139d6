"""LangChain's OpenAI chat model against the scripted server (optional: skipped without it).

``pip install langchain-openai`` to run it; LiteLLM is not tested (its install
brings aiohttp, boto3 and tokenizers into the environment).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from pytest_iris.llm.server import IrisOpenAIServer

langchain_openai = pytest.importorskip("langchain_openai")


class Plan(BaseModel):
    action: str
    value: int


def read_log(lines: int) -> str:
    """Last lines of messages.log."""
    return ""


@pytest.fixture
def server() -> Iterator[IrisOpenAIServer]:
    with IrisOpenAIServer() as running:
        yield running


@pytest.fixture
def model(server: IrisOpenAIServer) -> Any:
    return langchain_openai.ChatOpenAI(
        model="gpt-4o-mini", base_url=server.base_url, api_key="unused", max_retries=0
    )


def test_invoke_stream_tools_and_structured_output(server: IrisOpenAIServer, model: Any) -> None:
    server.reply("status", content="All up.")
    assert model.invoke("status?").content == "All up."

    server.reply("explain", stream=["Shared ", "memory."])
    assert [c.content for c in model.stream("explain") if c.content] == ["Shared ", "memory."]

    server.reply("logs", tool_calls=[{"name": "read_log", "arguments": {"lines": 5}}])
    message = model.bind_tools([read_log]).invoke("read the logs")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("read_log", {"lines": 5})]

    server.reply("plan", json={"action": "raise_shmmax", "value": 8})
    assert model.with_structured_output(Plan).invoke("plan?") == Plan(
        action="raise_shmmax", value=8
    )


def test_async_invoke(server: IrisOpenAIServer, model: Any) -> None:
    import asyncio

    server.reply("async", content="yes")
    assert asyncio.run(model.ainvoke("async?")).content == "yes"
