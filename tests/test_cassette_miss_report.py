"""A test that fails on a cassette miss shows the miss, not the HTTP client's internals.

User trial: the docs promise one message (``CassetteMiss``), but pytest printed about
70 lines of openai, httpx and vcrpy frames before it. The report now keeps the test's
own frames; ``--tb=long`` still prints everything.
"""

from __future__ import annotations

import pytest

PROJECT = """
import openai
import pytest


def ask(url):
    client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )


def ask_wrapped(url):
    try:  # as an SDK does with a transport error
        return ask(url)
    except Exception as error:
        raise ConnectionError("Connection error.") from error


@pytest.mark.iris_cassette
def test_agent(iris_openai_server):
    reply = ask(iris_openai_server.base_url)
    assert reply.choices


@pytest.mark.iris_cassette
def test_wrapped(iris_openai_server):
    assert ask_wrapped(iris_openai_server.base_url)


def test_plain_failure():
    assert [1, 2] == [1, 3]


@pytest.mark.iris_cassette
def test_own_verdict_on_a_miss(iris_openai_server):
    try:
        ask(iris_openai_server.base_url)
    except Exception:
        assert "the agent" == "answered", "no answer"
"""

INTERNALS = ("httpx", "openai/_base_client", "vcr/", "_pytest/", "pluggy")


def failures(out: str) -> str:
    return out.split("= FAILURES =")[1].split("short test summary info")[0]


def test_the_miss_is_one_message_at_the_tests_own_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=PROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    shown = failures(out).split("_ test_own_verdict_on_a_miss _")[0]
    for internal in INTERNALS:
        assert internal not in shown, internal
    agent = shown.split("_ test_agent _")[1].split("_ test_wrapped _")[0]
    assert agent.count("\nE ") == 1, agent
    result.stdout.fnmatch_lines(
        [
            "*_ test_agent _*",
            ">       reply = ask(iris_openai_server.base_url)",
            "test_agent.py:21: *",
            ">       return client.chat.completions.create(",
            "E       pytest_iris.llm.cassette.CassetteMiss: cassette *test_agent.yaml does not "
            "exist and record mode 'none' only replays; record it with "
            "`pytest test_agent.py::test_agent --iris-record-mode=once`* "
            "(request: POST /v1/chat/completions)",
            "test_agent.py:7: CassetteMiss",
            "*_ test_wrapped _*",
            "E *pytest_iris.llm.cassette.CassetteMiss: cassette *test_wrapped.yaml *",
            "*- pytest-iris -*",
            "the miss was re-raised as builtins.ConnectionError; "
            "--tb=long shows that and the HTTP client's frames",
            "*_ test_plain_failure _*",
            "E       assert [1, 2] == [1, 3]",
            "*_ test_own_verdict_on_a_miss _*",
            "E * AssertionError: no answer",
            "*short test summary info*",
            "FAILED test_agent.py::test_agent - pytest_iris.llm.cassette.CassetteMiss: *",
        ]
    )
    assert len(agent.splitlines()) < 25, agent


@pytest.mark.parametrize("option", ["--tb=long", "--full-trace"])
def test_long_tracebacks_still_show_everything(pytester: pytest.Pytester, option: str) -> None:
    pytester.makepyfile(test_agent=PROJECT)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", option, "test_agent.py::test_wrapped"
    )
    result.assert_outcomes(failed=1)
    shown = failures(result.stdout.str())
    assert "openai/_base_client.py" in shown
    assert "vcr/" in shown
    assert "ConnectionError: Connection error." in shown
    assert "- pytest-iris -" not in shown
