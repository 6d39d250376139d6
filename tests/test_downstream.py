"""A user's own project, run through the installed plugin as a new user would write it.

Everything here follows the README and docs/ only: the user's remediator
(a class), log tailer, webhook publisher and LLM client, their own chaos
scenario file, settings from the YAML file their pytest.ini names, and the
mistakes a user makes in marker keywords. Each part found a defect once; the
test keeps it fixed (see each assertion's comment).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytester_support import run_cli

pytest.importorskip("openai")

REMEDIATOR = '''
class AcmeRemediator:
    """Raises locksiz once on a lock-table message; restarts once on a write-daemon death."""

    def __init__(self):
        self.done = set()

    def __call__(self, message, context):
        if message.text.startswith("LockTable") and "lock" not in self.done:
            self.done.add("lock")
            return [{"tool": "cpf", "action": "set", "dry_run": False,
                     "parameters": {"changes": {"config.locksiz": "33554432"}}}]
        return None
'''

TAILER = """
class Tailer:
    def __init__(self, path):
        self.path, self.offset, self.buf = path, 0, ""

    def poll(self):
        with open(self.path) as f:
            f.seek(self.offset)
            data = f.read()
            self.offset = f.tell()
        self.buf += data
        *lines, self.buf = self.buf.split("\\n")
        return lines
"""

SCENARIO = """\
name: acme_lock
title: ACME lock table incident
host: {instance: running, users: 2, cpf: {config: {locksiz: 16777216}}}
steady_state: {instance: running}
faults:
  - {at: 10, sequence: lock_table, params: {peak: 98}}
expect:
  within_s: 60
  tool_calls: [{tool: cpf, action: set, status: success}]
  no_tool_calls: [{tool: restart}]
  cpf: {config: {locksiz: {min: 33554432}}}
"""

TESTS = """
import json
import urllib.request
from datetime import datetime

import openai
import pytest

from acme.remediator import AcmeRemediator
from acme.tailer import Tailer
from pytest_iris import IRISMessage, Severity
from pytest_iris.testing import assert_scenario_passed


@pytest.mark.iris_log("startup", "lock_table:peak=99", count=300)
def test_my_tailer(iris_log):
    lines = Tailer(iris_log.path).poll()
    assert lines == iris_log.text().splitlines()
    assert any("LockTable Alert" in line for line in lines)


