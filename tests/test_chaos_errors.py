"""Errors that name the fix: markers, scenario files and remediators checked before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytester_support import add_remediators, add_scenario, run_cli, run_user_tests

BAD_PARAMS = """
name: bad_params
faults:
  - at: 1
    sequence: lock_table
    params:
      peak: lots
  - at: 2
    sequence: no_such_sequence
"""


def test_unknown_sequence_and_bad_parameter_stop_collection_with_file_line(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "iris_chaos_bad_params.yaml").write_text(BAD_PARAMS)
    result = pytester.runpytest()
    assert result.ret == 2
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [  # one line: the problems joined by '; '
            "invalid scenario: *iris_chaos_bad_params.yaml:7: faults[[]0[]].params.peak: 'lots' is"
            " not a valid peak for sequence 'lock_table' (expected int); it takes: peak: int = 97,"
            " recover: bool = True; *iris_chaos_bad_params.yaml:9: faults[[]1[]].sequence: unknown"
            " log sequence 'no_such_sequence' (registered: *lock_table*",
        ]
    )
    assert "TypeError" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


def test_cli_reports_the_same_scenario_errors_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "iris_chaos_bad_params.yaml"
    path.write_text(BAD_PARAMS)
    done = run_cli(tmp_path, "chaos", str(path))
    assert done.returncode == 2, done.stderr
    assert f"{path}:7: faults[0].params.peak: 'lots' is not a valid peak" in done.stderr
    assert f"; {path}:9: faults[1].sequence: unknown log sequence" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("no_such_module:fix", "remediator 'no_such_module:fix': cannot import 'no_such_module'"),
        ("chaos_remediators:missing", "'chaos_remediators' has no 'missing'"),
        ("llm", "no LLM provider is usable"),
    ],
)
def test_broken_remediator_stops_the_run_at_start(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, spec: str, says: str
) -> None:
    """Under pytest (a usage error, as every bad option value) and the CLI (exit 2) alike,
    resolving module paths from the current directory."""
    add_remediators(pytester)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    add_scenario(pytester, "license_limit")
    result = pytester.runpytest_subprocess("--iris-remediator", spec, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{says}*"])
    assert not list(pytester.path.glob("**/chaos-license_limit*"))  # no sandbox was built
    done = run_cli(pytester.path, "chaos", "--remediator", spec, "license_limit")
    assert done.returncode == 2
    assert says in done.stderr
    assert done.stdout == ""


def test_module_paths_resolve_the_same_way_under_pytest_and_the_cli(
    pytester: pytest.Pytester,
) -> None:
    """A remediator module beside the tests, not on sys.path: both find it from the cwd."""
    add_remediators(pytester)
    add_scenario(pytester, "lock_table_full")
    result = pytester.runpytest_subprocess(
        "--iris-remediator", "chaos_remediators:async_lock_fixer", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    done = run_cli(
        pytester.path,
        "chaos",
        "--remediator",
        "chaos_remediators:async_lock_fixer",
        "lock_table_full",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_remediator_exception_has_its_traceback_in_terminal_json_and_html(
    pytester: pytest.Pytester,
) -> None:
    add_remediators(pytester)
    add_scenario(pytester, "lock_table_full")
    report = pytester.path / "chaos.html"
    result = pytester.runpytest(
        "--iris-remediator", "chaos_remediators:raises", f"--iris-report={report}"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*error   remediator raised RuntimeError: cannot handle 'LockTable Warning: L' FAILED",
            "*| Traceback (most recent call last):",
            '*|   File "*chaos_remediators.py", line *, in raises',
            "*|     raise RuntimeError(*",
            "*| RuntimeError: cannot handle 'LockTable Warning: L'",
        ]
    )
    assert "pytest_iris/chaos/runner.py" not in result.stdout.str()  # the user's frames only
    page = report.read_text(encoding="utf-8")
    assert '<pre class="traceback">Traceback (most recent call last):' in page
    assert "in raises" in page
    out = pytester.path / "journals.json"
    done = run_cli(
        pytester.path,
        "chaos",
        "--remediator",
        "chaos_remediators:raises",
        "--json",
        str(out),
        "lock_table_full",
    )
    assert done.returncode == 1
    assert "| RuntimeError: cannot handle" in done.stdout
    (journal,) = json.loads(out.read_text())
    errors = [e for e in journal["events"] if e["kind"] == "error" and "traceback" in e["data"]]
    assert "in raises" in errors[0]["data"]["traceback"]


MARKERS = """
import pytest

