"""A new user's bad input: one line naming what, where and the allowed values (issue 15).

Each case is what a trial user typed; before the fix it gave a bare ``invalid int
value``, a traceback without the test's name, exit 1, or a JSON event first.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytester_support import assert_errors_name_their_tests, run_cli, run_user_tests


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command, with only ``env`` for PYTEST_IRIS_* variables."""
    return run_cli(tmp_path, *args, env=env)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("generate", "--count", "abc"),
            "argument --count: 'abc': a whole number in 0..10000000",
        ),
        (
            ("generate", "--count", "20000000"),
            "argument --count: '20000000': a whole number in 0..10000000",
        ),
        (
            ("generate", "--rate", "0"),
            "argument --rate: '0': a number above 0, at most 1000000",
        ),
        (
            ("generate", "--rate", "nan"),
            "argument --rate: 'nan': a number above 0, at most 1000000",
        ),
        (("generate", "--jitter", "2"), "argument --jitter: '2': a number in 0..1"),
        (
            ("generate", "--seed", "-1"),
            "argument --seed: '-1': a whole number in 0..9223372036854775807",
        ),
        (
            ("memory", "--ram-mb", "x"),
            "argument --ram-mb: 'x': a whole number in 0..67108864",
        ),
        (
            ("memory", "--gmheap-kb", "-5"),
            "argument --gmheap-kb: '-5': a whole number in 0..68719476736",
        ),
        (
            ("chaos", "--explore", "0"),
            "argument --explore: '0': a whole number of examples in 1..100000",
        ),
        (
            ("chaos", "--explore", "5", "-n", "many"),
            "argument -n: 'many': a whole number of workers in 0..256",
        ),
        (
            ("cpf", "show", "x.cpf", "--ram-mb", "0"),
            "argument --ram-mb: '0': a whole number in 1..",
        ),
        (
            ("cpf", "rollback", "x.cpf", "--keep-backups", "0"),
            "argument --keep-backups: '0': a whole number in 1..10000",
        ),
        (
            ("kernel", "plan", "--instances", "0"),
            "argument --instances: '0': a whole number in 1..1000",
        ),
        (
            ("kernel", "plan", "--shared-memory", "lots"),
            "argument --shared-memory: 'lots': a whole number in 1..",
        ),
        (
            ("kernel", "apply", "--margin-mb", "-1"),
            "argument --margin-mb: '-1': a whole number in 0..",
        ),
    ],
)
def test_numeric_options_name_their_range(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    """``--count abc`` said ``invalid int value`` and ``--rate 0`` gave no maximum."""
    result = _cli(tmp_path, *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert expected in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_kernel_root_that_does_not_exist_is_bad_input(tmp_path: Path) -> None:
    """``kernel plan --root /nonexistent`` exited 1 with 'cannot read kernel.sem'."""
    missing = tmp_path / "nonexistent"
    for action in ("plan", "apply"):
        result = _cli(tmp_path, "kernel", action, "--root", str(missing))
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == (
            f"pytest-iris kernel {action}: --root {missing}: does not exist "
            "(give the host root: / for this host, or a sandbox's root)\n"
        )


def test_restart_failure_is_one_line_without_events(tmp_path: Path) -> None:
    """``pytest-iris restart`` printed a JSON warning event before its failure line."""
    root = tmp_path / "host"
    root.mkdir()
    quiet = _cli(tmp_path, "restart", "--root", str(root), PATH="/nonexistent-bin")
    assert quiet.returncode == 1
    assert len(quiet.stderr.splitlines()) == 1, quiet.stderr
    assert quiet.stderr.startswith("pytest-iris restart: failure: ")
    asked = _cli(
        tmp_path,
        "restart",
        "--root",
        str(root),
        PATH="/nonexistent-bin",
        PYTEST_IRIS_TOOLS__LOG_LEVEL="warning",
    )
    assert '"event": "restart.' in asked.stderr  # the events are there when asked for


IRIS_LOG_TYPOS = """
import pytest

@pytest.mark.iris_log(cuont=10)
def test_typo(iris_log): pass

@pytest.mark.iris_log(live={"rat": 5})
def test_live_typo(iris_live_log): pass

@pytest.mark.iris_log(live=[("rate", 5)])
def test_live_not_dict(iris_live_log): pass

@pytest.mark.iris_log(count="lots")
def test_count(iris_log): pass

@pytest.mark.iris_log("startp")
def test_sequence(iris_log): pass

@pytest.mark.iris_log("lock_table:peak=lots")
def test_param(iris_log): pass

@pytest.mark.iris_log(start="yesterday")
def test_start(iris_live_log): pass

@pytest.mark.iris_log(rate=0)
def test_rate(iris_log): pass

@pytest.mark.iris_log("startup", seed=7, count=60, live={"rate": 5000})
def test_documented_keywords_work(iris_log): assert iris_log.path.exists()
"""


def test_iris_log_marker_errors_name_the_test(pytester: pytest.Pytester) -> None:
    """``iris_log(cuont=...)`` was a ConfigError traceback naming neither test nor marker, and
    listing internal names (catalog, context, registry) but not seed and live."""
    result = run_user_tests(pytester, IRIS_LOG_TYPOS, "-p", "no:cacheprovider", passed=1, errors=8)
    out = result.stdout.str()
    assert_errors_name_their_tests(
        out,
        "iris_log",
        {
            "test_typo": (
                "unknown keyword 'cuont'; allowed: alerts, count, install_dir, instance, jitter, "
                "live, rate, seed, sequences, start, structured, version; did you mean count?"
            ),
            "test_live_typo": "live: unknown option 'rat'; allowed: rate, rotate_every, ",
            "test_live_not_dict": "live=[('rate', 5)]: must be a dict of writer options (rate, ",
            "test_count": "count='lots': must be an integer in 0..10000000",
            "test_sequence": "unknown log sequence 'startp'; available: startup, ",
            "test_param": "sequence 'lock_table': peak='lots': must be an integer in 0..1000000",
            "test_start": "start 'yesterday' is not an ISO 8601 time",
            "test_rate": "rate=0: allowed a number above 0, at most 1000000",
        },
    )
    for internal in ("catalog", "context", "registry"):
        assert "allowed: alerts, count, install_dir, instance, jitter, live, rate, seed" in out
        assert f", {internal}," not in out
    assert "partial_pause; did you mean rate?" in out
    assert "Traceback" not in out and "ConfigError" not in out
    assert "During handling of the above exception" not in out  # each error once, not chained


IRIS_HOST_TYPOS = """
import pytest

@pytest.mark.iris_host(kernel={"kernel.shmmx": 1})
def test_kernel(iris_sandbox): pass

@pytest.mark.iris_host(kernel={"kernel.shmmax": "lots"})
def test_kernel_value(iris_sandbox): pass

@pytest.mark.iris_host(usres=3)
def test_keyword(iris_sandbox): pass

@pytest.mark.iris_host(memory_mb=-5)
def test_memory(iris_sandbox): pass

@pytest.mark.iris_host(sudo="yes")
def test_sudo(iris_sandbox): pass

@pytest.mark.iris_host(hugepages="many")
def test_hugepages(iris_sandbox): pass

@pytest.mark.iris_host(version="1999.1")
def test_version(iris_sandbox): pass

@pytest.mark.iris_host(start="yesterday")
def test_start(iris_sandbox): pass

@pytest.mark.iris_host(cpf={"config": {"globals": "lots"}})
def test_cpf(iris_sandbox): pass

@pytest.mark.iris_host(users=10**9)
def test_users(iris_sandbox): pass

@pytest.mark.iris_host(users=2, memory_mb=8192, kernel={"kernel.shmmax": 2**33})
def test_documented_keywords_work(iris_sandbox): pass
"""


def test_iris_host_marker_errors_name_the_test(pytester: pytest.Pytester) -> None:
    """``iris_host(kernel={"kernel.shmmx": 1})`` was a SandboxError traceback naming neither
    the test nor the marker."""
    result = run_user_tests(
        pytester, IRIS_HOST_TYPOS, "-p", "no:cacheprovider", passed=1, errors=10
    )
    out = result.stdout.str()
    assert_errors_name_their_tests(
        out,
        "iris_host",
        {
            "test_kernel": "kernel=...: unknown tunable 'kernel.shmmx'; known: fs.file-max, ",
            "test_kernel_value": (
                "kernel=...: kernel.shmmax must be a non-negative number, not 'lots'"
            ),
            "test_keyword": "unknown keyword 'usres'; allowed: cpf, cpf_text, hugepages, ",
            "test_memory": "memory_mb=-5: allowed a whole number in 1..67108864",
            "test_sudo": "sudo=... must be 'nopasswd', 'password' or 'denied', not 'yes'",
            "test_hugepages": "hugepages='many': allowed a whole number in 0..",
            "test_version": "IRIS version '1999.1' is not known to the sandbox; use one of ",
            "test_start": "start='yesterday': must be a datetime.datetime",
            # a CPF the start cannot use was a traceback; an absurd count built until killed
            "test_cpf": "iris start cannot use ",
            "test_users": "users=... must be an int in 0..1000, not 1000000000",
        },
    )
    assert "/iris-host/usr/irissys/iris.cpf: CPF line " in out
    assert "[config]globals='lots': not a whole number or comma-separated whole numbers" in out
    assert "vm.zone_reclaim_mode; did you mean kernel.shmmax?" in out
    assert "web_users; did you mean users?" in out
    assert "Traceback" not in out and "SandboxError" not in out


def test_misspelt_environment_variable_stops_the_start(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PYTEST_IRIS_SEEED=1`` was silently ignored (nested typos were already caught)."""
    expected = (
        "environment variable PYTEST_IRIS_SEEED is not a pytest-iris setting; "
        "did you mean PYTEST_IRIS_SEED? (settings: PYTEST_IRIS_SEED, PYTEST_IRIS_INSTANCE, "
    )
    cli = _cli(tmp_path, "chaos", "--list", PYTEST_IRIS_SEEED="1")
    assert (cli.returncode, cli.stdout) == (2, "")
    assert cli.stderr.startswith("pytest-iris chaos: " + expected)
    assert len(cli.stderr.splitlines()) == 1
    # the documented variables that are not settings pass, and so do nested settings
    fine = _cli(
        tmp_path,
        "chaos",
        "--list",
        PYTEST_IRIS_SEED="3",
        PYTEST_IRIS_CONTAINMENT="refuse",
        PYTEST_IRIS_CI_TIMEOUT="60",
        PYTEST_IRIS_TOOLS__LOG_LEVEL="error",
    )
    assert fine.returncode == 0, fine.stderr
    pytester.makepyfile(test_user="def test_one(): pass")
    monkeypatch.setenv("PYTEST_IRIS_SEEED", "1")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert expected in result.stderr.str()
