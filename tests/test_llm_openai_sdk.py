"""The openai SDK matrix against the local server: every call, sync and async.

Each case is one coroutine that gets a sync or an async client; ``call``
awaits what the async client returns and passes the sync client's result
through, so both clients run the very same assertions.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from pytest_iris.llm.server import IrisOpenAIServer


class Verdict(BaseModel):
    action: str
    restart: bool
    confidence: float


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_cpf",
            "description": "Read a CPF parameter",
            "parameters": {
                "type": "object",
                "properties": {"section": {"type": "string"}, "key": {"type": "string"}},
                "required": ["section", "key"],
                "additionalProperties": False,
            },
        },
    }
]
RESPONSES_TOOLS = [{"type": "function", **TOOLS[0]["function"]}]


async def call(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def collect(stream: Any) -> list[Any]:
    if hasattr(stream, "__aiter__"):
        return [item async for item in stream]
    return list(stream)


async def stream_helper(manager: Any, final: str) -> tuple[list[Any], Any]:
    """Events and the final object of a ``.stream(...)`` helper, sync or async."""
    if hasattr(manager, "__aenter__"):
        async with manager as stream:
            events = [e async for e in stream]
            return events, await getattr(stream, final)()
    with manager as stream:
        events = list(stream)
        return events, getattr(stream, final)()


@pytest.fixture(scope="module")
def server() -> Iterator[IrisOpenAIServer]:
    with IrisOpenAIServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_scripts(server: IrisOpenAIServer) -> None:
    server.clear_replies()


Case = Callable[[Any, IrisOpenAIServer], Awaitable[None]]
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__] = function
    return function


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@case
async def chat_content(client: Any, server: IrisOpenAIServer) -> None:
    server.reply("status?", content="All instances are up.")
    done = await call(client.chat.completions.create(model="m", messages=user("status?")))
    assert done.choices[0].message.content == "All instances are up."
    assert done.choices[0].finish_reason == "stop"
    assert done.usage.total_tokens > 0


@case
async def chat_stream_with_usage(client: Any, server: IrisOpenAIServer) -> None:
    server.reply(re.compile(r"^explain"), stream=["Shared ", "memory ", "is ", "low."])
    chunks = await collect(
        await call(
            client.chat.completions.create(
                model="m",
                messages=user("explain the incident"),
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    )
    deltas = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert deltas == ["Shared ", "memory ", "is ", "low."]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


@case
async def chat_tool_calls(client: Any, server: IrisOpenAIServer) -> None:
    server.reply(
        "gmheap",
        tool_calls=[{"name": "read_cpf", "arguments": {"section": "config", "key": "gmheap"}}],
    )
    done = await call(
        client.chat.completions.create(model="m", messages=user("check gmheap"), tools=TOOLS)
    )
    (tool_call,) = done.choices[0].message.tool_calls
    assert tool_call.function.name == "read_cpf"
    assert tool_call.function.arguments == '{"section": "config", "key": "gmheap"}'
    assert tool_call.id.startswith("call_")
    assert done.choices[0].finish_reason == "tool_calls"


@case
async def chat_forced_tool_is_filled_from_its_schema(client: Any, server: IrisOpenAIServer) -> None:
    server.reply("anything")
    done = await call(
        client.chat.completions.create(
            model="m",
            messages=user("anything"),
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "read_cpf"}},
        )
    )
    (tool_call,) = done.choices[0].message.tool_calls
    assert tool_call.function.name == "read_cpf"
    assert json.loads(tool_call.function.arguments) == {"section": "", "key": ""}


@case
async def chat_stream_helper_accumulates_tool_calls(client: Any, server: IrisOpenAIServer) -> None:
    server.reply(
        "locks",
        tool_calls=[{"name": "read_cpf", "arguments": {"section": "config", "key": "locksiz"}}],
    )
    events, final = await stream_helper(
        client.chat.completions.stream(model="m", messages=user("locks full"), tools=TOOLS),
        "get_final_completion",
    )
    assert any(e.type == "tool_calls.function.arguments.done" for e in events)
    (tool_call,) = final.choices[0].message.tool_calls
    assert json.loads(tool_call.function.arguments) == {"section": "config", "key": "locksiz"}


@case
async def chat_parse_scripted_json(client: Any, server: IrisOpenAIServer) -> None:
    server.reply("verdict", json={"action": "restart", "restart": True, "confidence": 0.9})
    done = await call(
        client.chat.completions.parse(model="m", messages=user("verdict?"), response_format=Verdict)
    )
    assert done.choices[0].message.parsed == Verdict(action="restart", restart=True, confidence=0.9)


@case
async def chat_parse_filled_from_the_schema(client: Any, server: IrisOpenAIServer) -> None:
    server.reply("verdict")  # nothing scripted: a value valid for the schema
    done = await call(
        client.chat.completions.parse(model="m", messages=user("verdict?"), response_format=Verdict)
    )
    assert isinstance(done.choices[0].message.parsed, Verdict)


@case
async def chat_json_object_and_n(client: Any, server: IrisOpenAIServer) -> None:
    server.reply("json please", json={"ok": True})
    done = await call(
        client.chat.completions.create(
            model="m",
            messages=user("json please"),
            response_format={"type": "json_object"},
            n=3,
        )
    )
    assert [c.index for c in done.choices] == [0, 1, 2]
    assert {c.message.content for c in done.choices} == {'{"ok": true}'}


@case
async def chat_unscripted_is_a_clear_400(client: Any, server: IrisOpenAIServer) -> None:
    with pytest.raises(openai.BadRequestError) as failure:
        await call(client.chat.completions.create(model="m", messages=user("hello there")))
    message = str(failure.value)
    assert "no scripted reply matches" in message and "reply(match=" in message
    assert "'hello there'" in message


@case
async def chat_iris_prompt_unscripted_keeps_iris_answers(
    client: Any, server: IrisOpenAIServer
) -> None:
    done = await call(
        client.chat.completions.create(
            model="m",
            messages=user("Entry:\n11/26/26-10:00:00:000 (1) 2 [Generic.Event] Process 1 died"),
        )
    )
    assert done.choices[0].message.content == "restart"


@case
async def chat_scripted_json_breaking_the_schema_is_refused(
    client: Any, server: IrisOpenAIServer
) -> None:
    server.reply("verdict", json={"action": "restart"})
    with pytest.raises(openai.BadRequestError, match=r"missing required property 'restart'"):
        await call(
            client.chat.completions.parse(
                model="m", messages=user("verdict"), response_format=Verdict
            )
        )


@case
async def responses_create_text_and_tools(client: Any, server: IrisOpenAIServer) -> None:
    server.reply("summarise", content="Two warnings, one severe.")
    done = await call(client.responses.create(model="m", input="summarise the log"))
    assert done.output_text == "Two warnings, one severe."
    assert done.status == "completed"
    server.reply(
        "cpf", tool_calls=[{"name": "read_cpf", "arguments": {"section": "config", "key": "x"}}]
    )
    called = await call(
        client.responses.create(
            model="m",
            input=[{"role": "user", "content": "look at the cpf"}],
            tools=RESPONSES_TOOLS,
        )
    )
    (item,) = called.output
    assert (item.type, item.name) == ("function_call", "read_cpf")


@case
async def responses_streaming_events(client: Any, server: IrisOpenAIServer) -> None:
    server.reply("stream", stream=["one ", "two"])
    events, final = await stream_helper(
        client.responses.stream(model="m", input="stream it"), "get_final_response"
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [e.delta for e in events if e.type == "response.output_text.delta"] == ["one ", "two"]
    assert final.output_text == "one two"
    raw = await collect(
        await call(client.responses.create(model="m", input="stream it", stream=True))
    )
    assert [e.sequence_number for e in raw] == list(range(len(raw)))


@case
async def responses_parse(client: Any, server: IrisOpenAIServer) -> None:
    server.reply("verdict", json={"action": "none", "restart": False, "confidence": 0.1})
    done = await call(client.responses.parse(model="m", input="verdict?", text_format=Verdict))
    assert done.output_parsed == Verdict(action="none", restart=False, confidence=0.1)


@case
async def embeddings_are_deterministic_and_similar_for_shared_words(
    client: Any, server: IrisOpenAIServer
) -> None:
    texts = ["shared memory exhausted", "shared memory exhausted again", "license limit reached"]
    first = await call(client.embeddings.create(model="e", input=texts))  # SDK asks for base64
    floats = await call(client.embeddings.create(model="e", input=texts, encoding_format="float"))
    vectors = [d.embedding for d in first.data]
    assert len(vectors) == 3 and len(vectors[0]) == 256
    assert all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
        for a, b in zip(vectors[0], floats.data[0].embedding, strict=True)
    )

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    small = await call(client.embeddings.create(model="e", input="x", dimensions=8))
    assert len(small.data[0].embedding) == 8


@case
async def models_list_and_retrieve(client: Any, server: IrisOpenAIServer) -> None:
    page = await call(client.models.list())
    assert [m.id for m in page.data] == [server.model]
    assert (await call(client.models.retrieve("gpt-x"))).id == "gpt-x"


@case
async def faults_apply_to_every_route(client: Any, server: IrisOpenAIServer) -> None:
    server.fail_next(503)
    with pytest.raises(openai.InternalServerError):
        await call(client.embeddings.create(model="e", input="x"))
    server.fail_next(429, retry_after=0)
    with pytest.raises(openai.RateLimitError):
        await call(client.models.list())
    server.drop_next()
    with pytest.raises(openai.APIConnectionError):
        await call(client.responses.create(model="m", input="anything"))


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_openai_sdk(server: IrisOpenAIServer, flavour: str, name: str) -> None:
    if flavour == "sync":
        client: Any = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
    else:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="unused", max_retries=0)

    async def run() -> None:
        try:
            await CASES[name](client, server)
        finally:
            await call(client.close())

    asyncio.run(run())
