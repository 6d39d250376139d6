"""An unknown option is reported by the subcommand it was given to, with that command's help.

User trial: ``pytest-iris kernel apply --shared-memory-mb 1`` (the option is
``--shared-memory``) said ``pytest-iris: unrecognized arguments: ... (see
pytest-iris --help)``, pointing at the top-level help, which does not list
``kernel apply``'s options.
"""

from __future__ import annotations

import pytest

from pytest_iris.cli import main


@pytest.mark.parametrize(
    ("argv", "prog"),
    [
        (["kernel", "apply", "--shared-memory-mb", "1"], "pytest-iris kernel apply"),
        (["generate", "--bogus"], "pytest-iris generate"),
        (["cassettes", "list", "--bogus"], "pytest-iris cassettes list"),
        (["restart", "--timeout", "-1"], "pytest-iris restart"),
    ],
)
def test_unknown_option_names_the_subcommand(
    argv: list[str], prog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"{prog}: unrecognized arguments: ")
    assert err.endswith(f"(see {prog} --help)\n")


def test_stray_word_before_the_command_is_still_the_top_level_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--bogus"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.startswith("pytest-iris: ")
