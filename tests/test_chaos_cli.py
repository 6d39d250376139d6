"""``pytest-iris chaos``: the main job, its exit status and its outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_iris.cli import main


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chaos", "--list"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 9
    assert "restart_with_users_connected" in out and "(the right answer is to refuse)" in out


def test_runs_named_scenarios_with_report_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, journals = tmp_path / "r.html", tmp_path / "j.json"
    status = main(
        [
            "chaos",
            "lock_table_full",
            "license_limit",
            "--report",
            str(report),
            "--json",
            str(journals),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "PASSED license_limit [rules]" in out and "PASSED lock_table_full [rules]" in out
    assert "2/2 scenarios passed with remediator 'rules'" in out
    assert 'id="scenario-lock_table_full"' in report.read_text(encoding="utf-8")
    data = json.loads(journals.read_text(encoding="utf-8"))
    assert [d["scenario"] for d in data] == ["lock_table_full", "license_limit"]


def test_broken_remediator_exits_1_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["chaos", "restart_with_users_connected", "--remediator", "chaos_remediators:ForceRestart"]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "FAILED restart_with_users_connected [chaos_remediators:ForceRestart]" in out
    assert "! expected the instance not to be restarted, but it was while 5 user(s)" in out
    assert "0/1 scenarios passed" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_scenario"], "no scenario 'no_such_scenario': not a registered name"),
        (["--remediator", "nope:x", "license_limit"], "remediator 'nope:x': cannot import 'nope'"),
    ],
)
def test_bad_input_exits_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["chaos", *args]) == 2
    assert message in capsys.readouterr().err


def test_console_entry_runs_a_scenario_file(tmp_path: Path) -> None:
    scenario = tmp_path / "iris_chaos_mine.yaml"
    scenario.write_text(
        "name: mine\nfaults:\n  - at: 2\n    lines: ['2 [Generic.Event] License limit exceeded 1 times"
        " since instance start.']\nexpect:\n  no_tool_calls: [{tool: restart}]\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest_iris", "chaos", str(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED mine [rules] faults=1 messages=1 commands=0" in done.stdout


def test_remediator_from_settings_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYTEST_IRIS_CHAOS__REMEDIATOR", "chaos_remediators:nothing")
    assert main(["chaos", "lock_table_full"]) == 1
    out = capsys.readouterr().out
    assert "FAILED lock_table_full [chaos_remediators:nothing]" in out


@pytest.mark.parametrize(
    ("option", "where", "message"),
    [
        # the user trial's case: all scenarios ran, then 'pytest-iris chaos: /proc/x.json: No such file'
        ("--json", "/proc/x.json", "--json /proc/x.json: directory /proc: cannot create a file"),
        (
            "--report",
            "{tmp}/file/r.html",
            "--report {tmp}/file/r.html: {tmp}/file is not a directory",
        ),
        (
            "--json",
            "{tmp}/missing/j.json",
            "--json {tmp}/missing/j.json: directory {tmp}/missing does",
        ),
        ("--json", "{tmp}", "--json {tmp}: is a directory"),
        (
            "--log-file",
            "{tmp}/file/log",
            "--log-file {tmp}/file/log: {tmp}/file is not a directory",
        ),
    ],
)
def test_output_paths_are_checked_before_anything_runs(
    option: str, where: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("a file, not a directory\n")
    before = sorted(tmp_path.rglob("*"))
    status = main(["chaos", "lock_table_full", option, where.format(tmp=tmp_path)])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.startswith("pytest-iris chaos: " + message.format(tmp=tmp_path)), err
    assert len(err.splitlines()) == 1
    assert "lock_table_full" not in out  # no scenario ran
    assert sorted(tmp_path.rglob("*")) == before  # the check left nothing behind


def test_a_failed_write_at_the_end_names_the_option(tmp_path: Path) -> None:
    from pytester_support import run_cli

    # a remediator that removes the --json directory while the scenario runs
    (tmp_path / "removes_out.py").write_text(
        "import shutil\n\n\n"
        "def remediate(message, context):\n"
        "    shutil.rmtree('out', ignore_errors=True)\n"
    )
    (tmp_path / "out").mkdir()
    done = run_cli(
        tmp_path,
        "chaos",
        "--remediator",
        "removes_out:remediate",
        "--json",
        "out/j.json",
        "lock_table_full",
    )
    assert done.returncode == 2, done.stderr
    assert "lock_table_full" in done.stdout  # it ran; the write failed after
    assert done.stderr == "pytest-iris chaos: --json out/j.json: No such file or directory\n"


#: the user trial's scenario: the rules raise gmheap, not locksiz, so the CPF check fails
LOCKS_TWICE = """\
name: my_lock_incident
host:
  users: 3
faults:
  - at: 10
    sequence: lock_table
    params: {peak: 99}
expect:
  cpf: {config: {locksiz: {min: 33554432}}}
"""


def test_failure_sentences_name_host_paths_as_the_result_lines_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "iris_chaos_mine.yaml"
    scenario.write_text(LOCKS_TWICE)
    assert main(["chaos", str(scenario), "--keep", str(tmp_path / "hosts")]) == 1
    out = capsys.readouterr().out
    failure = next(line for line in out.splitlines() if line.lstrip().startswith("! CPF"))
    # it said '-> success: /tmp/iris-chaos-<name>-xxxx/host/usr/irissys/iris.cpf: ...'
    assert "-> success: /usr/irissys/iris.cpf: 1 change(s) applied" in failure, failure
    assert "result  cpf.set: success: /usr/irissys/iris.cpf:" in out
    assert str(tmp_path) not in out
