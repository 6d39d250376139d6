"""Chaos defects a user trial of the built wheel found, each checked the way the user met it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pytest_iris.chaos.schema import STAMP_CHARS
from pytest_iris.cli import main
from pytest_iris.log.grammar import MAX_LINE_BYTES
from pytester_support import add_remediators, add_scenario, run_cli


def _line_fault(text: str) -> str:
    return f'name: l\nfaults: [{{at: 5, lines: ["{text}"]}}]\n'


#: (file name, content, the one line the error must hold)
BAD_SCENARIOS = {
    "line_too_long": (
        "iris_chaos_l.yaml",
        _line_fault("1 [Generic.Event] " + "a" * 70_000),
        "iris_chaos_l.yaml:2: faults[0].lines[0]: 70,018 bytes; a messages.log line holds at "
        f"most {MAX_LINE_BYTES:,} (the log reader's MAX_LINE_BYTES",
    ),
    "unknown_kill_role": (
        "iris_chaos_k.yaml",
        "name: k\nfaults:\n  - at: 5\n    kill: nobody\n",
        "iris_chaos_k.yaml:4: faults[0].kill: unknown role 'nobody': a kill names the role of "
        "one of the instance's processes (control, write_daemon, ",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_cli_refuses_the_scenario_at_load_with_exit_2(tmp_path: Path, case: str) -> None:
    name, text, says = BAD_SCENARIOS[case]
    (tmp_path / name).write_text(text)
    done = run_cli(tmp_path, "chaos", f"./{name}")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""  # nothing ran: no PASSED with messages=0
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert says in done.stderr


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_pytest_reports_a_collection_error(pytester: pytest.Pytester, case: str) -> None:
    name, text, says = BAD_SCENARIOS[case]
    (pytester.path / name).write_text(text)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 2
    result.assert_outcomes(errors=1)
    assert says in result.stdout.str()


def test_kill_error_names_every_role_a_sandbox_instance_has(tmp_path: Path) -> None:
    """The allowed names are the roles of a real sandbox instance's processes."""
    from pytest_iris.chaos.schema import kill_roles
    from pytest_iris.sandbox import SandboxHost

    with SandboxHost(tmp_path / "host", users=1, web_users=1) as host:
        assert set(host.pids()) == set(kill_roles())


