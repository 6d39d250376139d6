"""A cassette that cannot be read (a merge conflict, a hand edit) is one line naming file and line.

User trial: vcrpy's own error named neither the cassette nor its line
(``There was a problem loading the cassette: ... in "<unicode string>", line 9``)
and came under some 40 lines of vcrpy frames; ``pytest-iris cassettes list``
printed the YAML error over four lines.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pytest_iris.errors import CassetteError
from pytest_iris.llm.storage import read_cassette

CONFLICTED = """\
interactions:
- request:
    body: '{"messages": []}'
    method: POST
    uri: http://127.0.0.1:1/v1/chat/completions
<<<<<<< HEAD
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: a}}
=======
  response: {status: {code: 200, message: OK}, headers: {}, body: {string: b}}
>>>>>>> theirs
version: 1
"""


def test_read_cassette_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFLICTED)
    with pytest.raises(CassetteError) as caught:
        read_cassette(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cassette {path}:6: cannot be read: ")
    assert "--iris-record-mode=once" in message


def test_undecodable_cassette_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"interactions: []\n\xff\xfe\n")
    with pytest.raises(CassetteError, match=r"c\.yaml: cannot be read: not UTF-8 text"):
        read_cassette(path)


def test_cassettes_list_prints_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFLICTED)
    done = subprocess.run(
        [sys.executable, "-m", "pytest_iris", "cassettes", "list", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"pytest-iris cassettes list: cassette {path}:6: cannot be read")


@pytest.mark.parametrize("replay", [True, False], ids=["mode-none", "mode-new_episodes"])
def test_a_test_whose_cassette_is_unreadable_fails_in_one_line(
    pytester: pytest.Pytester, replay: bool
) -> None:
    pytester.makepyfile(
        test_agent="""
        import pytest

        @pytest.mark.iris_cassette("c")
        def test_agent():
            pass
        """
    )
    cassette = pytester.path / "cassettes" / "test_agent" / "c.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text(CONFLICTED)
    args = [] if replay else ["--iris-record-mode=new_episodes"]
    result = pytester.runpytest_subprocess(*args, timeout=120)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"cassette {cassette}:6: cannot be read: *; fix it, or delete it and record again*"]
    )
    assert "vcr/serialize.py" not in result.stdout.str()
    assert "<unicode string>" not in result.stdout.str()
