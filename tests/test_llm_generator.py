"""The LLM generator through the real openai SDK against the local iris_openai_server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import pytest

from pytest_iris.errors import ConfigError, LLMError
from pytest_iris.llm.generator import LLMGenerator
from pytest_iris.llm.prompts import CLASSIFY_SYSTEM, INCIDENTS
from pytest_iris.llm.providers import Provider
from pytest_iris.llm.server import GARBLED, IrisOpenAIServer
from pytest_iris.log.grammar import format_message
from pytest_iris.log.reader import LogEntry, parse_text
from pytest_iris.testing import capture_events
from pytest_iris.tracing import trace


@pytest.fixture
def second_server() -> Iterator[IrisOpenAIServer]:
    with IrisOpenAIServer() as server:
        yield server


def _dead_provider() -> Provider:
    """A provider whose port was just released: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return Provider(
        name="dead", base_url=f"http://127.0.0.1:{port}/v1", model="m", api_key_env=None
    )


def _bodies(server: IrisOpenAIServer) -> list[dict[str, object]]:
    return [r.body for r in server.received if isinstance(r.body, dict)]


def test_generated_lines_parse_and_name_the_provider(iris_openai_server: IrisOpenAIServer) -> None:
    with LLMGenerator([iris_openai_server.provider("local")]) as llm:
        result = llm.generate_sync("shm_failure", 4)
    assert result.provider == "local"
    assert result.attempts == 1
    assert len(result.messages) == 4
    items = list(parse_text(result.text))
    assert all(isinstance(i, LogEntry) for i in items)
    assert [i.message for i in items if isinstance(i, LogEntry)] == list(result.messages)
    body = _bodies(iris_openai_server)[0]
    assert body["temperature"] == 0.7
    prompt = json.dumps(body["messages"])
    assert "Incident: shm_failure" in prompt
    assert "Allocated 495MB shared memory" in prompt  # a real sample line as few-shot example


def test_model_and_temperature_are_configurable(iris_openai_server: IrisOpenAIServer) -> None:
    provider = iris_openai_server.provider("local", model="other-model")
    with LLMGenerator([provider], temperature=0.2) as llm:
        llm.generate_sync("startup", 2)
    body = _bodies(iris_openai_server)[0]
    assert (body["model"], body["temperature"]) == ("other-model", 0.2)


def test_invalid_output_is_retried_with_what_was_wrong(
    iris_openai_server: IrisOpenAIServer,
) -> None:
    iris_openai_server.garble_next(times=2)
    with LLMGenerator([iris_openai_server.provider()]) as llm:
        result = llm.generate_sync("write_daemon_death", 3)
    assert result.attempts == 3
    assert result.answers[:2] == (GARBLED, GARBLED)
    assert result.messages and not result.rejected
    bodies = _bodies(iris_openai_server)
    assert len(bodies) == 3
    retry = bodies[1]["messages"]
    assert isinstance(retry, list)
    assert retry[-2] == {"role": "assistant", "content": GARBLED}
    assert "not valid messages.log entries" in retry[-1]["content"]
    assert "malformed header" in retry[-1]["content"] or "unstamped line" in retry[-1]["content"]


def test_gives_up_after_three_attempts_quoting_the_answers(
    iris_openai_server: IrisOpenAIServer,
) -> None:
    iris_openai_server.garble_next(times=3)
    with LLMGenerator([iris_openai_server.provider()]) as llm, pytest.raises(LLMError) as caught:
        llm.generate_sync("startup", 3)
    text = str(caught.value)
    assert "after 3 attempts" in text
    assert text.count("2026-11-26 10:00:00 ERROR shared memory allocation failed") == 3
    assert len(iris_openai_server.received) == 3


def test_classify_is_a_short_call_with_one_of_four_labels(
    iris_openai_server: IrisOpenAIServer,
) -> None:
    with LLMGenerator([iris_openai_server.provider()]) as llm:
        died = llm.classify_sync(
            "05/04/20-12:14:45:624 (182049) 3 Daemon WRTDMN (pid 182058) died. Freezing system"
        )
        generated = llm.generate_sync("startup", 1).messages[0]
        info = llm.classify_sync(generated)
    assert died.label == "restart"
    assert info.label == "none"
    classify_body, generate_body = _bodies(iris_openai_server)[:2]
    assert classify_body["max_tokens"] == 4
    assert classify_body["temperature"] == 0
    assert classify_body["messages"][0]["content"] == CLASSIFY_SYSTEM  # type: ignore[index]
    assert len(json.dumps(classify_body)) * 3 < len(json.dumps(generate_body))
    last = _bodies(iris_openai_server)[2]["messages"]
    assert last[-1]["content"] == "Entry:\n" + format_message(generated)  # type: ignore[index]


