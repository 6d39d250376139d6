"""A user's own LLM agent: scripted against iris_openai_server, recorded, replayed offline.

The agent (tool call, then structured output, then a streamed summary) is the
user's code with its own ``OpenAI`` client; ``@pytest.mark.iris_cassette``
records its traffic once and replays it with every socket connect denied.
"""

from __future__ import annotations

import pytest

AGENT = """
import json
from openai import OpenAI
from pydantic import BaseModel


class Plan(BaseModel):
    action: str
    parameter: str
    value: int


TOOLS = [{
    "type": "function",
    "function": {
        "name": "read_log",
        "description": "Last lines of messages.log",
        "parameters": {
            "type": "object",
            "properties": {"lines": {"type": "integer"}},
            "required": ["lines"],
        },
    },
}]


def run_agent(base_url, log, question="The instance failed to start. Decide."):
    client = OpenAI(base_url=base_url, api_key="test-key-not-secret", max_retries=0)
    messages = [
        {"role": "system", "content": "You remediate InterSystems IRIS."},
        {"role": "user", "content": question},
    ]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    lines = json.loads(call.function.arguments)["lines"]
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "\\n".join(log[-lines:])})
    plan = client.chat.completions.parse(
        model="gpt-4o-mini", messages=messages, response_format=Plan
    ).choices[0].message.parsed
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Summarise the plan {plan.action}"}],
        stream=True,
    )
    summary = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    client.close()
    return plan, summary
"""

CONFTEST = '''
import os
import socket

import pytest


@pytest.fixture(autouse=True)
def deny_connects(monkeypatch):
    """DENY_CONNECT=1: any socket connect of the test fails (replay must not need one)."""
    if os.environ.get("DENY_CONNECT"):
        def refuse(self, address):
            raise ConnectionRefusedError(f"test denies every connect (to {address!r})")
        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse)
'''

TEST = """
import os
import pytest
from agent import run_agent

LOG = [
    "11/26/26-10:00:00:000 (1234) 0 [Generic.Event] Allocated 4401MB shared memory",
    "11/26/26-10:00:00:010 (1234) 2 [Generic.Event] Failed to allocate 4401MB shared memory",
]


@pytest.mark.iris_cassette
def test_agent_plans_a_fix(iris_openai_server):
    server = iris_openai_server
    server.reply("failed to start", tool_calls=[{"name": "read_log", "arguments": {"lines": 2}}],
                 times=1)
    server.reply(lambda body: body["messages"][-1]["role"] == "tool",
                 json={"action": "raise_shmmax", "parameter": "kernel.shmmax", "value": 8})
    server.reply("Summarise", stream=["Raise ", "kernel.shmmax ", "then restart."])
    plan, summary = run_agent(server.base_url, LOG, os.environ.get("QUESTION",
                              "The instance failed to start. Decide."))
    assert (plan.action, plan.value) == ("raise_shmmax", 8)
    assert summary == "Raise kernel.shmmax then restart."
    if os.environ.get("DENY_CONNECT"):
        assert server.received == []  # everything came from the cassette
"""

PLAIN_VCR = """
import vcr
from agent import run_agent
from test_agent import LOG


def test_plain_vcrpy_replays_the_cassette():
    with vcr.use_cassette(
        "cassettes/test_agent/test_agent_plans_a_fix.yaml",
        record_mode="none",
        match_on=("method", "path", "body"),
    ):
        plan, summary = run_agent("http://127.0.0.1:9/v1", LOG)
    assert plan.value == 8 and summary == "Raise kernel.shmmax then restart."
"""


def test_agent_records_then_replays_with_connects_denied(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(agent=AGENT, conftest=CONFTEST, test_agent=TEST)
    missing = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    missing.assert_outcomes(failed=1)  # the miss fails the call, once: no teardown error
    missing.stdout.fnmatch_lines(
        [
            "*cassette *test_agent_plans_a_fix.yaml does not exist and record mode 'none' only "
            "replays; record it with `pytest test_agent.py::test_agent_plans_a_fix "
            "--iris-record-mode=once`*"
        ]
    )

    recorded = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--iris-record-mode=once")
    recorded.assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_agent" / "test_agent_plans_a_fix.yaml"
    text = cassette.read_text()
    assert text.count("uri: http://127.0.0.1:") == 3
    assert "test-key-not-secret" not in text  # scrubbed at record time

    monkeypatch.setenv("DENY_CONNECT", "1")
    pytester.makepyfile(test_plain_vcr=PLAIN_VCR)
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=2)  # the plugin's replay, and plain vcrpy's

    monkeypatch.setenv("QUESTION", "The instance failed to start twice. Decide.")
    missed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_agent.py")
    missed.assert_outcomes(failed=1)
    missed.stdout.fnmatch_lines(
        [
            "*no recording in cassette *test_agent_plans_a_fix.yaml for POST /v1/chat/completions:"
            " the nearest recording differs in body.messages[[]1[]].content*"
            "--iris-record-mode=new_episodes*",
        ]
    )
