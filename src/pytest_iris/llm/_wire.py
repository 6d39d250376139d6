"""The OpenAI API's JSON objects and server-sent events, as the hosted API sends them.

Shapes follow the public API reference for Chat Completions (``chat.completion``
and ``chat.completion.chunk`` with ``data: [DONE]``), the Responses API
(``response`` objects and the ``response.*`` stream events in their order)
and embeddings; the installed openai SDK's stream accumulators are the test
of them (tests/test_llm_openai_sdk.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: width of an embedding when the request names no ``dimensions`` (invented; the
#: hosted text-embedding-3-small has 1536, which only makes tests slower)
EMBEDDING_DIMENSIONS = 256


@dataclass(frozen=True)
class Call:
    """A tool call with its id."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Answer:
    """One choice, resolved: text in stream pieces, or tool calls."""

    content: str | None
    calls: tuple[Call, ...]
    pieces: tuple[str, ...]

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.calls else "stop"


def pieces_of(text: str) -> tuple[str, ...]:
    """Split text into token-like stream pieces (a word with its following space)."""
    return tuple(re.findall(r"\S+\s*|\s+", text)) or ("",)


def tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


def sse(payload: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(payload, separators=(",", ":")) + "\n\n").encode()


DONE = b"data: [DONE]\n\n"

# -- Chat Completions ------------------------------------------------------------------------


def chat_message(answer: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.content,
        "refusal": None,
        "annotations": [],
    }
    if answer.calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in answer.calls
        ]
    return message


def chat_usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def chat_completion(
    ident: str, model: str, created: int, answers: list[Answer], prompt_tokens: int, server: str
) -> dict[str, Any]:
    completion_tokens = sum(tokens(a.content or "") + len(a.calls) * 8 for a in answers)
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": server,
        "service_tier": "default",
        "choices": [
            {
                "index": i,
                "message": chat_message(a),
                "finish_reason": a.finish_reason,
                "logprobs": None,
            }
            for i, a in enumerate(answers)
        ],
        "usage": chat_usage(prompt_tokens, completion_tokens),
    }


def chat_chunks(
    ident: str,
    model: str,
    created: int,
    answers: list[Answer],
    prompt_tokens: int,
    server: str,
    include_usage: bool,
) -> Iterator[bytes]:
    """The SSE body of a streamed chat completion, ``data: [DONE]`` last."""

    def chunk(choices: list[dict[str, Any]]) -> bytes:
        payload: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": server,
            "service_tier": "default",
            "choices": choices,
        }
        if include_usage:
            payload["usage"] = None
        return sse(payload)

    def choice(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}

    for i, answer in enumerate(answers):
        if answer.calls:
            for j, call in enumerate(answer.calls):
                first: dict[str, Any] = {
                    "tool_calls": [
                        {
                            "index": j,
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
                if j == 0:
                    first = {"role": "assistant", "content": None, **first}
                yield chunk([choice(i, first)])
                for piece in pieces_of(call.arguments):
                    yield chunk(
                        [
                            choice(
                                i, {"tool_calls": [{"index": j, "function": {"arguments": piece}}]}
                            )
                        ]
                    )
        else:
            yield chunk([choice(i, {"role": "assistant", "content": "", "refusal": None})])
            for piece in answer.pieces:
                if piece:
                    yield chunk([choice(i, {"content": piece})])
        yield chunk([choice(i, {}, answer.finish_reason)])
    if include_usage:
        completion_tokens = sum(tokens(a.content or "") + len(a.calls) * 8 for a in answers)
        final = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": server,
            "service_tier": "default",
            "choices": [],
            "usage": chat_usage(prompt_tokens, completion_tokens),
        }
        yield sse(final)
    yield DONE


# -- Responses API ---------------------------------------------------------------------------


def response_items(ident: str, answer: Answer) -> list[dict[str, Any]]:
    if answer.calls:
        return [
            {
                "type": "function_call",
                "id": f"fc_{ident}_{j}",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
            for j, call in enumerate(answer.calls)
        ]
    return [
        {
            "type": "message",
            "id": f"msg_{ident}",
            "status": "completed",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": answer.content or "",
                    "annotations": [],
                    "logprobs": [],
                }
            ],
        }
    ]


def response_object(
    ident: str,
    model: str,
    created: int,
    body: dict[str, Any],
    output: list[dict[str, Any]],
    prompt_tokens: int,
    status: str = "completed",
) -> dict[str, Any]:
    output_tokens = sum(
        tokens(part.get("text", "")) for item in output for part in item.get("content", [])
    ) + sum(8 for item in output if item["type"] == "function_call")
    return {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "metadata": body.get("metadata") or {},
        "usage": {
            "input_tokens": prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt_tokens + output_tokens,
        }
        if status == "completed"
        else None,
    }


def response_events(
    ident: str,
    model: str,
    created: int,
    body: dict[str, Any],
    answer: Answer,
    prompt_tokens: int,
) -> Iterator[bytes]:
    """The SSE body of a streamed response: created ... completed, numbered in sequence."""
    sequence = 0

    def event(kind: str, **fields: Any) -> bytes:
        nonlocal sequence
        payload = {"type": kind, "sequence_number": sequence, **fields}
        sequence += 1
        return sse(payload, kind)

    items = response_items(ident, answer)
    started = response_object(ident, model, created, body, [], prompt_tokens, "in_progress")
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    for index, item in enumerate(items):
        if item["type"] == "function_call":
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            for piece in pieces_of(item["arguments"]):
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=piece,
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                arguments=item["arguments"],
            )
        else:
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            yield event(
                "response.content_part.added",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part=empty,
            )
            for piece in answer.pieces:
                if piece:
                    yield event(
                        "response.output_text.delta",
                        item_id=item["id"],
                        output_index=index,
                        content_index=0,
                        delta=piece,
                        logprobs=[],
                    )
            text = item["content"][0]["text"]
            yield event(
                "response.output_text.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                text=text,
                logprobs=[],
            )
            yield event(
                "response.content_part.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part=item["content"][0],
            )
        yield event("response.output_item.done", output_index=index, item=item)
    final = response_object(ident, model, created, body, items, prompt_tokens)
    yield event("response.completed", response=final)


# -- embeddings ------------------------------------------------------------------------------


def embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector that is a sum of one seeded random vector per word.

    Deterministic, and texts sharing words point the same way (cosine
    similarity grows with shared words), which is what a retrieval test needs.
    """
    total = [0.0] * dimensions
    for word in re.findall(r"\w+", text.lower()) or [""]:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "big")
        rng = random.Random(seed)
        for i in range(dimensions):
            total[i] += rng.gauss(0.0, 1.0)
    norm = math.sqrt(sum(v * v for v in total)) or 1.0
    return [v / norm for v in total]


def embeddings(body: dict[str, Any], model: str) -> dict[str, Any]:
    raw = body.get("input")
    if isinstance(raw, str) or (
        isinstance(raw, list) and raw and all(isinstance(t, int) for t in raw)
    ):
        inputs = [raw]
    else:
        inputs = list(raw or [])
    dimensions = int(body.get("dimensions") or EMBEDDING_DIMENSIONS)
    data = []
    used = 0
    for index, item in enumerate(inputs):
        text = item if isinstance(item, str) else " ".join(str(t) for t in item)
        used += tokens(text)
        vector = embedding(text, dimensions)
        value: Any = vector
        if body.get("encoding_format") == "base64":
            value = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": used, "total_tokens": used},
    }
