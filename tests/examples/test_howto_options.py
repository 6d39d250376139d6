"""How-to examples of pytest-iris's command-line options and ini keys, each run in a fresh project.

Included into docs/logs.md (seed), docs/llm.md (cassette directory),
docs/settings.md (settings file, the fixtures that read settings) and
docs/chaos.md (remediator, scenario files).
"""

import functools

import pytest

SEEDED_LOG = """
import hashlib
from pathlib import Path


def test_log(iris_log, iris_seed):
    digest = hashlib.sha256(iris_log.path.read_bytes()).hexdigest()
    Path("seen.txt").write_text(f"{iris_seed} {digest}")
"""


def test_the_base_seed_replays_the_same_logs(pytester):
    pytester.makepyfile(test_tailer=SEEDED_LOG)

    def run(*args):
        result = pytester.runpytest_subprocess("test_tailer.py", *args, timeout=120)
        result.assert_outcomes(passed=1)
        return result, (pytester.path / "seen.txt").read_text()

    result, first = run("--iris-seed=7")
    result.stdout.fnmatch_lines(["iris-seed: 7 (replay generated logs with --iris-seed=7)"])
    assert run("--iris-seed=7")[1] == first  # same seed, same bytes
    assert run("--iris-seed=8")[1] != first
    pytester.makeini("[pytest]\niris_seed = 7\n")  # the ini key, for every run
    assert run()[1] == first


def test_one_settings_file_for_the_run(pytester):
    pytester.makefile(".yaml", iris="seed: 7\ninstance: PROD\ntools:\n  budget_s: 30\n")
    pytester.makepyfile(
        test_settings="""
        def test_settings(iris_settings, iris_sandbox):
            assert (iris_settings.seed, iris_settings.tools.budget_s) == (7, 30)
            assert iris_sandbox.instance_name == "PROD"
        """
    )
    run = functools.partial(pytester.runpytest_subprocess, "test_settings.py", timeout=120)
    run("--iris-config=iris.yaml").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\niris_config = iris.yaml\n")  # or the ini key
    run().assert_outcomes(passed=1)
    pytester.makefile(".yaml", bad="seed: soon\n")
    bad = run("--iris-config=bad.yaml")  # stops before any test, naming field and file
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*seed: Input should be a valid integer*"])


def test_cassettes_in_a_directory_of_your_choice(pytester):
    pytester.makepyfile(
        test_agent="""
        import openai
        import pytest


        @pytest.mark.iris_cassette
        def test_agent(iris_openai_server, iris_cassette_dir, iris_record_mode, iris_llm_settings):
            assert iris_cassette_dir.name == "recorded" and iris_record_mode == "once"
            assert iris_llm_settings.cassette_dir == "recorded"
            iris_openai_server.reply("disk", content="Free space on /iris/db.")
            with openai.OpenAI(base_url=iris_openai_server.base_url, api_key="unused") as client:
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "disk full?"}]
                )
        """
    )
    options = ("test_agent.py", "--iris-cassette-dir=recorded", "--iris-record-mode=once")
    pytester.runpytest_subprocess(*options, timeout=120).assert_outcomes(passed=1)
    assert list((pytester.path / "recorded").rglob("*.yaml"))  # recorded once, replayed after
    pytester.runpytest_subprocess(*options, timeout=120).assert_outcomes(passed=1)


def test_the_remediator_and_extra_scenarios_from_the_ini_file(pytester):
    pytester.makepyfile(
        runbook="""
        def leave_it(message, context):
            return None  # a remediator that never acts
        """
    )
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "iris_chaos_quiet.yaml").write_text(
        "name: quiet_host\n"
        'faults: [{at: 10, lines: ["0 [Generic.Event] Nothing to see here"]}]\n'
        "expect: {instance: running, restarted: false, no_tool_calls: [{tool: restart}]}\n"
    )
    pytester.makeini("[pytest]\niris_remediator = runbook:leave_it\niris_scenarios = scenarios\n")
    result = pytester.runpytest_subprocess("-v", timeout=120)  # no paths: the ini's scenarios
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*quiet_host PASSED*", "PASSED quiet_host ?runbook:leave_it? *"])


def test_the_remediator_on_the_command_line_and_the_html_report(pytester):
    pytester.makepyfile(
        runbook="""
        def leave_it(message, context):
            return None
        """
    )
    pytester.makefile(
        ".yaml",
        iris_chaos_quiet="name: quiet_host\n"
        'faults: [{at: 10, lines: ["0 [Generic.Event] Nothing to see here"]}]\n'
        "expect: {instance: running, restarted: false}\n",
    )
    result = pytester.runpytest_subprocess(
        "iris_chaos_quiet.yaml",
        "--iris-remediator=runbook:leave_it",
        "--iris-report=chaos.html",
        timeout=120,
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["PASSED quiet_host ?runbook:leave_it? *"])
    report = (pytester.path / "chaos.html").read_text()
    assert "quiet_host" in report and "runbook:leave_it" in report
