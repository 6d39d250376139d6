"""After an aborted start (or a shutdown) the generated log has no instance lines until a start.

The user trial: ``pytest-iris generate --seed 3 --count 300 --sequence
shm_failure:outcome=abort`` wrote ~290 noise lines after ``An error was
detected during InterSystems IRIS startup.``. Real IRIS is down after ``**
Startup aborted **`` (commands.md §3.7): nothing runs to write messages.log.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_iris.generation.stream import LogStream

ERROR = "An error was detected during InterSystems IRIS startup."


def _templates(stream: LogStream) -> list[str]:
    return [e.template for e in stream.entries()]


def test_the_trials_command_ends_with_the_abort() -> None:
    argv = [sys.executable, "-c", "import sys; from pytest_iris.cli import main; sys.exit(main())", "generate", "--seed", "3", "--count", "300",
            "--sequence", "shm_failure:outcome=abort"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip("\n").split("\n")
    assert len(lines) == 300  # --count still holds: the noise is written before the start
    assert lines[-1].endswith(ERROR)


@pytest.mark.parametrize("outcome", ["abort", "required"])
@pytest.mark.parametrize("seed", [0, 3, 11])
def test_nothing_follows_an_aborted_start_that_nothing_restarts(outcome: str, seed: int) -> None:
    stream = LogStream(seed, count=400, sequences=["startup", f"shm_failure:outcome={outcome}"])
    names = _templates(stream)
    assert names[-1] == "startup.error_detected"
    placed = stream.placement("shm_failure")
    assert placed.last_line == 400


def test_a_later_start_follows_the_abort_with_no_noise_between() -> None:
    stream = LogStream(5, count=600, sequences=[
        "startup", "shm_failure:outcome=abort@0.3", "lock_table", "startup"])  # fmt: skip
    abort = stream.placement("shm_failure")
    lock, start = stream.placements[2], stream.placements[3]
    assert lock.first_line == abort.last_line + 1
    assert start.first_line == lock.last_line + 1
    # the instance runs again after the start: noise resumes
    assert start.last_line < 600


def test_a_shutdown_placed_mid_log_that_nothing_restarts_ends_the_log() -> None:
    stream = LogStream(2, count=500, sequences=["startup", "shutdown@0.4"])
    assert stream.placement("shutdown").last_line == 500
    assert not _templates(stream)[-1].startswith("noise.")
