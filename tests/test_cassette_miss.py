"""A request with no recording fails the test once, with pytest-iris's message.

vcrpy's own error told users to record with ``record_mode='once' (the default)``
(pytest-iris's default is ``none``; the option is ``--iris-record-mode``), and
the fixture's teardown then reported the same miss again as an ERROR.
"""

import pytest

PROJECT = """
import urllib.request

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException


def ask(url):
    return urllib.request.urlopen(url + "/models", timeout=10).read()


@pytest.mark.iris_cassette("unguarded")
def test_unguarded(iris_openai_server):
    ask(iris_openai_server.base_url)


@pytest.mark.iris_cassette("swallowed")
def test_swallowed(iris_openai_server):
    try:  # code under test that hides the miss: the teardown still reports it
        ask(iris_openai_server.base_url)
    except Exception:
        pass


@pytest.mark.iris_cassette("caught_as_vcrpy")
def test_caught_as_vcrpy(iris_openai_server):
    # code written for vcrpy still catches the miss (and the teardown still reports it)
    with pytest.raises(CannotOverwriteExistingCassetteException, match="--iris-record-mode=once"):
        ask(iris_openai_server.base_url)
"""


def test_a_miss_fails_once_with_the_plugins_advice(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=PROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rfE", timeout=120)
    result.assert_outcomes(failed=1, passed=2, errors=2)
    out = result.stdout.str()
    assert "record_mode='once' (the default)" not in out  # vcrpy's advice, not ours
    result.stdout.fnmatch_lines(
        [
            "E *CassetteMiss: cassette *unguarded.yaml does not exist and record mode 'none' "
            "only replays; record it with `pytest test_agent.py::test_unguarded "
            "--iris-record-mode=once`*",
        ]
    )
    summary = out.split("short test summary info")[1]
    assert "FAILED test_agent.py::test_unguarded" in summary
    assert "ERROR test_agent.py::test_unguarded" not in summary  # not reported twice
    assert "ERROR test_agent.py::test_swallowed" in summary
    assert "ERROR test_agent.py::test_caught_as_vcrpy" in summary
