"""How-to examples of docs/limits.md: bad input is one line on stderr and exit status 2."""

import subprocess
import sys


def pytest_iris(*args):
    return subprocess.run(
        [sys.executable, "-m", "pytest_iris", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_value_past_its_maximum_is_one_line_and_exit_2():
    done = pytest_iris("generate", "--count", "100000000000", "-o", "big.log")
    assert done.returncode == 2
    assert done.stderr == (
        "pytest-iris generate: argument --count: '100000000000': a whole number in "
        "0..10000000 (see pytest-iris generate --help)\n"
    )
    done = pytest_iris("generate", "--sequence", "license_limit:times=1000000000")
    assert done.returncode == 2
    assert done.stderr == (
        "pytest-iris generate: sequence 'license_limit': times=1000000000: allowed 1..1000\n"
    )