def test_my_webhook(iris_endpoint):
    iris_endpoint.expect("POST", "/hooks/iris", json={"sev": 2, "msg": "Disk full"}
                         ).respond_with_json({"ok": True}, status=202)
    request = urllib.request.Request(
        iris_endpoint.url + "/hooks/iris", data=json.dumps({"sev": 2, "msg": "Disk full"}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert json.loads(reply.read()) == {"ok": True}


def test_my_llm_client(iris_openai_server):
    iris_openai_server.reply("Startup aborted", content="Raise kernel.shmmax.")
    with openai.OpenAI(base_url=iris_openai_server.base_url, api_key="unused") as client:
        done = client.chat.completions.create(
            model="any", messages=[{"role": "user", "content": "** Startup aborted **"}])
    assert done.choices[0].message.content == "Raise kernel.shmmax."


def test_my_settings(iris_settings):
    assert (iris_settings.seed, iris_settings.sandbox.total_ram_mb) == (11, 32768)


@pytest.mark.iris_scenario("lock_table_full")
def test_my_remediator_class(iris_chaos):
    # the README: a remediator "may be a function or a class (instantiated once per
    # scenario run)"; handing run() the class used to call the class with each message
    journal = iris_chaos.run(AcmeRemediator)
    assert_scenario_passed(journal)
    assert journal.remediator == "acme.remediator:AcmeRemediator"


@pytest.mark.iris_cassette(nmae="advice")
def test_cassette_keyword_typo(iris_cassette):
    pass


@pytest.mark.iris_llm(incidents=("lock_tabel",))
def test_llm_incident_typo(iris_llm_log):
    pass


@pytest.mark.iris_llm(incidnets=("lock_table",))
def test_llm_keyword_typo(iris_llm_log):
    pass
"""


def _project(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\n"
        "iris_config = iris.yaml\n"
        "iris_remediator = acme.remediator:AcmeRemediator\n"
        "pythonpath = .\n"
    )
    (pytester.path / "iris.yaml").write_text("seed: 11\nsandbox: {total_ram_mb: 32768}\n")
    package = pytester.path / "acme"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "remediator.py").write_text(REMEDIATOR)
    (package / "tailer.py").write_text(TAILER)
    (pytester.path / "iris_chaos_acme_lock.yaml").write_text(SCENARIO)
    (pytester.path / "test_acme.py").write_text(TESTS)


def test_a_users_project_runs_and_its_typos_are_one_line_errors(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    # in a subprocess, as a user runs it: an in-process run imports the openai/httpx stack
    # afresh and pytester then drops it from sys.modules, so a later test of this worker got
    # a second copy whose exceptions the first copy's handlers did not catch
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=6, errors=3)
    out = result.stdout.str()
    assert "PASSED iris_chaos_acme_lock.yaml::acme_lock" in out
    # a misspelt keyword was reported as "got None", not named
    for line in (
        "test_acme.py::test_cassette_keyword_typo: iris_cassette takes one argument, name "
        "(a cassette file name); got args (), keywords ['nmae'] (unknown: nmae)",
        "test_acme.py::test_llm_incident_typo: iris_llm incidents: unknown ['lock_tabel']; known: ",
        "test_acme.py::test_llm_keyword_typo: iris_llm takes keywords incidents and count only; "
        "got unknown ['incidnets']",
    ):
        assert line in out


def test_cpf_command_errors_are_one_line(tmp_path: Path) -> None:
    """``pytest-iris cpf`` printed its JSON events (info and warning) among a person's lines."""
    cpf = tmp_path / "iris.cpf"
    cpf.write_text("[config]\nglobals=0,0,32,0,0,0\nlocksiz=16777216\n")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(tmp_path, "cpf", *args, env={})  # no PYTEST_IRIS_TOOLS__LOG_LEVEL

    bad = cli("set", str(cpf), "globalz=5")
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [bad.stderr.strip()] and bad.stderr.startswith(
        "pytest-iris cpf set: unknown parameter 'globalz'"
    )
    good = cli("validate", str(cpf))
    assert (good.returncode, good.stderr) == (0, "")
    verbose = run_cli(
        tmp_path, "cpf", "validate", str(cpf), env={"PYTEST_IRIS_TOOLS__LOG_LEVEL": "info"}
    )
    assert '"event": "cpf.validated"' in verbose.stderr  # still there when asked for


UNEXPECTED = """
import urllib.error
import urllib.request

import pytest


def test_wrong_body(iris_endpoint):
    iris_endpoint.expect("POST", "/hooks", json={"sev": 2}).respond_with_json({"ok": True})
    request = urllib.request.Request(iris_endpoint.url + "/hooks", data=b'{"sev": 3}',
                                     headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)


@pytest.mark.iris_endpoint_faults(fial_next=2)
def test_fault_typo(iris_endpoint):
    pass


@pytest.mark.iris_cassette("missing")
def test_missing_cassette(iris_openai_server):
    with pytest.raises(Exception):  # no cassette, replay only: the request is refused
        urllib.request.urlopen(iris_openai_server.base_url + "/models", timeout=10)
"""


def test_teardown_failures_print_once(pytester: pytest.Pytester) -> None:
    """A fixture's failure was raised inside its except block: pytest printed it twice, chained."""
    pytester.makepyfile(test_unexpected=UNEXPECTED)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=3)
    # the short summary repeats each message as wide as the terminal allows: count the reports
    out = result.stdout.str().split("short test summary info")[0]
    assert "During handling of the above exception" not in out
    assert out.count("received requests nobody expected") == 1
    assert out.count("iris_endpoint_faults: unknown endpoint fault(s) fial_next") == 1
    assert out.count("missing.yaml does not exist and record mode 'none' only replays") == 1


def test_output_paths_are_named_and_checked_first(tmp_path: Path) -> None:
    """A bad --json named the hidden temporary file, and only after every scenario had run."""

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(tmp_path, *args, env={})

    (tmp_path / "out").mkdir()
    for option in ("--json", "--report"):
        bad = cli("chaos", "license_limit", option, "out")
        assert (bad.returncode, bad.stdout) == (2, "")  # nothing ran
        assert bad.stderr == f"pytest-iris chaos: {option} out: is a directory (give a file name)\n"
    missing = cli("chaos", "license_limit", "--json", "nowhere/j.json")
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr.endswith("--json nowhere/j.json: directory nowhere does not exist\n")
    (tmp_path / "afile").write_text("")
    keep = cli("chaos", "license_limit", "--keep", "afile")
    assert (keep.returncode, keep.stdout) == (2, "")
    assert keep.stderr == (
        "pytest-iris chaos: --keep afile: is not a directory (give a directory to keep the hosts in)\n"
    )

    # a "directory" that is a file: the error names the file asked for, not the temporary one
    from pytest_iris.atomic import write_atomic

    (tmp_path / "plain").write_text("")
    with pytest.raises(NotADirectoryError) as caught:
        write_atomic(tmp_path / "plain" / "x.log", "line\n")
    assert caught.value.filename == str(tmp_path / "plain" / "x.log")