def test_classify_retries_then_gives_up_quoting_the_answers(
    iris_openai_server: IrisOpenAIServer,
) -> None:
    entry = "05/04/20-12:14:45:624 (182049) 3 Daemon WRTDMN (pid 182058) died. Freezing system"
    iris_openai_server.garble_next()
    with LLMGenerator([iris_openai_server.provider()]) as llm:
        assert llm.classify_sync(entry).attempts == 2
        iris_openai_server.garble_next(times=3)
        with pytest.raises(LLMError, match="not one of config, os, restart, none after 3"):
            llm.classify_sync(entry + " again")
    retry = _bodies(iris_openai_server)[1]["messages"]
    assert retry[-1]["content"].startswith("Answer with exactly one word")  # type: ignore[index]


def test_falls_back_on_429_and_says_who_answered(
    iris_openai_server: IrisOpenAIServer, second_server: IrisOpenAIServer
) -> None:
    iris_openai_server.fail_next(429, retry_after=7)
    chain = [iris_openai_server.provider("primary"), second_server.provider("backup")]
    with capture_events() as events, trace() as trace_id, LLMGenerator(chain) as llm:
        result = llm.generate_sync("license_limit", 2)
    assert result.provider == "backup"
    assert result.fallbacks == ("primary: HTTP 429, Retry-After 7",)
    assert len(iris_openai_server.received) == 1  # no SDK retry against the rate-limited one
    assert len(second_server.received) == 1
    (event,) = [e for e in events if e["event"] == "llm.fallback"]
    assert event["provider"] == "primary" and event["trace_id"] == trace_id


def test_events_carry_the_callers_trace_id_on_every_call(
    iris_openai_server: IrisOpenAIServer, second_server: IrisOpenAIServer
) -> None:
    chain = [iris_openai_server.provider("primary"), second_server.provider("backup")]
    ids = []
    with capture_events() as events, LLMGenerator(chain) as llm:
        for count in (2, 3):
            iris_openai_server.fail_next(503)
            with trace() as trace_id:
                ids.append(trace_id)
                llm.generate_sync("mirror", count)
    assert [e["trace_id"] for e in events if e["event"] == "llm.fallback"] == ids


@pytest.mark.parametrize("status", [500, 503])
def test_falls_back_on_5xx(
    iris_openai_server: IrisOpenAIServer, second_server: IrisOpenAIServer, status: int
) -> None:
    iris_openai_server.fail_next(status)
    chain = [iris_openai_server.provider("primary"), second_server.provider("backup")]
    with LLMGenerator(chain) as llm:
        result = llm.generate_sync("startup", 2)
    assert (result.provider, result.fallbacks) == ("backup", (f"primary: HTTP {status}",))


def test_falls_back_on_a_dead_provider(iris_openai_server: IrisOpenAIServer) -> None:
    chain = [_dead_provider(), iris_openai_server.provider("alive")]
    with LLMGenerator(chain) as llm:
        result = llm.generate_sync("startup", 2)
    assert result.provider == "alive"
    assert result.fallbacks[0].startswith("dead: connection error")


def test_falls_back_on_a_dropped_connection(
    iris_openai_server: IrisOpenAIServer, second_server: IrisOpenAIServer
) -> None:
    iris_openai_server.drop_next()
    chain = [iris_openai_server.provider("flaky"), second_server.provider("steady")]
    with LLMGenerator(chain) as llm:
        result = llm.generate_sync("startup", 2)
    assert result.provider == "steady"
    assert result.fallbacks[0].startswith("flaky: connection error")


def test_falls_back_on_a_timeout(
    iris_openai_server: IrisOpenAIServer, second_server: IrisOpenAIServer
) -> None:
    # The fast provider answers once first: a fresh process's first call pays the SDK's
    # lazy first-use costs inside its timeout (it took over 0.3 s on a loaded machine, and
    # both providers timed out). Then 1 s against a reply held 60 s: not a race.
    with LLMGenerator([second_server.provider("fast")]) as warm:
        warm.generate_sync("startup", 2)
    iris_openai_server.slow_next(60.0)  # cancelled when the server stops
    chain = [iris_openai_server.provider("slow"), second_server.provider("fast")]
    with LLMGenerator(chain, timeout_s=1.0) as llm:
        result = llm.generate_sync("startup", 2)
    assert result.provider == "fast"
    assert result.fallbacks[0].startswith("slow: timeout error")


def test_client_errors_do_not_fall_back(
    iris_openai_server: IrisOpenAIServer, second_server: IrisOpenAIServer
) -> None:
    iris_openai_server.fail_next(401)
    chain = [iris_openai_server.provider("primary"), second_server.provider("backup")]
    with LLMGenerator(chain) as llm, pytest.raises(LLMError, match="HTTP 401"):
        llm.generate_sync("startup", 2)
    assert second_server.received == []


