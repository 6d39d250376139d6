"""The pytest face: iris_sandbox, @pytest.mark.iris_host, snapshots (run through pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_fixture_and_marker_set_the_starting_state(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
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
            out = iris_sandbox.run(["sudo", "-n", "sysctl", "-w", "kernel.shmmax=1"])
            assert out.returncode == 1

        def test_default(iris_sandbox):
            assert iris_sandbox.status() == "running"
            assert iris_sandbox.connections() == 0
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_guard_fails_a_test_that_escapes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import subprocess

        def test_escape(iris_sandbox):
            subprocess.run(["sysctl", "-n", "kernel.shmmax"])
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ContainmentError: sandbox containment*real host's 'sysctl'*"])


def test_unknown_marker_keyword_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.iris_host(shmmax=1)
        def test_x(iris_sandbox):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.re_match_lines([r".*unknown iris_host keyword\(s\) \['shmmax'\].*"])


def test_snapshot_diff_names_what_a_restart_changed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.iris_host(users=1)
        def test_restart(iris_sandbox):
            before = iris_sandbox.snapshot()
            assert not (iris_sandbox.snapshot() - before)
            iris_sandbox.run(["sysctl", "-w", "kernel.shmmax=8589934592"])
            iris_sandbox.run(["iris", "stop", "IRIS", "quietly", "restart"])
            change = iris_sandbox.snapshot() - before
            assert change.kernel == {"kernel.shmmax": (before.kernel["kernel.shmmax"], "8589934592")}
            assert change.status is None  # running before and after
            assert change.connections == (1, 0)
            assert {role for _, role in change.stopped.values()} >= {"control", "user_job"}
            assert {role for _, role in change.started.values()} >= {"control", "write_daemon"}
            assert any("Allocated" in line for line in change.new_log_lines)
            assert "kernel.shmmax" in change.summary()
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
