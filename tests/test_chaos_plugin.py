"""The pytest face of chaos: scenario files as items, options, markers, reports, hooks."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_iris.builtin_plugin import SCENARIO_DIR

TESTS = Path(__file__).parent


def _copy(pytester: pytest.Pytester, *names: str) -> None:
    for name in names:
        shutil.copy(SCENARIO_DIR / f"iris_chaos_{name}.yaml", pytester.path)


def _broken(pytester: pytest.Pytester) -> None:
    shutil.copy(TESTS / "chaos_remediators.py", pytester.path / "chaos_remediators.py")
    pytester.syspathinsert()


TAGGED = """
name: tagged_quiet_one
tags: [acmetag]
faults:
  - at: 1
    lines: ["0 [Utility.Event] nothing to see"]
expect:
  no_tool_calls: [{tool: restart}]
"""


def test_items_selection_summary_junit_and_report(pytester: pytest.Pytester) -> None:
    """One run shows collection by name, -k on names and tags, the summary, JUnit, the report."""
    _copy(pytester, "lock_table_full", "license_limit")
    (pytester.path / "iris_chaos_tagged.yaml").write_text(TAGGED)
    xml, report = pytester.path / "junit.xml", pytester.path / "out" / "chaos.html"
    result = pytester.runpytest(
        "-v", "-k", "lock_table or acmetag", f"--junitxml={xml}", f"--iris-report={report}"
    )
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "iris_chaos_lock_table_full.yaml::lock_table_full PASSED*",
            "iris_chaos_tagged.yaml::tagged_quiet_one PASSED*",
            f"iris chaos report: {report}",
            "*iris chaos scenarios*",
            "PASSED lock_table_full [[]rules[]] faults=1 messages=3 commands=1 results=1 ok/0 failed"
            " time-to-remediate=0.5s*",
            "*steady state before: holds (instance running, users can connect)",
            "*steady state after:  holds (instance running, users can connect)",
            "*t=   30.0s fault   sequence lock_table*",
            "*command cpf.set(changes={'config.locksiz': '33554432'})",
            "PASSED tagged_quiet_one*",
        ]
    )
    cases = {c.get("name"): c for c in ET.parse(xml).getroot().iter("testcase")}
    assert set(cases) == {"lock_table_full", "tagged_quiet_one"}
    props = {p.get("name"): p.get("value") for p in cases["lock_table_full"].iter("property")}
    assert props["iris_scenario"] == "lock_table_full"
    assert props["iris_status"] == "passed"
    assert props["iris_commands"] == "cpf.set(changes={'config.locksiz': '33554432'})"
    assert props["iris_tool_results"].startswith(
        "cpf.set: success: /usr/irissys/iris.cpf: 1 change(s) applied"
    )
    assert props["iris_time_to_remediate_s"] == "0.5"
    assert props["iris_steady_state_after"] == "holds (instance running, users can connect)"
    assert props["iris_failures"] == "none"
    page = report.read_text(encoding="utf-8")
    assert 'id="scenario-lock_table_full"' in page and 'id="scenario-tagged_quiet_one"' in page
    assert "license_limit" not in page


def test_remediator_option_fails_with_reasons(pytester: pytest.Pytester) -> None:
    _copy(pytester, "restart_with_users_connected")
    _broken(pytester)
    result = pytester.runpytest("--iris-remediator", "chaos_remediators:ForceRestart")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*scenario 'restart_with_users_connected' (iris_chaos_restart_with_users_connected.yaml)"
            " failed with remediator 'chaos_remediators:ForceRestart':",
            "*expected the instance not to be restarted, but it was while 5 user(s) were connected*",
            "*expected 5 client connection(s) still established, found 0*",
        ]
    )


def test_ini_remediator_and_builtin_library(pytester: pytest.Pytester) -> None:
    _broken(pytester)
    pytester.makeini(
        "[pytest]\niris_remediator = chaos_remediators:nothing\niris_scenarios =\n    builtin\n"
    )
    result = pytester.runpytest("-k", "lock_table_full")
    result.assert_outcomes(failed=1, deselected=8)
    result.stdout.fnmatch_lines(["*expected a tool call cpf.set status=success; made: none*"])


def test_bad_remediator_spec_is_a_clear_error(pytester: pytest.Pytester) -> None:
    _copy(pytester, "license_limit")
    result = pytester.runpytest("--iris-remediator", "no_such_module:fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # stopped at the start, no host built
    result.stderr.fnmatch_lines(
        ["*remediator 'no_such_module:fix': cannot import 'no_such_module'*"]
    )


def test_invalid_scenario_file_is_a_collection_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "iris_chaos_bad.yaml").write_text(
        "name: bad\nfaults:\n  - at: -1\n    kill: x\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*iris_chaos_bad.yaml:3: faults[[]0[]].at: Input should be*"])


TWO_PROBLEMS = """\
name: two
host:
  users: many
