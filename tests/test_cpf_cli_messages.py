"""CPF messages a shell user reads: where the bad value is, and the flag that applies.

User trial: ``pytest-iris cpf show`` on a CPF with ``globals=0,0,abc,0,0,0`` said
``[config]globals='0,0,abc,0,0,0' is not integers`` (no line, no form), and a dry
``cpf set`` said ``(use apply)`` where the flag is ``--apply``.
"""

from __future__ import annotations

from pathlib import Path

from pytester_support import run_cli


def test_a_non_numeric_size_names_its_line(tmp_path: Path) -> None:
    cpf = tmp_path / "iris.cpf"
    cpf.write_text("[Startup]\nSystemMode=\n[config]\nglobals=0,0,abc,0,0,0\n")
    done = run_cli(None, "cpf", "show", str(cpf))
    assert done.returncode == 2
    assert done.stderr == (
        f"pytest-iris cpf show: {cpf}:4: [config]globals='0,0,abc,0,0,0': "
        "not a whole number or comma-separated whole numbers\n"
    )


def test_a_dry_run_names_the_flag_that_applies(tmp_path: Path) -> None:
    cpf = tmp_path / "iris.cpf"
    cpf.write_text("[config]\nlocksiz=16777216\n")
    done = run_cli(None, "cpf", "set", str(cpf), "locksiz=33554432")
    assert done.returncode == 0, done.stderr
    assert f"{cpf}: dry run, 1 change(s) not applied (pass apply=True; CLI: --apply)" in done.stdout
    assert cpf.read_text() == "[config]\nlocksiz=16777216\n"
