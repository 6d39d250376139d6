"""The value pools ship precomputed: no Faker at run time, and the file is what Faker gives."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.generation import pools
from pytest_iris.generation.pools import POOL_SETS, POOL_SIZE, build_pools, faker_pools


def test_shipped_file_is_what_regeneration_gives() -> None:
    """Fails when Faker (the dev extra pins it installed) would write a different file."""
    import faker  # the dev extra installs it; a missing Faker is an error here, not a skip

    assert faker.VERSION
    assert pools.data_path().read_text("utf-8") == pools.render_data(), (
        "pools.json is stale: run `python -m pytest_iris.generation.pools`"
    )


def test_every_shipped_set_equals_faker_for_that_seed() -> None:
    for seed in (0, 17, POOL_SETS - 1):
        assert build_pools(seed) == faker_pools(seed)
        assert len(build_pools(seed).users) == POOL_SIZE


def test_check_command_reports_up_to_date_and_rejects_bad_arguments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert pools.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert pools.main(["--bogus"]) == 2
    assert "usage: python -m pytest_iris.generation.pools" in capsys.readouterr().err


def _run_without_faker(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where ``import faker`` fails, as without the extra."""
    prelude = "import sys; sys.modules['faker'] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, check=False
    )


def test_a_stream_is_generated_without_faker_and_never_imports_it() -> None:
    code = (
        "from pytest_iris.generation import LogStream\n"
        "text = LogStream(7, count=300, sequences=['startup']).text()\n"
        "assert sys.modules['faker'] is None\n"
        "print(len(text.splitlines()))\n"
    )
    done = _run_without_faker(code)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 300


def test_same_stream_with_and_without_faker_installed() -> None:
    from pytest_iris.generation import LogStream

    here = LogStream(11, count=200, sequences=()).text()
    done = _run_without_faker(
        "from pytest_iris.generation import LogStream\n"
        "sys.stdout.write(LogStream(11, count=200, sequences=()).text())\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == here


def test_pools_beyond_the_shipped_ones_name_the_extra_without_faker() -> None:
    done = _run_without_faker(
        f"from pytest_iris.generation.pools import build_pools\nbuild_pools({POOL_SETS + 5})\n"
    )
    assert done.returncode != 0
    assert "pip install 'pytest-iris[faker]'" in done.stderr


def test_unknown_placeholder_kind_lists_the_known() -> None:
    import random

    with pytest.raises(ConfigError, match=r"unknown placeholder kind 'colour'; known: .*user"):
        build_pools(0).draw("colour", random.Random(0), {})