faults:
  - at: -1
    sequence: lock_table
"""


def test_several_scenario_problems_are_one_line_in_pytest_and_the_cli(
    pytester: pytest.Pytester,
) -> None:
    from pytester_support import run_cli

    (pytester.path / "iris_chaos_two.yaml").write_text(TWO_PROBLEMS)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    done = run_cli(pytester.path, "chaos", "iris_chaos_two.yaml")
    assert done.returncode == 2
    (cli,) = done.stderr.splitlines()  # it was 'invalid scenario:' then one line per problem
    assert cli.startswith("pytest-iris chaos: invalid scenario: iris_chaos_two.yaml:3: host.users:")
    assert "; iris_chaos_two.yaml:5: faults[0].at: Input should be greater than" in cli
    error = next(line for line in result.stdout.lines if line.startswith("invalid scenario: "))
    assert error.replace(f"{pytester.path}/", "") == cli.removeprefix("pytest-iris chaos: ")


def test_xdist_gives_identical_results(pytester: pytest.Pytester) -> None:
    names = ("lock_table_full", "license_limit", "journal_space_alert")
    _copy(pytester, *names)
    files = [f"iris_chaos_{name}.yaml" for name in names]
    outcomes = []
    for workers in ("0", "2"):
        xml = pytester.path / f"junit-{workers}.xml"
        result = pytester.runpytest_subprocess(
            "-n", workers, f"--junitxml={xml}", "-p", "no:cacheprovider", *files
        )
        result.assert_outcomes(passed=3)
        cases = ET.parse(xml).getroot().iter("testcase")
        outcomes.append(
            sorted(
                (
                    case.get("name"),
                    tuple((p.get("name"), p.get("value")) for p in case.iter("property")),
                )
                for case in cases
            )
        )
        result.stdout.fnmatch_lines(["*iris chaos scenarios*", "PASSED journal_space_alert*"])
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0]) == 3


MARKER_TESTS = """
import pytest
from pytest_iris.testing import assert_tool_called

FIX = {"tool": "cpf", "action": "set", "dry_run": False,
       "parameters": {"changes": {"config.locksiz": "33554432"}}}

@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="cpf", parameter="config.locksiz", min=33554432)
def test_fixed(iris_chaos):
    assert iris_chaos.host.status() == "running"
    messages = iris_chaos.inject()
    assert any(m.text.startswith("LockTable Alert") for m in messages)
    assert iris_chaos.dispatch(FIX).ok
    assert_tool_called(iris_chaos.calls, "cpf", "set", status="success")

@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="cpf", parameter="config.locksiz", min=33554432)
def test_not_fixed(iris_chaos):
    iris_chaos.inject()

@pytest.mark.iris_scenario("lock_table_full")
@pytest.mark.iris_expect_remediation(tool="restart", restarted=False)
def test_whole_scenario_with_reference(iris_chaos):
    journal = iris_chaos.run("rules")
    assert journal.passed, journal.failures

def test_fixture_without_marker_is_a_lab(iris_chaos):
    # without a scenario marker, iris_chaos runs scenarios it is given (property-based chaos)
    from pytest_iris.chaos.explore import ChaosLab
    assert isinstance(iris_chaos, ChaosLab)
