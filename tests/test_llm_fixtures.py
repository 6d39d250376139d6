"""The iris_llm fixtures on the shipped cassettes, and in a user's suite (pytester).

The cassettes of this module were recorded from ``iris_openai_server``
(``pytest tests/test_llm_fixtures.py --iris-record-mode=all``); by default
they replay with every socket connect refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_iris.llm.cassette import CassetteSession
from pytest_iris.llm.generator import LLMGenerator
from pytest_iris.llm.guard import deny_network
from pytest_iris.llm.providers import Provider
from pytest_iris.llm.server import GARBLED, IrisOpenAIServer
from pytest_iris.log.reader import LogEntry, read_log


@pytest.fixture
def iris_llm_providers(iris_openai_server: IrisOpenAIServer) -> tuple[Provider, ...]:
    return (iris_openai_server.provider("iris-local"),)


@pytest.fixture(autouse=True)
def offline_when_replaying(
    iris_cassette: CassetteSession, iris_openai_server: IrisOpenAIServer
) -> Iterator[None]:
    if not iris_cassette.replaying:
        yield
        return
    with deny_network() as attempts:
        yield
    assert attempts == []
    assert iris_openai_server.received == []


def test_generate_replays_valid_lines(iris_llm: LLMGenerator) -> None:
    result = iris_llm.generate_sync("shm_failure", 5)
    assert result.provider == "iris-local"
    assert len(result.messages) == 5
    assert any("shared memory" in m.text for m in result.messages)


def test_classify_replays(iris_llm: LLMGenerator) -> None:
    died = "05/04/20-12:14:45:624 (182049) 3 Daemon WRTDMN (pid 182058) died. Freezing system"
    info = "06/26/23-08:02:18:136 (144182) 0 [WriteDaemon.Started] Write daemon started."
    assert iris_llm.classify_sync(died).label == "restart"
    assert iris_llm.classify_sync(info).label == "none"


def test_recorded_retry_replays_the_same_attempts(
    iris_llm: LLMGenerator, iris_openai_server: IrisOpenAIServer
) -> None:
    iris_openai_server.garble_next()  # only matters while recording
    result = iris_llm.generate_sync("write_daemon_death", 4)
    assert result.attempts == 2
    assert result.answers[0] == GARBLED
    assert len(result.messages) == 4


@pytest.mark.iris_llm(incidents=("startup", "shm_failure", "write_daemon_death"), count=4)
def test_llm_log_is_a_valid_messages_log(iris_llm_log: Path) -> None:
    assert iris_llm_log.name == "messages.log" and iris_llm_log.parent.name == "mgr"
    items = list(read_log(iris_llm_log))
    assert all(isinstance(i, LogEntry) for i in items)
    stamps = [i.message.timestamp for i in items if isinstance(i, LogEntry)]
    assert len(stamps) == 12
    assert stamps == sorted(stamps)


def test_recorded_fallback_replays_the_same_provider(
    iris_cassette: CassetteSession, iris_openai_server: IrisOpenAIServer
) -> None:
    """A 429 is recorded too, so the replay falls back exactly as the recording did."""
    iris_openai_server.fail_next(429, retry_after=3)  # only matters while recording
    with IrisOpenAIServer() as backup:
        chain = [iris_openai_server.provider("primary"), backup.provider("backup")]
        with LLMGenerator(chain, transport=iris_cassette.transport) as llm:
            result = llm.generate_sync("journal_space", 2)
        assert backup.received == [] if iris_cassette.replaying else len(backup.received) == 1
    assert result.provider == "backup"
    assert result.fallbacks == ("primary: HTTP 429, Retry-After 3",)
