"""A chaos run's scratch directory is removed even when an interrupt lands as it is made.

``pytest-iris chaos`` turns SIGTERM/SIGINT into an exception between any two
bytecodes; one landing just after the directory exists, before its removal
was registered, left a whole ``iris-chaos-*`` host behind (seen once in CI).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from pytest_iris.chaos.runner import scratch_directory


def test_an_interrupt_right_after_the_directory_exists_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    real_mkdir = Path.mkdir

    def mkdir_then_interrupt(self: Path, *args: object, **kwargs: object) -> None:
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    stack = contextlib.ExitStack()
    monkeypatch.setattr(Path, "mkdir", mkdir_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        scratch_directory(stack, "iris-chaos-x-")
    monkeypatch.undo()
    assert len(list(tmp_path.iterdir())) == 1  # made, and the interrupt came before any return
    stack.close()  # what the run's ExitStack does as the interrupt unwinds it
    assert list(tmp_path.iterdir()) == []


def test_the_directory_lives_until_the_stack_closes_and_a_taken_name_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    with contextlib.ExitStack() as stack:
        made = scratch_directory(stack, "iris-chaos-x-")
        assert made.is_dir() and made.parent == tmp_path and made.name.startswith("iris-chaos-x-")
        (made / "host").mkdir()
    assert not made.exists()
    # someone else's directory under the same name is an error, and it stays
    monkeypatch.setattr("os.urandom", lambda n: b"\0" * n)
    theirs = tmp_path / f"iris-chaos-x-{'00' * 6}"
    theirs.mkdir()
    stack = contextlib.ExitStack()
    with pytest.raises(FileExistsError):
        scratch_directory(stack, "iris-chaos-x-")
    stack.close()
    assert theirs.is_dir()
