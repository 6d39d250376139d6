"""``pytest-iris generate`` and ``pytest-iris sequences``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from pytest_iris.cli import main
from pytest_iris.generation import LogStream, sequence_names
from pytest_iris.log.reader import LogProblem, read_log


def test_generate_writes_the_stream_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "m.log"
    status = main(["generate", "--seed", "7", "--count", "400", "--sequence", "startup",
                   "--sequence", "shm_failure:outcome=standard@0.5", "--start",
                   "2023-06-26T08:02:17.828", "--rate", "0.5", "-o", str(out)])  # fmt: skip
    assert status == 0
    expected = LogStream(7, count=400, sequences=["startup", "shm_failure:outcome=standard@0.5"],
                         start=datetime(2023, 6, 26, 8, 2, 17, 828000), rate=0.5)  # fmt: skip
    text = out.read_text()
    assert text.startswith("06/26/23-08:02:17:828 ")
    assert len(text.splitlines()) == 400
    assert not [i for i in read_log(out) if isinstance(i, LogProblem)]
    assert "Failed to allocate" in text
    assert text == expected.text()


def test_generate_prints_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--seed", "3", "--count", "50", "--no-sequences"]) == 0
    out = capsys.readouterr().out
    assert out == LogStream(3, count=50, sequences=[]).text()


def test_generate_bad_input_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--count", "3", "--sequence", "startup"]) == 2
    assert "smaller than" in capsys.readouterr().err
    assert main(["generate", "--sequence", "lock_table:peak=20"]) == 2
    assert "peak must be 86..100" in capsys.readouterr().err
    assert main(["generate", "--start", "yesterday"]) == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_a_short_log_without_named_sequences_is_noise_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["generate", "--count", "3", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert main(["generate", "--count", "60", "--seed", "1"]) == 0
    assert "Allocated" in capsys.readouterr().out  # room for the default startup


def test_sequences_lists_every_sequence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sequences"]) == 0
    out = capsys.readouterr().out
    for name in sequence_names():
        assert any(line.startswith(name + " ") for line in out.splitlines()), name
    assert "params: outcome='reduced'" in out
