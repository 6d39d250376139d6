"""The LLM fixtures and options in a user's suite, run with pytester."""

from __future__ import annotations

import pytest
import yaml

from pytest_iris.llm.guard import deny_network

USER_TEST = """
def test_gen(iris_llm):
    result = iris_llm.generate_sync("license_limit", 2)
    assert result.messages
"""
LOCAL_PROVIDER = """
import pytest

@pytest.fixture
def iris_llm_providers(iris_openai_server):
    return (iris_openai_server.provider("local"),)
"""
#: Inner runs skip plugins this file does not need (faker's costs ~0.4 s per run).
QUICK = ("-p", "no:cacheprovider", "-p", "no:faker")
NO_PROVIDER = """
import pytest
from pytest_iris.llm.providers import Provider

@pytest.fixture
def iris_llm_providers():
    return (Provider(name="never", base_url="http://192.0.2.1:9/v1", model="m"),)
"""


def test_user_suite_without_recording_fails_naming_cassette_and_option(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(NO_PROVIDER)
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest("--iris-cassette-dir=recs", *QUICK)
    result.assert_outcomes(failed=1)
    expected = pytester.path / "recs" / "test_user" / "test_gen.yaml"
    result.stdout.fnmatch_lines([f"*CassetteError: cassette {expected} does not exist*"])
    result.stdout.fnmatch_lines(["*pytest test_user.py::test_gen --iris-record-mode=once*"])


def test_user_suite_records_via_ini_then_replays_offline(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(LOCAL_PROVIDER)
    pytester.makepyfile(test_user=USER_TEST)
    pytester.makeini("[pytest]\niris_record_mode = once\niris_cassette_dir = recs\n")
    pytester.runpytest(*QUICK).assert_outcomes(passed=1)
    cassette = pytester.path / "recs" / "test_user" / "test_gen.yaml"
    metadata = yaml.safe_load(cassette.read_text())["metadata"]
    assert "iris_openai_server" in metadata["recorded_against"][0]
    recorded = cassette.read_bytes()
    # The option beats the ini key; replay opens no socket and leaves the cassette alone.
    with deny_network() as attempts:
        replayed = pytester.runpytest("--iris-record-mode=none", *QUICK)
    replayed.assert_outcomes(passed=1)
    assert attempts == []
    assert cassette.read_bytes() == recorded


def test_settings_file_and_environment_reach_the_fixtures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makefile(
        ".yaml",
        iris="llm:\n  temperature: 0.3\n  max_concurrency: 2\n  record_mode: new_episodes\n",
    )
    monkeypatch.setenv(
        "PYTEST_IRIS_LLM__PROVIDERS", '[{"name": "vllm", "base_url": "http://vllm:8000/v1"}]'
    )
    pytester.makepyfile(
        test_llm_user_settings="""
def test_settings(iris_llm, iris_record_mode, iris_cassette_dir, pytestconfig):
    assert (iris_llm.temperature, iris_llm.max_concurrency) == (0.3, 2)
    assert [p.name for p in iris_llm.providers] == ["vllm"]
    assert iris_record_mode == "new_episodes"
    assert iris_cassette_dir == pytestconfig.rootpath / "cassettes"
"""
    )
    pytester.runpytest("--iris-config=iris.yaml", *QUICK).assert_outcomes(passed=1)