def test_every_provider_failing_is_one_error_listing_them(
    iris_openai_server: IrisOpenAIServer,
) -> None:
    iris_openai_server.fail_next(500)
    chain = [iris_openai_server.provider("only"), _dead_provider()]
    with LLMGenerator(chain) as llm, pytest.raises(LLMError) as caught:
        llm.generate_sync("startup", 2)
    assert "only: HTTP 500" in str(caught.value)
    assert "dead: connection error" in str(caught.value)


def test_fifty_concurrent_requests_never_exceed_the_bound(
    iris_openai_server: IrisOpenAIServer,
) -> None:
    iris_openai_server.latency_s = 0.05
    with LLMGenerator([iris_openai_server.provider()], max_concurrency=4) as llm:
        names = (sorted(INCIDENTS) * 8)[:50]
        calls = [
            llm.generate(name, 2, start=f"11/26/26-10:{i:02d}:00:000")
            for i, name in enumerate(names)
        ]
        results = llm.run(llm.gather(calls))
    assert len(results) == 50
    assert len(iris_openai_server.received) == 50
    # Seen by the server itself, not only by the generator's bookkeeping:
    assert iris_openai_server.peak_concurrent == 4
    assert llm.stats.peak_in_flight == 4


def test_the_server_takes_a_burst_of_fifty_connections(
    iris_openai_server: IrisOpenAIServer,
) -> None:
    with LLMGenerator([iris_openai_server.provider()], max_concurrency=50) as llm:
        calls = [llm.generate("startup", 1, start=f"11/26/26-11:{i:02d}:00:000") for i in range(50)]
        results = llm.run(llm.gather(calls))
    assert all(not r.fallbacks for r in results)
    assert len(iris_openai_server.received) == 50


def test_identical_prompts_are_served_from_the_cache(iris_openai_server: IrisOpenAIServer) -> None:
    with LLMGenerator([iris_openai_server.provider()]) as llm:
        first = llm.generate_sync("journal_space", 3)
        again = llm.generate_sync("journal_space", 3)
        together = llm.run(llm.gather([llm.generate("startup", 2) for _ in range(10)]))
        other = llm.generate_sync("journal_space", 4)
    assert not first.cached and again.cached
    assert again.messages == first.messages
    assert sum(not g.cached for g in together) == 1
    assert not other.cached
    assert len(iris_openai_server.received) == 3  # journal x3, startup x2 once, journal x4
    assert llm.stats.cache_hits == 10


def test_unknown_incident_names_the_known_ones() -> None:
    llm = LLMGenerator([Provider(name="p", api_key_env=None)])
    with llm, pytest.raises(ValueError, match=r"known incidents: .*shm_failure"):
        llm.generate_sync("meltdown")


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IRIS_TEST_NO_SUCH_KEY", raising=False)
    provider = Provider(name="real", api_key_env="IRIS_TEST_NO_SUCH_KEY")
    with LLMGenerator([provider]) as llm, pytest.raises(ConfigError, match="IRIS_TEST_NO_SUCH_KEY"):
        llm.generate_sync("startup")


def test_async_use_on_the_callers_loop(iris_openai_server: IrisOpenAIServer) -> None:
    async def main() -> list[str]:
        async with LLMGenerator([iris_openai_server.provider()]) as llm:
            results = await llm.gather([llm.generate("mirror", 2), llm.classify("x")])
        return [type(r).__name__ for r in results]

    assert asyncio.run(main()) == ["Generation", "Classification"]


@pytest.mark.parametrize(
    ("entry", "label"),
    [
        (
            "05/04/20-12:14:45:624 (182049) 3 Daemon WRTDMN (pid 182058) died. Freezing system",
            "restart",
        ),
        (
            "11/06/21-10:59:37:513 (91515) 1 [Generic.Event] Failed to allocate 1468MB shared "
            "memory using Huge Pages. Startup will retry with standard pages.",
            "os",
        ),
        (
            "11/06/21-10:59:37:513 (91515) 1 [Generic.Event] Allocated 1211MB shared memory: "
            "1050MB global buffers, 56MB routine buffers",
            "os",
        ),
        (
            "03/24/23-17:14:34:429 (1201) 2 [Generic.Event] License limit exceeded 1 times since instance start.",
            "config",
        ),
        ("06/26/23-08:02:17:828 (144145) 0 [Generic.Event] Allocated 495MB shared memory", "none"),
    ],
)
def test_the_servers_classification_rules(entry: str, label: str) -> None:
    from pytest_iris.llm.server import classify_rule

    assert classify_rule(entry) == label