"""


def test_markers_and_iris_chaos_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_markers=MARKER_TESTS)
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--junitxml={xml}")
    result.assert_outcomes(passed=3, failed=1)
    cases = {c.get("name"): c for c in ET.parse(xml).getroot().iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["test_fixed"].iter("property")}
    assert props["iris_scenario"] == "lock_table_full"
    assert props["iris_commands"] == "cpf.set(changes={'config.locksiz': '33554432'})"
    whole = {
        p.get("name"): p.get("value")
        for p in cases["test_whole_scenario_with_reference"].iter("property")
    }
    assert whole["iris_status"] == "passed"
    result.stdout.fnmatch_lines(
        [
            "*expected cpf to change config.locksiz: config.locksiz still holds '16777216'"
            " (was '16777216'); calls made:",
            "*(no tool call was made)",
        ]
    )


PLUGIN = """
from pathlib import Path

from pytest_iris.log.model import IRISMessage, Severity


def pytest_iris_add_sequences():
    def overheat(context, *, celsius=95):
        return [IRISMessage(timestamp=context.start, pid=context.pids.get("control", 1),
                            severity=Severity.SEVERE, category="Acme.Event",
                            text=f"Widget overheated at {celsius} C")]
    return {"acme_overheat": overheat}


def pytest_iris_add_scenarios():
    return [Path(__file__).parent / "acme"]


def pytest_iris_add_remediators():
    def cool_down(message, context):
        if message.category == "Acme.Event":
            return {"tool": "cpf", "action": "set", "dry_run": False,
                    "parameters": {"changes": {"config.locksiz": "33554432"}}}
    return {"acme": cool_down}
"""

ACME_SCENARIO = """
name: acme_overheat
faults:
  - at: 3
    sequence: acme_overheat
    params: {celsius: 99}
expect:
  within_s: 10
  tool_calls:
    - {tool: cpf, action: set, status: success}
  messages_after:
    - {category: Acme.Event, text_contains: "99 C", min_severity: 2}
"""

ACME_TEST = """
import pytest

@pytest.mark.iris_scenario("acme_overheat")
def test_acme(iris_chaos):
    journal = iris_chaos.run("acme")
    assert journal.passed, journal.failures
    assert journal.of_kind("message")[0].summary == "[Acme.Event] Widget overheated at 99 C"
"""


def test_third_party_plugin_adds_sequence_scenario_and_remediator(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(PLUGIN)
    (pytester.path / "acme").mkdir()
    (pytester.path / "acme" / "iris_chaos_acme.yaml").write_text(ACME_SCENARIO)
    pytester.makepyfile(test_acme=ACME_TEST)
    result = pytester.runpytest("test_acme.py", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


SAME_HOST = """
name: same_host_{n}
seed: 5
host: {{users: 2, kernel: {{kernel.shmmax: 4294967296}}}}
faults:
  - at: {n}
    lines: ["{sev} [Utility.Event] same starting host, fault {n}"]
expect:
  no_tool_calls: [{{tool: restart}}]
  instance: running
  users_connected: 2
"""

COUNT_TEMPLATES = """
def pytest_terminal_summary(terminalreporter, config):
    from pytest_iris.plugins.chaos import host_templates
    templates = host_templates(config)
    terminalreporter.write_line(f"TEMPLATES builds={templates.builds} copies={templates.copies}")
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_scenarios_with_one_starting_host_share_one_template(
    pytester: pytest.Pytester, workers: str
) -> None:
    """The first item builds its host; the template is built once per run and copied (under
    xdist in the directory the workers' basetemps share)."""
    for n in range(1, 5):
        (pytester.path / f"iris_chaos_same_{n}.yaml").write_text(SAME_HOST.format(n=n, sev=n % 2))
    pytester.makeconftest(COUNT_TEMPLATES)
    base = pytester.path / "base"
    result = pytester.runpytest_subprocess(
        "-n", workers, "-p", "no:cacheprovider", f"--basetemp={base}"
    )
    result.assert_outcomes(passed=4)
    templates = sorted(base.glob("**/iris-host-templates/*/host"))
    if workers == "0":
        result.stdout.fnmatch_lines(["TEMPLATES builds=1 copies=3"])
        assert [t.relative_to(base).parts[0] for t in templates] == ["iris-host-templates"]
        assert len(list((base / "chaos").iterdir())) == 4
    else:  # the workers share the run's templates: one, built by whichever needed it first
        assert [t.relative_to(base).parts[0] for t in templates] == ["iris-host-templates"]
        hosts = [p.name for p in base.glob("popen-gw*/chaos/*")]
        assert len(hosts) == 4, hosts
