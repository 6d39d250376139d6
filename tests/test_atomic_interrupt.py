"""An interrupt at the worst moment of a whole-file write leaves nothing behind.

The CLI turns SIGTERM/SIGINT into an exception, raised between any two
bytecodes: the worst moment is just after the temporary file was created,
before its name reached the writer (as inside ``tempfile.mkstemp``). Both
writers that make a temporary (``write_atomic`` and the CPF backup) must
still find it and remove it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pytest_iris import atomic
from pytest_iris.tools.cpf import storage


def _interrupted_right_after_creating(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    created: list[str] = []
    real = atomic.create_temporary

    def create_then_interrupt(temporary: str) -> int:
        real(temporary)  # the file exists; its descriptor never reaches the writer
        created.append(temporary)
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic, "create_temporary", create_then_interrupt)  # both writers' maker
    return created


def test_write_atomic_removes_a_temporary_it_was_interrupted_creating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "messages.log"
    target.write_text("old\n")
    created = _interrupted_right_after_creating(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, "new\n")
    assert len(created) == 1 and Path(created[0]).parent == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messages.log"]
    assert target.read_text() == "old\n"


def test_cpf_backup_removes_a_temporary_it_was_interrupted_creating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpf = tmp_path / "iris.cpf"
    cpf.write_text("[config]\nglobals=0,0,256,0,0,0\n")
    created = _interrupted_right_after_creating(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        storage.make_backup(cpf, date(2026, 11, 30))
    assert len(created) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris.cpf"]


def test_a_name_already_taken_is_not_removed(tmp_path: Path) -> None:
    """``O_EXCL``: a name another writer holds is an error, and its file stays."""
    target = tmp_path / "iris.cpf"
    taken = atomic.temporary_name(target)
    Path(taken).write_text("another writer's\n")
    with pytest.raises(FileExistsError):
        atomic.create_temporary(taken)
    assert Path(taken).read_text() == "another writer's\n"