def test_longest_allowed_fault_line_reaches_the_remediator(tmp_path: Path) -> None:
    """The bound is the reader's, not stricter: a line of the limit is read as a message."""
    head = "1 [Generic.Event] "
    text = head + "a" * (MAX_LINE_BYTES - STAMP_CHARS - len(head))
    (tmp_path / "iris_chaos_l.yaml").write_text(_line_fault(text))
    done = run_cli(tmp_path, "chaos", "./iris_chaos_l.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " messages=1 " in done.stdout
    (tmp_path / "iris_chaos_l.yaml").write_text(_line_fault(text + "a"))
    assert run_cli(tmp_path, "chaos", "./iris_chaos_l.yaml").returncode == 2


def _pytest_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest as a user runs it in ``cwd`` (a subprocess: the invocation directory is real)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_failed_scenario_ids_outside_the_rootdir_can_be_pasted_back(
    pytester: pytest.Pytester,
) -> None:
    """Built-in and shared scenarios (outside the rootdir) failing, run from a subdirectory.

    pytest ids a file outside the rootdir relative to the argument it was found
    under (``iris_chaos_x.yaml``) and prints it as if under the rootdir
    (``../iris_chaos_x.yaml::x``): 'file or directory not found' when pasted.
    The id is pasted into the same command line (``-c``: pytest otherwise looks for
    the configuration from the pasted path, for any file outside the rootdir).
    """
    project, shared = pytester.path / "proj", pytester.path / "shared"
    (project / "sub").mkdir(parents=True)
    shared.mkdir()
    add_scenario(pytester, "lock_table_full")
    (pytester.path / "iris_chaos_lock_table_full.yaml").rename(
        shared / "iris_chaos_lock_table_full.yaml"
    )
    add_remediators(pytester)
    (pytester.path / "chaos_remediators.py").rename(project / "chaos_remediators.py")
    (project / "pytest.ini").write_text(
        "[pytest]\npythonpath = .\niris_remediator = chaos_remediators:nothing\n"
        "iris_scenarios =\n    builtin\n    ../shared\n"
    )
    first = _pytest_in(project / "sub", "-c", "../pytest.ini", "-q", "-k", "lock_table_full")
    assert first.returncode == 1, first.stdout + first.stderr
    ids = [line.split()[1] for line in first.stdout.splitlines() if line.startswith("FAILED ")]
    ids = [i for i in ids if "::" in i]  # the short summary's lines, not the chaos section's
    assert len(ids) == 2, first.stdout
    assert any("shared/iris_chaos_lock_table_full.yaml::lock_table_full" in i for i in ids), ids
    for nodeid in ids:
        again = _pytest_in(project / "sub", "-c", "../pytest.ini", "-q", nodeid)
        assert again.returncode == 1, again.stdout + again.stderr  # ran, and failed again
        assert f"FAILED {nodeid}" in again.stdout, again.stdout
    last = _pytest_in(project / "sub", "-c", "../pytest.ini", "-q", "--lf")
    assert "2 failed" in last.stdout and "passed" not in last.stdout.splitlines()[-1], last.stdout


def test_summary_wording_says_each_thing_once_and_names_the_severity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``found 0 [...]`` read as "found none", a check repeated its name, and a result
    ended in a bare ``ok`` that read as part of the tool's message (user trial)."""
    assert main(["chaos", "shm_exhaustion_at_startup", "lock_table_full"]) == 0
    passed = capsys.readouterr().out
    assert "found severity 0 [Generic.Event] 'Allocated " in passed
    results = [line for line in passed.splitlines() if " result  " in line]
    assert results and all(line.rstrip()[-3:] != " ok" for line in results), results
    assert "result  cpf.set: success: " in passed
    status = main(["chaos", "lock_table_full", "--remediator", "chaos_remediators:nothing"])
    failed = capsys.readouterr().out
    assert status == 1
    assert "FAILED CPF [config] locksiz: expected at least 33554432, found 16777216" in failed
    assert "CPF [config] locksiz: CPF [config] locksiz" not in failed
    assert "! CPF [config] locksiz: expected at least 33554432" in failed  # the failure keeps it


def test_html_report_check_says_its_name_once(tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    args = ["chaos", "lock_table_full", "--remediator", "chaos_remediators:nothing"]
    assert main([*args, "--report", str(report)]) == 1
    html = report.read_text(encoding="utf-8")
    assert "FAILED CPF [config] locksiz: expected at least 33554432" in html
    assert "locksiz: CPF [config] locksiz" not in html


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (
            "--iris-remediator=nosuch:fix",
            "ERROR: remediator 'nosuch:fix': cannot import 'nosuch': No module named 'nosuch'",
        ),
        ("--iris-seed=-1", f"ERROR: --iris-seed: '-1': a whole number in 0..{2**63 - 1}"),
        (
            "--iris-record-mode=bogus",
            "ERROR: --iris-record-mode: 'bogus': one of none, once, new_episodes, all",
        ),
    ],
)
def test_bad_option_value_is_one_usage_error_line(
    pytester: pytest.Pytester, option: str, says: str
) -> None:
    """As every bad option value (--iris-report, --iris-config, settings): a usage error.

    The remediator's was exit 2 with its line printed twice (stderr, and stdout's
    '! _pytest.outcomes.Exit' banner); the seed's was argparse's usage, error,
    inifile and rootdir lines (user trial).
    """
    add_scenario(pytester, "license_limit")
    result = pytester.runpytest_subprocess(option, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.strip()] == [says]
    everything = result.stdout.str() + result.stderr.str()
    assert everything.count(says.removeprefix("ERROR: ")) == 1, everything
    assert not list(pytester.path.glob("**/chaos/license_limit-*"))  # no host was built


def test_settings_file_remediator_under_xdist_is_the_same_usage_error(
    pytester: pytest.Pytester,
) -> None:
    """Named only in the settings file, it is checked once on the controller too: in the
    workers the usage error was an xdist INTERNALERROR (a worker crash before)."""
    add_scenario(pytester, "license_limit")
    pytester.makefile(".yaml", iris="chaos:\n  remediator: nosuch:fix\n")
    result = pytester.runpytest_subprocess(
        "--iris-config", "iris.yaml", "-n", "2", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.strip()] == [
        "ERROR: remediator 'nosuch:fix': cannot import 'nosuch': No module named 'nosuch'"
    ]
    assert "INTERNALERROR" not in result.stdout.str()
