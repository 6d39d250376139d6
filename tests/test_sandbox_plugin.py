"""The pytest face: iris_sandbox, @pytest.mark.iris_host, the guard, snapshots.

One pytester session holds every case (each session loads the whole plugin,
which is what costs time); each case's outcome is checked by name.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CASES = """
import subprocess

import psutil
import pytest


@pytest.mark.iris_host(users=2, hugepages=700, memory_mb=8192,
                       kernel={"kernel.shmmax": 4294967296},
                       cpf={"config": {"globals": "0,0,512,0,0,0"}})
def test_state(iris_sandbox):
    assert iris_sandbox.connections() == 2
    assert iris_sandbox.read_sysctl("vm.nr_hugepages") == "700"
    assert iris_sandbox.read_sysctl("kernel.shmmax") == "4294967296"
    assert psutil.virtual_memory().total == 8192 * 1024 * 1024  # psutil reads the fake host
    assert "512MB global buffers" in iris_sandbox.log_text()
    assert "using Huge Pages" in iris_sandbox.log_text()


@pytest.mark.iris_host(running=False, user="irisowner", sudo="denied")
def test_down(iris_sandbox):
    assert iris_sandbox.status() == "down"
    assert not any(p.info["name"] == "irisdb" for p in psutil.process_iter(["name"]))
    out = iris_sandbox.sysctl("-w", "kernel.shmmax=1", root=False)
    assert out.stderr == 'sysctl: permission denied on key "kernel.shmmax"\\n'


def test_default(iris_sandbox):
    assert iris_sandbox.status() == "running"
    assert iris_sandbox.connections() == 0


def test_escape(iris_sandbox):
    subprocess.run(["sysctl", "-n", "kernel.shmmax"])


@pytest.mark.iris_host(shmmax=1)
def test_bad_marker(iris_sandbox):
    pass


@pytest.mark.iris_host(users=1)
def test_restart_snapshot(iris_sandbox):
    before = iris_sandbox.snapshot()
    assert not (iris_sandbox.snapshot() - before)
    iris_sandbox.sysctl("-w", "kernel.shmmax=8589934592")
    iris_sandbox.iris("stop", "IRIS", "quietly", "restart")
    change = iris_sandbox.snapshot() - before
    assert change.kernel == {"kernel.shmmax": (before.kernel["kernel.shmmax"], "8589934592")}
    assert change.status is None  # running before and after
    assert change.connections == (1, 0)
    assert {role for _, role in change.stopped.values()} >= {"control", "user_job"}
    assert {role for _, role in change.started.values()} >= {"control", "write_daemon"}
    assert any("Allocated" in line for line in change.new_log_lines)
    assert "kernel.shmmax" in change.summary()
"""


def _status(result: pytest.RunResult, name: str) -> str:
    for line in result.outlines:
        if line.endswith(f"::{name}") or f"::{name} " in line:
            return line.split()[0]
    raise AssertionError(f"{name} not in the report:\n" + "\n".join(result.outlines))


def test_fixture_marker_guard_and_snapshots(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_cases=CASES)
    outcome = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rA")
    # the marker sets the starting state; the fixture points psutil at the host
    assert _status(outcome, "test_state") == "PASSED"
    assert _status(outcome, "test_down") == "PASSED"
    assert _status(outcome, "test_default") == "PASSED"
    # the guard fails a test that reaches for the real sysctl
    assert _status(outcome, "test_escape") == "FAILED"
    outcome.stdout.fnmatch_lines(["*ContainmentError: sandbox containment*real host's 'sysctl'*"])
    # a misspelt marker keyword is a usage error naming it
    assert _status(outcome, "test_bad_marker") == "ERROR"
    outcome.stdout.re_match_lines(
        [r".*test_bad_marker: @pytest.mark.iris_host: unknown keyword 'shmmax'; allowed: .*"]
    )
    # snapshots subtract into what a restart changed
    assert _status(outcome, "test_restart_snapshot") == "PASSED"


def test_settings_give_the_defaults_and_the_marker_wins(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".yaml", iris="sandbox:\n  total_ram_mb: 4096\n  user: irisowner\n  sudo: denied\n"
    )
    pytester.makepyfile(
        """
        import pytest

        def test_from_settings(iris_sandbox):
            state = iris_sandbox.state()
            assert (state.total_ram_mb, state.user, state.sudo) == (4096, "irisowner", "denied")

        @pytest.mark.iris_host(memory_mb=2048, sudo="nopasswd")
        def test_marker_wins(iris_sandbox):
            state = iris_sandbox.state()
            assert (state.total_ram_mb, state.user, state.sudo) == (2048, "irisowner", "nopasswd")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--iris-config", "iris.yaml")
    result.assert_outcomes(passed=2)


def test_marker_and_kwargs_fixture_choose_the_version(pytester: pytest.Pytester) -> None:
    # item 6: @pytest.mark.iris_host(version=...) and iris_host_kwargs give the version's console
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def iris_host_kwargs():
            return {"version": "2022.1", "cpf": {"config": {"globals": "0,0,0,0,0,0"}}}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_from_kwargs(iris_sandbox):
            assert iris_sandbox.state().instances["IRIS"].version == "2022.1.0.140.0"
            out = iris_sandbox.run(["iris", "stop", "IRIS", "restart"]).stdout
            assert "Local license key file not found.\\n" in out
            assert "Copyright (c) 1986-2022 by InterSystems Corporation\\n" in out

        @pytest.mark.iris_host(version="2020.4", timezone="Asia/Tokyo")
        def test_marker_wins(iris_sandbox):
            out = iris_sandbox.run(["iris", "stop", "IRIS", "restart"]).stdout
            assert "Automatically configuring buffers\\n" in out
            assert "MB shared memory: " in out and "Copyright (c) 1986-2020" in out
            assert iris_sandbox.now().utcoffset().total_seconds() == 9 * 3600

        @pytest.mark.iris_host(version="1999.1")
        def test_unknown(iris_sandbox):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.re_match_lines(
        [r".*IRIS version '1999\.1' is not known to the sandbox; use one of 2020\.1, 2020\.4.*"]
    )
