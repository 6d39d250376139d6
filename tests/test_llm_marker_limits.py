"""``iris_llm`` counts have a documented maximum, and ``iris_llm_log``'s cassette miss is one line.

User trial: ``@pytest.mark.iris_llm(count=10**9)`` was accepted (recording it asks a
model for a billion lines), and a test using ``iris_llm_log`` without its cassette
errored with ~60 lines of openai/asyncio frames at setup before the one message.
"""

from __future__ import annotations

import pytest

from pytest_iris.llm import IrisOpenAIServer, LLMGenerator
from pytest_iris.llm.generator import MAX_ENTRIES


def test_the_generator_refuses_an_absurd_count() -> None:
    with IrisOpenAIServer() as server, LLMGenerator([server.provider("local")]) as llm:
        with pytest.raises(ValueError, match=rf"count=1000000000: allowed 1\.\.{MAX_ENTRIES}"):
            llm.generate_sync("startup", 10**9)
        assert server.received == []


def test_marker_count_and_missing_cassette_are_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_llm_log="""
        import pytest


        @pytest.mark.iris_llm(incidents=("startup",), count=10**9)
        def test_absurd(iris_llm_log):
            pass


        @pytest.mark.iris_llm(incidents=("startup",), count=2)
        def test_not_recorded(iris_llm_log):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            f"test_llm_log.py::test_absurd: iris_llm count=1000000000: allowed 1..{MAX_ENTRIES} "
            "entries per incident",
            "cassette */cassettes/test_llm_log/test_not_recorded.yaml does not exist and record "
            "mode 'none' only replays; record it with *",
        ]
    )
    out = result.stdout.str()
    assert "openai/_base_client.py" not in out and "asyncio" not in out