@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="cpf", parameter="config.lockziz", min=1)
def test_unknown_parameter(iris_chaos):
    pass

@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="cpf", parameter="config.locksiz", value=1, min=1)
def test_value_and_min(iris_chaos):
    pass

@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="kernel", parameter="kernel.shmmax", min=9, max=1)
def test_min_over_max(iris_chaos):
    pass

@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="restart", forse=True)
def test_unknown_call_parameter(iris_chaos):
    pass

@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="cpff")
def test_unknown_tool(iris_chaos):
    pass

@pytest.mark.iris_scenario("lock_table_fulll")
def test_unknown_scenario(iris_chaos):
    pass

@pytest.mark.iris_scenario("lock_table_full", expect="maybe")
def test_bad_expect(iris_chaos):
    pass
"""


def test_markers_are_checked_before_any_host_is_built(pytester: pytest.Pytester) -> None:
    result = run_user_tests(pytester, MARKERS, "-p", "no:randomly", module="test_markers", errors=7)
    text = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*test_markers.py:3: test_unknown_parameter: iris_expect_remediation:"
            " parameter='config.lockziz': unknown parameter [[]config[]]lockziz*locksiz*",
            "*test_value_and_min: iris_expect_remediation: value=1 contradicts min/max*",
            "*test_min_over_max: iris_expect_remediation: min=9 is greater than max=1*",
            "*test_unknown_call_parameter: iris_expect_remediation: unknown keyword(s) forse:"
            " restart calls take force, instance*",
            "*test_unknown_tool: iris_expect_remediation: tool='cpff' is not a registered tool"
            " (one of cpf, kernel, restart)*",
            "*test_unknown_scenario: iris_scenario('lock_table_fulll'): no such scenario"
            " (known: *lock_table_full*",
            "*test_bad_expect: iris_scenario: expect='maybe' is not 'passed' or 'failed'*",
        ]
    )
    assert "still holds" not in text and "Traceback" not in text
    assert not list(pytester.path.glob("**/chaos/host"))


def test_markers_document_every_keyword(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    text = result.stdout.str()
    scenario = next(line for line in text.splitlines() if "iris_scenario(" in line)
    for keyword in ("name", "expect"):
        assert keyword in scenario
    expect = next(line for line in text.splitlines() if "iris_expect_remediation(" in line)
    for keyword in (
        "tool",
        "parameter",
        "value",
        "min",
        "max",
        "action",
        "status",
        "restarted",
        "**parameters",
    ):
        assert f"{keyword}:" in expect or f"{keyword}=" in expect, keyword


def test_bounds_print_as_the_cpf_writes_them(pytester: pytest.Pytester) -> None:
    """No ``3.35544e+07``: a bound on locksiz reads as the CPF holds it."""
    result = run_user_tests(
        pytester,
        """
        import pytest

        @pytest.mark.iris_scenario("lock_table_full")
        @pytest.mark.iris_expect_remediation(tool="cpf", parameter="config.locksiz", min=33554432)
        def test_too_small(iris_chaos):
            iris_chaos.dispatch({"tool": "cpf", "action": "set", "dry_run": False,
                                 "parameters": {"changes": {"config.locksiz": "20000000"}}})
        """,
        module="test_bound",
        failed=1,
    )
    result.stdout.fnmatch_lines(["*config.locksiz: expected at least 33554432, found 20000000*"])
    assert "e+07" not in result.stdout.str()


def test_report_path_that_is_a_directory_is_refused_at_start(pytester: pytest.Pytester) -> None:
    add_scenario(pytester, "license_limit")
    (pytester.path / "out").mkdir()
    result = pytester.runpytest("--iris-report", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--iris-report out: is a directory; give the HTML file to write*"]
    )
